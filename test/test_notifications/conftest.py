"""Real receivers on loopback (an aiosmtpd SMTP server, an http.server for Slack) and an app that sends email."""
from __future__ import annotations

import json
import logging
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from flask import Flask

from src.app import create_app
from src.models import Job, JobExecution, PicTeam, SlackSettings, UserNotificationPreferences, db
from test.conftest import test_config

logging.getLogger("mail.log").setLevel(logging.WARNING)
NOW = datetime(2026, 11, 26, 3, 0, tzinfo=timezone.utc)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class _Collect:
    def __init__(self, inbox: list[Message]) -> None:
        self.inbox = inbox

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any) -> str:
        if address.startswith("bounce"):
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content)
        message["X-Envelope-To"] = ",".join(envelope.rcpt_tos)
        self.inbox.append(message)
        return "250 OK"


@dataclass
class SmtpServer:
    """aiosmtpd on 127.0.0.1; stop()/start() simulate an outage on the same port."""

    port: int
    inbox: list[Message] = field(default_factory=list)
    controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(_Collect(self.inbox), hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def to(self, address: str) -> list[Message]:
        return [m for m in self.inbox if address in m["X-Envelope-To"].split(",")]


@pytest.fixture(scope="module")
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer(port=free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def smtp(smtp_server: SmtpServer) -> Iterator[SmtpServer]:
    smtp_server.inbox.clear()
    if smtp_server.controller is None:
        smtp_server.start()
    yield smtp_server
    if smtp_server.controller is None:
        smtp_server.start()


@pytest.fixture(scope="module")
def mail_app(app: Flask, database_url: str, smtp_server: SmtpServer) -> Iterator[Flask]:
    """Same database as `app`, with email on and pointed at the test SMTP server."""
    application = create_app(test_config(database_url, MAIL_ENABLED=True, MAIL_SERVER="127.0.0.1",
                                         MAIL_PORT=smtp_server.port, MAIL_USE_TLS=False,
                                         MAIL_DEFAULT_SENDER="scheduler@example.com",
                                         FRONTEND_BASE_URL="https://cron.example.com",
                                         NOTIFICATION_ALERT_INTERVAL_MINUTES=60))
    yield application
    with application.app_context():
        db.engine.dispose()


@pytest.fixture
def mctx(mail_app: Flask) -> Iterator[Flask]:
    with mail_app.app_context():
        yield mail_app
        db.session.remove()


@dataclass
class SlackReceiver:
    """An incoming-webhook stand-in: records JSON posts; `statuses` queues the answers (200 when empty)."""

    url: str
    posts: list[dict[str, Any]] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)


@pytest.fixture
def slack() -> Iterator[SlackReceiver]:
    receiver = SlackReceiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            receiver.posts.append(json.loads(body))
            status = receiver.statuses.pop(0) if receiver.statuses else 200
            answer = b"ok" if status == 200 else b"invalid_token"
            self.send_response(status)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/services/T000/B000/secretXYZ1"
    yield receiver
    server.shutdown()
    server.server_close()


def enable_slack(url: str, channel: str | None = None) -> None:
    db.session.add(SlackSettings(is_enabled=True, webhook_url=url, channel=channel))
    db.session.commit()


def set_prefs(user_id: str, **prefs: bool) -> None:
    row = db.session.query(UserNotificationPreferences).filter_by(user_id=user_id).one_or_none()
    if row is None:
        row = UserNotificationPreferences(user_id=user_id)
        db.session.add(row)
    for key, value in prefs.items():
        setattr(row, key, value)
    db.session.commit()


def make_job(owner_id: str | None, name: str = "nightly-report", **fields: Any) -> Job:
    job = Job(name=name, cron_expression="*/5 * * * *", target_url="http://127.0.0.1:9/hook",
              created_by=owner_id, **fields)
    db.session.add(job)
    db.session.commit()
    return job


def make_team(slug: str, slack_handle: str | None) -> None:
    db.session.add(PicTeam(slug=slug, name=slug.title(), slack_handle=slack_handle))
    db.session.commit()


def make_execution(job: Job, status: str, at: datetime = NOW, error: str | None = None,
                   duration: float = 1.5) -> JobExecution:
    execution = JobExecution(job_id=job.id, status=status, trigger_type="scheduled", scheduled_for=at,
                             started_at=at, completed_at=at + timedelta(seconds=duration),
                             duration_seconds=duration, execution_type="webhook", target=job.target_url,
                             response_status=500 if status == "failed" else 200,
                             error_message=error if error is not None else (
                                 "HTTP 500: upstream exploded" if status == "failed" else None))
    db.session.add(execution)
    db.session.flush()
    return execution
