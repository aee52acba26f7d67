"""The default development admin and `create_admin.py` (run as a real subprocess on a temporary SQLite file)."""
from __future__ import annotations

import io
import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from passlib.hash import pbkdf2_sha256

from src.models import User, db
from src.services.auth import ensure_default_admin
from test.conftest import World

ROOT = Path(__file__).resolve().parents[2]


def test_the_default_admin_is_created_once_with_a_warning(ctx: Flask, caplog: pytest.LogCaptureFixture,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(ctx.config, "ALLOW_DEFAULT_ADMIN", True)
    monkeypatch.setitem(ctx.config, "DEFAULT_ADMIN_PASSWORD", "admin123")
    with caplog.at_level(logging.WARNING, logger="src.services.auth"):
        user = ensure_default_admin()
    assert user is not None and (user.username, user.email, user.role) == ("admin", "admin@localhost", "admin")
    assert user.check_password("admin123")
    assert "created default admin" in caplog.text and "admin123" not in caplog.text
    assert ensure_default_admin() is None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 1


def test_no_default_admin_when_it_is_off_or_an_admin_exists(ctx: Flask, world: World,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(ctx.config, "ALLOW_DEFAULT_ADMIN", True)
    assert ensure_default_admin() is None
    db.session.execute(sa.delete(User).where(User.role == "admin"))
    db.session.commit()
    monkeypatch.setitem(ctx.config, "ALLOW_DEFAULT_ADMIN", False)
    assert ensure_default_admin() is None
    assert db.session.scalar(sa.select(User).where(User.username == "admin")) is None


def test_a_default_admin_password_below_the_policy_is_refused(ctx: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(ctx.config, "ALLOW_DEFAULT_ADMIN", True)
    monkeypatch.setitem(ctx.config, "DEFAULT_ADMIN_PASSWORD", "short")
    assert ensure_default_admin() is None


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'admin.db'}"


def run_cli(db_url: str, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DATABASE_URL", "FLASK_"))}
    env["DATABASE_URL"] = db_url
    return subprocess.run([sys.executable, "create_admin.py", *args], cwd=ROOT, env=env, input=stdin,
                          capture_output=True, text=True, timeout=60, check=False)


def stored(db_url: str, username: str) -> dict[str, Any] | None:
    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as conn:
            row = conn.execute(sa.text("SELECT username, email, role, is_active, password_hash FROM users "
                                       "WHERE username = :name"), {"name": username}).mappings().first()
            return dict(row) if row else None
    finally:
        engine.dispose()


def test_create_admin_creates_an_admin_on_a_fresh_database(db_url: str) -> None:
    result = run_cli(db_url, "--username", "ops", "--email", "Ops@Example.com", "--password", "long-enough-pw")
    assert result.returncode == 0, result.stderr
    assert "Created admin 'ops'" in result.stdout
    row = stored(db_url, "ops")
    assert row is not None and (row["email"], row["role"], bool(row["is_active"])) == ("ops@example.com", "admin", True)
    assert pbkdf2_sha256.verify("long-enough-pw", row["password_hash"])


def test_create_admin_resets_an_existing_account_from_stdin(db_url: str) -> None:
    run_cli(db_url, "--username", "ops", "--email", "ops@example.com", "--password", "long-enough-pw")
    engine = sa.create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE users SET role = 'viewer', is_active = :off"), {"off": False})
    engine.dispose()
    result = run_cli(db_url, "--username", "OPS", "--password-stdin", stdin="a new passphrase\n")
    assert result.returncode == 0, result.stderr
    assert "Reset admin 'ops'" in result.stdout
    row = stored(db_url, "ops")
    assert row is not None and (row["role"], bool(row["is_active"])) == ("admin", True)
    assert pbkdf2_sha256.verify("a new passphrase", row["password_hash"])
    assert "a new passphrase" not in result.stdout + result.stderr


def test_create_admin_exits_non_zero_with_one_clear_message_on_bad_input(db_url: str) -> None:
    result = run_cli(db_url, "--username", "ops", "--email", "ops@example.com", "--password", "short")
    assert result.returncode == 1
    messages = [line for line in result.stderr.splitlines() if line.startswith("create_admin:")]
    assert messages == ["create_admin: password: Use at least 8 characters."], result.stderr
    assert "Traceback" not in result.stderr
    assert stored(db_url, "ops") is None


@pytest.mark.parametrize("args, stdin, words", [
    (("--username", "ops", "--email", "not-an-email", "--password", "long-enough-pw"), "", "email"),
    (("--username", "bad name", "--email", "ops@example.com", "--password", "long-enough-pw"), "", "username"),
    (("--username", "ops", "--email", "ops@example.com", "--password", " " * 10), "", "whitespace"),
    (("--username", "ops", "--password", "long-enough-pw"), "", "--email"),
    (("--email", "ops@example.com", "--password", "long-enough-pw"), "", "--username"),
    (("--username", "ops", "--email", "ops@example.com"), "", "password"),
    (("--username", "ops", "--email", "ops@example.com", "--password-stdin"), "", "standard input is empty"),
])
def test_create_admin_names_the_problem_of_bad_input(db_url: str, monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str], args: tuple[str, ...],
                                                     stdin: str, words: str) -> None:
    import create_admin

    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    assert create_admin.main(list(args)) == 1
    err = capsys.readouterr().err
    messages = [line for line in err.splitlines() if line.startswith("create_admin:")]
    assert len(messages) == 1 and words in messages[0], err
    assert stored(db_url, "ops") is None


def test_create_admin_rejects_both_password_options(db_url: str) -> None:
    result = run_cli(db_url, "--username", "ops", "--password", "x" * 10, "--password-stdin")
    assert result.returncode == 2
    assert "not allowed with argument" in result.stderr


def test_create_admin_reports_a_configuration_error(db_url: str) -> None:
    env_args = ("--username", "ops", "--email", "ops@example.com", "--password", "long-enough-pw")
    result = subprocess.run([sys.executable, "create_admin.py", *env_args], cwd=ROOT, capture_output=True, text=True,
                            env={**os.environ, "DATABASE_URL": db_url, "FLASK_ENV": "production",
                                 "SECRET_KEY": "", "JWT_SECRET_KEY": ""}, timeout=60, check=False)
    assert result.returncode == 2
    assert "configuration error: SECRET_KEY" in result.stderr


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_create_admin_prompts_in_a_terminal_without_echoing_the_password(
        db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import create_admin

    answers = iter(["", "root@example.com"])
    passwords = iter(["typed passphrase", "typed passphrase"])
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setattr("sys.stdin", _Terminal())
    monkeypatch.setattr("builtins.input", lambda _prompt: next(answers))
    monkeypatch.setattr(create_admin.getpass, "getpass", lambda _prompt: next(passwords))
    assert create_admin.main([]) == 0
    row = stored(db_url, "admin")
    assert row is not None and row["email"] == "root@example.com" and row["role"] == "admin"
    assert pbkdf2_sha256.verify("typed passphrase", row["password_hash"])


def test_create_admin_stops_when_the_two_passwords_differ(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import create_admin

    passwords = iter(["first passphrase", "second passphrase"])
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setattr("sys.stdin", _Terminal())
    monkeypatch.setattr(create_admin.getpass, "getpass", lambda _prompt: next(passwords))
    assert create_admin.main(["--username", "ops", "--email", "ops@example.com"]) == 1
    assert stored(db_url, "ops") is None
