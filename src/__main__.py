"""`python -m src [serve|scheduler|migrate]`: development server, scheduler-only process, or schema upgrade."""
from __future__ import annotations

import argparse
import sys

from src.config import ConfigError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m src", description="Cron Job Scheduler")
    parser.add_argument("command", nargs="?", default="serve", choices=("serve", "scheduler", "migrate"),
                        help="serve: API (and scheduler unless SCHEDULER_ENABLED=false); scheduler: scheduler only; "
                             "migrate: upgrade the database schema and exit")
    args = parser.parse_args(argv)
    try:
        from src.app import create_app, start_background_services
        from src.utils.db_migrations import upgrade_database

        app = create_app()
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    upgrade_database(app)
    if args.command == "migrate":
        return 0
    if args.command == "scheduler":
        from src.scheduler.runner import run_scheduler_only

        return run_scheduler_only(app)
    start_background_services(app)
    app.run(host=app.config["HOST"], port=app.config["PORT"], use_reloader=False, threaded=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
