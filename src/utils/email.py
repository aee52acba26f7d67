"""Email channel (Flask-Mail over SMTP with a timeout) and the plain-text + HTML bodies of job alerts."""
from __future__ import annotations

import smtplib
from email.charset import QP, Charset
from email.mime.text import MIMEText
from html import escape
from typing import Any

from flask import current_app
from flask_mail import BadHeaderError, Connection, Message

from src.utils.channels import Channel, DeliveryError, JobAlert, format_duration, format_time

SUBJECT_PREFIX = "[Cron Scheduler]"
# SMTP replies after which the same message can never succeed (no such mailbox, policy rejection).
PERMANENT_SMTP_CODES = {501, 550, 551, 552, 553, 554}


def _quoted_printable_utf8() -> Charset:
    charset = Charset("utf-8")
    charset.body_encoding = QP
    return charset


class _Message(Message):
    """Flask-Mail sends UTF-8 bodies unencoded, so a long line (an HTML body, a long error) breaks SMTP's 998-byte
    line limit; quoted-printable keeps every line short."""

    def _mimetext(self, text: str | None, subtype: str = "plain") -> MIMEText:
        return MIMEText(text or "", _subtype=subtype, _charset=_quoted_printable_utf8())  # type: ignore[arg-type]


class _TimedConnection(Connection):
    """Flask-Mail's connection opens smtplib without a timeout; a hung server must not hang the worker."""

    def __init__(self, mail: Any, timeout: float) -> None:
        super().__init__(mail)
        self.timeout = timeout

    def configure_host(self) -> smtplib.SMTP:
        host: smtplib.SMTP
        if self.mail.use_ssl:
            host = smtplib.SMTP_SSL(self.mail.server, self.mail.port, timeout=self.timeout)
        else:
            host = smtplib.SMTP(self.mail.server, self.mail.port, timeout=self.timeout)
        if self.mail.use_tls:
            host.starttls()
        if self.mail.username and self.mail.password:
            host.login(self.mail.username, self.mail.password)
        return host


class EmailChannel(Channel):
    name = "email"

    def notify(self, recipient: str, subject: str | None, payload: dict[str, Any]) -> None:
        state = current_app.extensions["mail"]
        message = _Message(subject=subject or SUBJECT_PREFIX, recipients=[recipient], body=payload["text"],
                          html=payload.get("html"), sender=state.default_sender)
        try:
            with _TimedConnection(state, self.timeout_seconds) as connection:
                connection.send(message)
        except BadHeaderError:
            raise DeliveryError("the subject or an address contains a line break", permanent=True) from None
        except smtplib.SMTPRecipientsRefused as exc:
            raise DeliveryError(f"recipient refused: {exc.recipients}", permanent=True) from None
        except smtplib.SMTPResponseException as exc:
            text = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
            raise DeliveryError(f"SMTP {exc.smtp_code}: {text[:200]}",
                                permanent=exc.smtp_code in PERMANENT_SMTP_CODES) from None
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"SMTP server {state.server}:{state.port} unavailable: {exc or type(exc).__name__}",
                                unreachable=True) from None


def alert_fields(alert: JobAlert) -> list[tuple[str, str]]:
    """The facts every job email and Slack message shows, in order."""
    fields = [("Job", alert.job_name)]
    if alert.status:
        fields.append(("Status", alert.status))
    if alert.scheduled_for or alert.started_at:
        fields.append(("Scheduled for", format_time(alert.scheduled_for or alert.started_at)))
    if alert.started_at:
        fields.append(("Started at", format_time(alert.started_at)))
    if alert.duration_seconds is not None:
        fields.append(("Duration", format_duration(alert.duration_seconds)))
    if alert.error_message:
        fields.append(("Error", alert.error_message[:4000]))
    return fields


def render_alert_email(alert: JobAlert) -> tuple[str, dict[str, str]]:
    """Subject and `{"text", "html"}` bodies of a job alert."""
    fields = alert_fields(alert)
    text_lines = [alert.message, ""] + [f"{label}: {value}" for label, value in fields]
    if alert.job_id:
        text_lines += ["", f"Open the job: {alert.link}"]
    rows = "".join(
        f'<tr><th align="left" style="padding:2px 12px 2px 0">{escape(label)}</th>'
        f'<td style="white-space:pre-wrap">{escape(value)}</td></tr>'
        for label, value in fields
    )
    link = f'<p><a href="{escape(alert.link)}">Open the job</a></p>' if alert.job_id else ""
    html = (f"<html><body><h2>{escape(alert.title)}</h2><p>{escape(alert.message)}</p>"
            f"<table>{rows}</table>{link}</body></html>")
    subject = " ".join(f"{SUBJECT_PREFIX} {alert.title}".split())  # a line break in a job name must not end the header
    return subject, {"text": "\n".join(text_lines) + "\n", "html": html}


def render_summary_email(title: str, lines: list[str]) -> tuple[str, dict[str, str]]:
    """Subject and bodies of a digest: a title and preformatted lines."""
    html = f"<html><body><h2>{escape(title)}</h2><pre>{escape(chr(10).join(lines))}</pre></body></html>"
    return f"{SUBJECT_PREFIX} {title}", {"text": "\n".join([title, ""] + lines) + "\n", "html": html}
