"""Settings: every variable is read once from the environment (and `.env`), typed and checked at start-up.

Production (`FLASK_ENV=production`) flips the development conveniences off and refuses to start with a
default or short secret, so a forgotten variable fails loudly instead of running insecurely.
"""
from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dotenv import dotenv_values

PROJECT_ROOT = Path(__file__).resolve().parent.parent
INSTANCE_DIR = PROJECT_ROOT / "instance"
DEV_SECRET_KEY = "dev-secret-key"
DEV_ADMIN_PASSWORD = "admin123"
MIN_SECRET_LENGTH = 32


class ConfigError(ValueError):
    """A variable has a value the service cannot run with; the message names the variable."""


def _as_bool(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name} must be true or false, got {raw!r}")


def _as_int(minimum: int, maximum: int) -> Callable[[str, str], int]:
    def parse(name: str, raw: str) -> int:
        try:
            value = int(raw.strip())
        except ValueError:
            raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
        if not minimum <= value <= maximum:
            raise ConfigError(f"{name} must be between {minimum} and {maximum}, got {value}")
        return value

    return parse


def _as_float(minimum: float, maximum: float) -> Callable[[str, str], float]:
    def parse(name: str, raw: str) -> float:
        try:
            value = float(raw.strip())
        except ValueError:
            raise ConfigError(f"{name} must be a number, got {raw!r}") from None
        if not minimum <= value <= maximum:
            raise ConfigError(f"{name} must be between {minimum} and {maximum}, got {value}")
        return value

    return parse


def _as_str(name: str, raw: str) -> str:
    return raw.strip()


def _as_timezone(name: str, raw: str) -> str:
    try:
        ZoneInfo(raw.strip())
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ConfigError(f"{name} must be an IANA time zone such as Asia/Tokyo, got {raw!r}") from None
    return raw.strip()


def _as_url(name: str, raw: str) -> str:
    value = raw.strip().rstrip("/")
    if not value.startswith(("http://", "https://")):
        raise ConfigError(f"{name} must be an http(s) URL, got {raw!r}")
    return value


def _as_list(name: str, raw: str) -> list[str]:
    return [item.strip() for item in raw.split(",") if item.strip()]


def _as_choice(*choices: str) -> Callable[[str, str], str]:
    def parse(name: str, raw: str) -> str:
        value = raw.strip().lower()
        if value not in choices:
            raise ConfigError(f"{name} must be one of {', '.join(choices)}, got {raw!r}")
        return value

    return parse


