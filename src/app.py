"""Application factory: builds a configured app with no side effects beyond configuration.

Background work (migrations on start, admin bootstrap, the scheduler, the notification worker) is started by the
server entry points (`python -m src`, gunicorn's config) through `start_background_services`, never on import.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import event
from werkzeug.middleware.proxy_fix import ProxyFix

from src import __version__
from src.config import INSTANCE_DIR, load_settings
from src.extensions import Api, cors, jwt, limiter, mail, migrate
from src.models import db
from src.routes import register_blueprints
from src.routes.docs import init_api_docs
from src.utils.api_errors import register_error_handlers
from src.utils.auth import init_auth
from src.utils.db_migrations import compare_type
from src.utils.logging import init_logging
from src.utils.metrics import init_metrics
from src.utils.security_headers import init_security_headers

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """WAL lets readers run beside the writer; foreign keys make ON DELETE work; busy_timeout waits for locks."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _engine_options(uri: str) -> dict[str, Any]:
    if uri.startswith("sqlite"):
        return {"connect_args": {"timeout": 30, "check_same_thread": False}}
    # pool_pre_ping: MariaDB drops idle connections ("server has gone away").
    return {"pool_pre_ping": True, "pool_recycle": 1800, "pool_size": 10, "max_overflow": 20}


def _flask_config(settings: dict[str, Any]) -> dict[str, Any]:
    uri = settings["SQLALCHEMY_DATABASE_URI"]
    return {
        **settings,
        "ENV": settings["FLASK_ENV"],
        "SQLALCHEMY_ENGINE_OPTIONS": _engine_options(uri),
        "SQLALCHEMY_TRACK_MODIFICATIONS": False,
        "JWT_ACCESS_TOKEN_EXPIRES": timedelta(seconds=settings["JWT_ACCESS_TOKEN_EXPIRES"]),
        "JWT_REFRESH_TOKEN_EXPIRES": timedelta(seconds=settings["JWT_REFRESH_TOKEN_EXPIRES"]),
        "JWT_TOKEN_LOCATION": ["headers"],
        "JWT_ALGORITHM": "HS256",
        "JWT_DECODE_ALGORITHMS": ["HS256"],
        "MAIL_SUPPRESS_SEND": not settings["MAIL_ENABLED"],
        "RATELIMIT_HEADERS_ENABLED": True,
        "API_TITLE": "Cron Job Scheduler API",
        "API_VERSION": __version__,
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/api",
        "OPENAPI_JSON_PATH": "openapi.json",
        "API_SPEC_OPTIONS": {
            "components": {
                "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}
            },
            "security": [{"bearerAuth": []}],
        },
    }


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app; `config` overrides environment variables and Flask settings (tests pass DATABASE_URL etc.)."""
    settings = load_settings(config)
    app = Flask(__name__, instance_path=str(INSTANCE_DIR))
    app.config.from_mapping(_flask_config(settings))
    if settings["TRUSTED_PROXY_COUNT"]:
        # Only the entries our own proxies appended are believed; a client's forged X-Forwarded-For is not.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings["TRUSTED_PROXY_COUNT"])  # type: ignore[method-assign]
    app.json.sort_keys = False  # type: ignore[attr-defined]
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    init_logging(app)
    init_metrics(app)
    init_security_headers(app)

    db.init_app(app)
    if settings["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        with app.app_context():
            event.listen(db.engine, "connect", _sqlite_pragmas)
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIR), render_as_batch=True, compare_type=compare_type)
    init_auth(app, jwt)
    mail.init_app(app)
    origins = settings["CORS_ORIGINS"] or []
    cors.init_app(app, resources={r"/api/*": {"origins": origins}}, allow_headers=["Authorization", "Content-Type"],
                  expose_headers=["Retry-After", "X-Request-ID"])
    limiter.init_app(app)
    api = Api(app)
    register_error_handlers(app)
    register_blueprints(api)
    init_api_docs(app)
    return app


def start_background_services(app: Flask) -> None:
    """Start what a serving process runs beside requests (called by the server entry points, not tests)."""
    from src.scheduler.runner import start_scheduling
    from src.services.auth import ensure_default_admin
    from src.services.bootstrap import ensure_reference_data
    from src.services.notification_delivery import start_delivery_worker

    with app.app_context():
        ensure_reference_data()
        ensure_default_admin()
    start_delivery_worker(app)
    start_scheduling(app)
