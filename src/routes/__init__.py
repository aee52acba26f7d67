"""Blueprints. Each resource has its own module; `register_blueprints` is the one place they are mounted."""
from __future__ import annotations

from flask_smorest import Blueprint as SmorestBlueprint
from webargs.flaskparser import FlaskParser

from src.extensions import Api


class Parser(FlaskParser):
    """Invalid input is a 400 (the contract), not webargs' default 422."""

    DEFAULT_VALIDATION_STATUS = 400


class Blueprint(SmorestBlueprint):
    ARGUMENTS_PARSER = Parser()


def register_blueprints(api: Api) -> None:
    from src.routes.auth import blp as auth_blp
    from src.routes.categories import blp as categories_blp
    from src.routes.cron_tools import blp as cron_tools_blp
    from src.routes.executions import blp as executions_blp
    from src.routes.health import blp as health_blp
    from src.routes.jobs import blp as jobs_blp
    from src.routes.notifications import blp as notifications_blp
    from src.routes.pic_teams import blp as pic_teams_blp
    from src.routes.settings import blp as settings_blp
    from src.routes.users import blp as users_blp

    for blueprint in (health_blp, auth_blp, users_blp, categories_blp, pic_teams_blp, jobs_blp, cron_tools_blp,
                      notifications_blp, settings_blp, executions_blp,):
        api.register_blueprint(blueprint)