@dataclass(frozen=True)
class Setting:
    """One environment variable: its parser and its development and production defaults (None = unset)."""

    name: str
    parse: Callable[[str, str], Any]
    dev: str | None
    prod: str | None
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting("FLASK_ENV", _as_choice("development", "production", "testing"), "development", "production",
            "development or production; production turns every convenience below off"),
    Setting("SECRET_KEY", _as_str, DEV_SECRET_KEY, None, "Flask secret key (production: required, 32+ chars)"),
    Setting("JWT_SECRET_KEY", _as_str, None, None, "JWT signing key (defaults to SECRET_KEY)"),
    Setting("JWT_ACCESS_TOKEN_EXPIRES", _as_int(60, 86400 * 7), "3600", "3600", "access token lifetime, seconds"),
    Setting("JWT_REFRESH_TOKEN_EXPIRES", _as_int(300, 86400 * 365), "2592000", "2592000",
            "refresh token lifetime, seconds"),
    Setting("DATABASE_URL", _as_str, "sqlite:///instance/cron_jobs.db", "sqlite:///instance/cron_jobs.db",
            "SQLAlchemy URL; a relative SQLite path lives in instance/"),
    Setting("CORS_ORIGINS", _as_list, "*", "", "allowed browser origins, comma-separated"),
    Setting("SCHEDULER_TIMEZONE", _as_timezone, "Asia/Tokyo", "Asia/Tokyo", "time zone of cron expressions"),
    Setting("SCHEDULER_ENABLED", _as_bool, "true", "true",
            "false runs an API-only process (another process schedules)"),
    Setting("SCHEDULER_MAX_WORKERS", _as_int(1, 500), "20", "20", "threads that call targets"),
    Setting("SCHEDULER_MISFIRE_GRACE_SECONDS", _as_int(1, 3600), "30", "30",
            "how late a fire time may still run; later ones are recorded as missed"),
    Setting("SCHEDULER_LEASE_SECONDS", _as_int(3, 600), "15", "15",
            "leader lease: a standby takes over this long after the leader dies"),
    Setting("EXECUTION_RETENTION_DAYS", _as_int(1, 36500), "90", "90", "executions older than this are deleted"),
    Setting("END_DATE_WARNING_DAYS", _as_int(0, 365), "7", "7", "warn owners this many days before end_date"),
    Setting("GITHUB_TOKEN", _as_str, None, None, "GitHub token with actions:write for workflow_dispatch"),
    Setting("GITHUB_API_URL", _as_url, "https://api.github.com", "https://api.github.com",
            "GitHub API base (a GitHub Enterprise Server URL works)"),
    Setting("GITHUB_DEFAULT_REF", _as_str, "main", "main", "ref dispatched when the job's metadata names none"),
    Setting("DEFAULT_GITHUB_OWNER", _as_str, None, None, "owner used when a job gives a repo without one"),
    Setting("WEBHOOK_TIMEOUT_SECONDS", _as_float(1, 300), "30", "30", "timeout of one target call"),
    Setting("WEBHOOK_SIGNING_SECRET", _as_str, None, None, "when set, webhooks carry X-Cron-Signature"),
    Setting("WEBHOOK_ALLOW_PRIVATE_TARGETS", _as_bool, "true", "false",
            "allow targets on loopback/private/link-local addresses"),
    Setting("MAIL_SERVER", _as_str, "smtp.gmail.com", "smtp.gmail.com", "SMTP server"),
    Setting("MAIL_PORT", _as_int(1, 65535), "587", "587", "SMTP port"),
    Setting("MAIL_USERNAME", _as_str, None, None, "SMTP username"),
    Setting("MAIL_PASSWORD", _as_str, None, None, "SMTP password"),
    Setting("MAIL_USE_TLS", _as_bool, "true", "true", "STARTTLS"),
    Setting("MAIL_USE_SSL", _as_bool, "false", "false", "implicit TLS"),
    Setting("MAIL_DEFAULT_SENDER", _as_str, "cron-scheduler@localhost", "cron-scheduler@localhost",
            "From: address"),
    Setting("MAIL_ENABLED", _as_bool, "true", "true", "false turns email off"),
    Setting("FRONTEND_BASE_URL", _as_url, "http://localhost:5173", "http://localhost:5173",
            "dashboard URL used in links"),
    Setting("NOTIFICATION_ALERT_INTERVAL_MINUTES", _as_int(0, 10080), "60", "60",
            "a job that keeps failing alerts on the first failure, then at most this often (0: every failure)"),
    Setting("NOTIFICATION_MAX_ATTEMPTS", _as_int(1, 50), "8", "8",
            "email/Slack delivery tries (exponential backoff from 30 s) before a delivery is marked failed"),
    Setting("NOTIFICATION_RETENTION_DAYS", _as_int(1, 36500), "30", "30",
            "read notifications and finished deliveries older than this are pruned"),
    Setting("EXPOSE_ERROR_DETAILS", _as_bool, "true", "false",
            "show exception details in 500 responses"),
    Setting("ALLOW_DEFAULT_ADMIN", _as_bool, "true", "false",
            "create user admin on first start"),
    Setting("DEFAULT_ADMIN_PASSWORD", _as_str, DEV_ADMIN_PASSWORD, None, "password of that default admin"),
    Setting("HOST", _as_str, "127.0.0.1", "0.0.0.0", "address the server listens on"),
    Setting("PORT", _as_int(1, 65535), "5001", "5001", "port the server listens on"),
    Setting("MAX_CONTENT_LENGTH", _as_int(1024, 1024 * 1024 * 1024), str(5 * 1024 * 1024),
            str(5 * 1024 * 1024), "largest request body, bytes (413 above)"),
    Setting("RATELIMIT_STORAGE_URI", _as_str, "memory://", "memory://",
            "Flask-Limiter storage; use redis:// with several processes"),
    Setting("TRUSTED_PROXY_COUNT", _as_int(0, 5), "0", "0",
            "reverse proxies in front that append X-Forwarded-For (client IP for login limits and logs)"),
    Setting("LOG_LEVEL", _as_choice("debug", "info", "warning", "error"), "info", "info", "log level"),
    Setting("LOG_FORMAT", _as_choice("text", "json"), "text", "json", "text or json log lines"),
    Setting("METRICS_TOKEN", _as_str, None, None, "when set, /metrics needs Authorization: Bearer <token>"),
)


