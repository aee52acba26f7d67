"""The leader lease: one row in `scheduler_leases`, taken and renewed only by conditional UPDATEs.

A process leads while `holder_id` is its id and `expires_at` is in the future. It renews every third of the lease;
a standby takes an expired lease over with `UPDATE ... WHERE expires_at < now`, so at most one UPDATE wins. Clocks
of the hosts are trusted to agree within a second or two (NTP); the execution claims make a brief overlap harmless.
"""
from __future__ import annotations

import logging
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from src.models import SchedulerLease
from src.models.base import utcnow

log = logging.getLogger(__name__)
LEASE_NAME = "scheduler"


@dataclass
class LeaseState:
    held: bool
    holder_id: str | None
    expires_at: datetime | None
    previous_holder: str | None = None


class LeaderLease:
    """Acquire/renew/release one named lease for `holder_id` through `engine`."""

    def __init__(self, engine: Engine, holder_id: str, seconds: int, write_lock: AbstractContextManager[object],
                 name: str = LEASE_NAME) -> None:
        self.engine = engine
        self.holder_id = holder_id
        self.seconds = seconds
        self.name = name
        self._write_lock = write_lock
        self.expires_at: datetime | None = None

    @property
    def table(self):  # type: ignore[no-untyped-def]
        return SchedulerLease.__table__

    def try_acquire(self, now: datetime | None = None) -> LeaseState:
        """Take the lease if it is free, expired or already ours; report who holds it otherwise."""
        now = now or utcnow()
        expires = now + timedelta(seconds=self.seconds)
        t = self.table
        with self._write_lock, self.engine.begin() as conn:
            row = conn.execute(select(t.c.holder_id, t.c.expires_at).where(t.c.name == self.name)).first()
            if row is None:
                try:
                    with conn.begin_nested():
                        conn.execute(insert(t).values(name=self.name, holder_id=self.holder_id, acquired_at=now,
                                                      renewed_at=now, expires_at=expires))
                except IntegrityError:
                    return LeaseState(False, None, None)
                self.expires_at = expires
                return LeaseState(True, self.holder_id, expires)
            previous, current_expiry = row.holder_id, row.expires_at
            if previous != self.holder_id and current_expiry > now:
                return LeaseState(False, previous, current_expiry)
            values = {"holder_id": self.holder_id, "renewed_at": now, "expires_at": expires}
            if previous != self.holder_id:
                values["acquired_at"] = now
            result = conn.execute(
                update(t).where(t.c.name == self.name)
                .where((t.c.holder_id == self.holder_id) | (t.c.expires_at < now) | (t.c.holder_id.is_(None)))
                .values(**values))
            if result.rowcount != 1:
                return LeaseState(False, previous, current_expiry)
        self.expires_at = expires
        return LeaseState(True, self.holder_id, expires,
                          previous_holder=previous if previous != self.holder_id else None)

    def renew(self, now: datetime | None = None) -> bool:
        """Extend our lease; False means another process holds it now (we must stop scheduling)."""
        now = now or utcnow()
        expires = now + timedelta(seconds=self.seconds)
        t = self.table
        with self._write_lock, self.engine.begin() as conn:
            result = conn.execute(update(t).where(t.c.name == self.name, t.c.holder_id == self.holder_id,
                                                  t.c.expires_at >= now)
                                  .values(renewed_at=now, expires_at=expires))
        if result.rowcount == 1:
            self.expires_at = expires
            return True
        self.expires_at = None
        return False

    def release(self) -> None:
        """Expire our lease now so a standby takes over at once (the holder id stays for interrupted-run recovery)."""
        t = self.table
        now = utcnow()
        with self._write_lock, self.engine.begin() as conn:
            conn.execute(update(t).where(t.c.name == self.name, t.c.holder_id == self.holder_id)
                         .values(expires_at=now, renewed_at=now))
        self.expires_at = None
