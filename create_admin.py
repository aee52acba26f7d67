#!/usr/bin/env python3
"""Create an admin account, or reset an existing one (new password, role admin, active again).

    python create_admin.py                      # asks for username, email and password (not echoed)
    python create_admin.py --username ops --email ops@example.com --password 'a long passphrase'
    printf '%s\\n' "$PASSWORD" | python create_admin.py --username ops --email ops@example.com --password-stdin

It uses the server's settings (DATABASE_URL, `.env`) and applies pending migrations first. For an existing
username, --email is optional (the stored one is kept). Exit status: 0 done, 1 bad input, 2 bad configuration.
"""
from __future__ import annotations

import argparse
import getpass
import sys


class InputError(Exception):
    """Bad or missing input: one message for the person at the terminal."""


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Create or reset an admin account of the Cron Job Scheduler.")
    parser.add_argument("--username", help="login name (default when prompted: admin)")
    parser.add_argument("--email", help="email address (required for a new account)")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--password", help="the password (visible in the process list: prefer --password-stdin)")
    source.add_argument("--password-stdin", action="store_true", help="read the password from the first stdin line")
    return parser.parse_args(argv)


def _ask(prompt: str, default: str | None = None) -> str:
    answer = input(f"{prompt} [{default}]: " if default else f"{prompt}: ").strip()
    return answer or default or ""


def _password(args: argparse.Namespace, interactive: bool) -> str:
    if args.password is not None:
        return str(args.password)
    if args.password_stdin:
        line = sys.stdin.readline()
        if not line:
            raise InputError("--password-stdin was given but standard input is empty")
        return line.rstrip("\r\n")
    if not interactive:
        raise InputError("no password: pass --password-stdin (or --password), or run in a terminal to be asked")
    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Repeat password: "):
        raise InputError("the two passwords differ")
    return first


def _run(args: argparse.Namespace) -> str:
    from src.app import create_app
    from src.models import User
    from src.services.auth import create_or_reset_admin
    from src.services.users import find_by_username
    from src.utils.api_errors import ApiError
    from src.utils.db_migrations import upgrade_database

    app = create_app({"LOG_LEVEL": "warning"})
    upgrade_database(app)
    interactive = sys.stdin.isatty() and not args.password_stdin
    with app.app_context():
        username = args.username or (_ask("Username", "admin") if interactive else "")
        if not username:
            raise InputError("no username: pass --username, or run in a terminal to be asked")
        existing: User | None = find_by_username(username)
        email = args.email
        if email is None and existing is None:
            if not interactive:
                raise InputError(f"user {username!r} does not exist yet: pass --email to create it")
            email = _ask("Email")
        try:
            user, created = create_or_reset_admin(username, email, _password(args, interactive))
        except ApiError as exc:
            problems = "; ".join(f"{field}: {' '.join(found)}" for field, found in (exc.details or {}).items())
            raise InputError(problems or exc.message) from None
        if created:
            return f"Created admin {user.username!r} <{user.email}>."
        return f"Reset admin {user.username!r} <{user.email}>: new password, role admin, active."


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from src.config import ConfigError

    try:
        print(_run(args))
    except InputError as exc:
        print(f"create_admin: {exc}", file=sys.stderr)
        return 1
    except ConfigError as exc:
        print(f"create_admin: configuration error: {exc}", file=sys.stderr)
        return 2
    except (KeyboardInterrupt, EOFError):
        print("\ncreate_admin: cancelled", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
