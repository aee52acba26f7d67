"""Delivery channels (email, Slack): one class per channel; the base owns HTTP, timeouts and the retry policy.

A channel's `notify()` either returns (delivered) or raises `DeliveryError`, which says whether trying again can
help. The outbox worker (`src.services.notification_delivery`) records each attempt and retries transient errors
with exponential backoff; permanent errors fail the delivery at once.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar

from zoneinfo import ZoneInfo

import requests
from flask import current_app

from src import __version__

BASE_RETRY_DELAY_SECONDS = 30
MAX_RETRY_DELAY_SECONDS = 3600


class DeliveryError(Exception):
    """A send that did not happen; `permanent` means retrying cannot help (bad address, rejected payload), and
    `unreachable` that the server itself did not answer (so the channel's other sends would wait in vain too)."""

    def __init__(self, message: str, *, permanent: bool = False, unreachable: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.unreachable = unreachable


@dataclass(frozen=True)
class JobAlert:
    """What one job event says, rendered by every channel (in-app text, email bodies, Slack blocks)."""

    event: str
    level: str
    title: str
    message: str
    job_id: str | None
    job_name: str
    link: str
    status: str | None = None
    scheduled_for: datetime | None = None
    started_at: datetime | None = None
    duration_seconds: float | None = None
    error_message: str | None = None
    execution_id: str | None = None
    mention: str | None = None


class Channel:
    """Base of every delivery channel; subclasses set `name` and build their payload in `notify()`."""

    name: ClassVar[str] = ""
    timeout_seconds: ClassVar[float] = 10.0
    registry: ClassVar[dict[str, type[Channel]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        Channel.registry[cls.name] = cls

    def notify(self, recipient: str, subject: str | None, payload: dict[str, Any]) -> None:
        raise NotImplementedError

    @staticmethod
    def retry_delay(attempts: int) -> timedelta:
        """Exponential backoff: 30 s, 1 min, 2 min, ... capped at an hour."""
        seconds = BASE_RETRY_DELAY_SECONDS * 2 ** max(attempts - 1, 0)
        return timedelta(seconds=min(seconds, MAX_RETRY_DELAY_SECONDS))

    def post_json(self, url: str, body: dict[str, Any]) -> None:
        """POST JSON once; 2xx is delivered, 408/429/5xx and network errors are transient, other 4xx permanent."""
        try:
            response = requests.post(url, json=body, timeout=self.timeout_seconds, allow_redirects=False,
                                     headers={"User-Agent": f"cron-job-scheduler/{__version__}"})
        except requests.Timeout:
            raise DeliveryError(f"no answer within {self.timeout_seconds:g} s", unreachable=True) from None
        except requests.ConnectionError as exc:
            raise DeliveryError(f"connection failed: {_first_line(exc)}", unreachable=True) from None
        except requests.RequestException as exc:
            raise DeliveryError(f"request could not be sent: {_first_line(exc)}", permanent=True) from None
        if 200 <= response.status_code < 300:
            return
        transient = response.status_code in (408, 429) or response.status_code >= 500
        raise DeliveryError(f"HTTP {response.status_code}: {response.text[:200].strip()}", permanent=not transient)


def channel_for(name: str) -> Channel:
    """The channel registered under `name` (importing the modules registers email and Slack)."""
    import src.utils.email  # noqa: F401
    import src.utils.slack  # noqa: F401

    try:
        return Channel.registry[name]()
    except KeyError:
        raise DeliveryError(f"unknown channel {name!r}", permanent=True) from None


def format_time(value: datetime | None) -> str:
    """A time as people read it: in the scheduler's time zone, with the zone's name and offset."""
    if value is None:
        return "-"
    local = value.astimezone(ZoneInfo(current_app.config["SCHEDULER_TIMEZONE"]))
    offset = local.strftime("%z")
    return f"{local:%Y-%m-%d %H:%M:%S} {local.tzname()} ({offset[:3]}:{offset[3:]})"


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 60:
        return f"{seconds:.2f} s"
    minutes, rest = divmod(int(round(seconds)), 60)
    return f"{minutes} min {rest} s"


def _first_line(exc: Exception) -> str:
    return str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__
