"""Configuration: typed, validated, and production refuses insecure defaults."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from src.config import ConfigError, load_settings, sqlalchemy_url

ROOT = Path(__file__).resolve().parents[2]
STRONG = "s" * 40


def test_development_defaults_match_the_specification() -> None:
    settings = load_settings(environ={})
    assert settings["SCHEDULER_TIMEZONE"] == "Asia/Tokyo"
    assert settings["JWT_ACCESS_TOKEN_EXPIRES"] == 3600
    assert settings["JWT_REFRESH_TOKEN_EXPIRES"] == 2592000
    assert settings["PORT"] == 5001
    assert settings["EXPOSE_ERROR_DETAILS"] is True
    assert settings["ALLOW_DEFAULT_ADMIN"] is True
    assert settings["JWT_SECRET_KEY"] == settings["SECRET_KEY"]
    assert settings["SQLALCHEMY_DATABASE_URI"].endswith("instance/cron_jobs.db")


def test_production_with_strong_secrets_turns_conveniences_off() -> None:
    settings = load_settings(environ={"FLASK_ENV": "production", "SECRET_KEY": STRONG})
    assert settings["EXPOSE_ERROR_DETAILS"] is False
    assert settings["ALLOW_DEFAULT_ADMIN"] is False
    assert settings["WEBHOOK_ALLOW_PRIVATE_TARGETS"] is False
    assert settings["DEFAULT_ADMIN_PASSWORD"] is None


@pytest.mark.parametrize("environ, variable", [
    ({"FLASK_ENV": "production"}, "SECRET_KEY"),
    ({"FLASK_ENV": "production", "SECRET_KEY": "dev-secret-key"}, "SECRET_KEY"),
    ({"FLASK_ENV": "production", "SECRET_KEY": "short"}, "SECRET_KEY"),
    ({"FLASK_ENV": "production", "SECRET_KEY": STRONG, "JWT_SECRET_KEY": "short"}, "JWT_SECRET_KEY"),
    ({"FLASK_ENV": "production", "SECRET_KEY": STRONG, "ALLOW_DEFAULT_ADMIN": "true"}, "DEFAULT_ADMIN_PASSWORD"),
])
def test_production_refuses_default_or_short_secrets(environ: dict[str, str], variable: str) -> None:
    with pytest.raises(ConfigError, match=variable):
        load_settings(environ=environ)


@pytest.mark.parametrize("name, value", [
    ("PORT", "http"), ("PORT", "70000"), ("MAIL_ENABLED", "maybe"), ("SCHEDULER_TIMEZONE", "Mars/Olympus"),
    ("GITHUB_API_URL", "ftp://example.com"), ("WEBHOOK_TIMEOUT_SECONDS", "0"), ("LOG_FORMAT", "xml"),
])
def test_invalid_values_name_the_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        load_settings(environ={name: value})


def test_database_urls_pick_maintained_drivers() -> None:
    assert sqlalchemy_url("mysql://root@127.0.0.1/db").startswith("mysql+pymysql://")
    assert sqlalchemy_url("postgresql://u@h/db").startswith("postgresql+psycopg://")
    assert sqlalchemy_url("sqlite:////abs/x.db") == "sqlite:////abs/x.db"


def test_production_server_exits_non_zero_with_one_clear_line() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SECRET_KEY", "JWT_SECRET_KEY"))}
    env.update({"FLASK_ENV": "production", "SECRET_KEY": "dev-secret-key"})
    result = subprocess.run([sys.executable, "-m", "src", "serve"], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1
    assert "SECRET_KEY" in lines[0]


def test_env_example_documents_every_variable() -> None:
    from src.config import SETTINGS

    text = (ROOT / ".env.example").read_text()
    missing = [s.name for s in SETTINGS if f"{s.name}=" not in text]
    assert missing == []


def test_a_time_zone_directory_is_not_a_time_zone() -> None:
    with pytest.raises(ConfigError, match="SCHEDULER_TIMEZONE"):
        load_settings(environ={"SCHEDULER_TIMEZONE": "Asia"})