def _production_checks(values: dict[str, Any]) -> None:
    for name in ("SECRET_KEY", "JWT_SECRET_KEY"):
        secret = values.get(name)
        if not secret:
            raise ConfigError(f"{name} must be set in production")
        if secret == DEV_SECRET_KEY or len(secret) < MIN_SECRET_LENGTH:
            raise ConfigError(f"{name} must be a random value of at least {MIN_SECRET_LENGTH} characters in production")
    if values["ALLOW_DEFAULT_ADMIN"] and (
        not values.get("DEFAULT_ADMIN_PASSWORD") or values["DEFAULT_ADMIN_PASSWORD"] == DEV_ADMIN_PASSWORD
    ):
        raise ConfigError("DEFAULT_ADMIN_PASSWORD must be set to a non-default value when ALLOW_DEFAULT_ADMIN is on in production")


def sqlalchemy_url(url: str) -> str:
    """Pick the maintained drivers (PyMySQL, psycopg 3) and anchor relative SQLite paths in instance/."""
    if url.startswith("sqlite:///") and not url.startswith("sqlite:////") and url != "sqlite:///:memory:":
        relative = url[len("sqlite:///"):]
        if relative.startswith("instance/"):
            relative = relative[len("instance/"):]
        return f"sqlite:///{INSTANCE_DIR / relative}"
    if url.startswith("mysql://") or url.startswith("mariadb://"):
        return "mysql+pymysql://" + url.split("://", 1)[1]
    if url.startswith("postgres://") or url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def load_settings(overrides: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Return the typed settings: overrides beat the environment, which beats `.env`, which beats defaults."""
    env_file = {k: v for k, v in dotenv_values(PROJECT_ROOT / ".env").items() if v is not None}
    source: dict[str, str] = {**env_file, **(os.environ if environ is None else environ)}
    overrides = dict(overrides or {})
    mode = str(overrides.get("FLASK_ENV") or source.get("FLASK_ENV") or "development").lower()
    production = mode == "production"
    values: dict[str, Any] = {}
    for setting in SETTINGS:
        if setting.name in overrides:
            values[setting.name] = overrides.pop(setting.name)
            continue
        raw = source.get(setting.name)
        if raw is None or raw.strip() == "":
            raw = setting.prod if production else setting.dev
        values[setting.name] = None if raw is None else setting.parse(setting.name, raw)
    values["JWT_SECRET_KEY"] = values["JWT_SECRET_KEY"] or values["SECRET_KEY"]
    if production:
        _production_checks(values)
    values.update(overrides)
    values["PRODUCTION"] = production
    values["SQLALCHEMY_DATABASE_URI"] = sqlalchemy_url(values["DATABASE_URL"])
    return values
