"""Database helpers the scheduler's threads share: the process's runner id, SQLite write serialisation, claims.

SQLite allows one writer at a time and makes a blocked writer sleep in growing steps (up to 100 ms each); with
a dozen scheduler threads writing that sleep becomes dispatch lag. So on SQLite this process's scheduler writes
take one lock and never wait on each other inside SQLite. Server databases lock rows and need no such lock.
"""
from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Iterable
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, IntegrityError

from src.models import JobExecution

_runner: tuple[int, str] | None = None
_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()
CHUNK = 500
CONFLICT_ATTEMPTS = 5
# MySQL/MariaDB deadlock and lock-wait timeout; PostgreSQL deadlock_detected and serialization_failure.
_CONFLICT_CODES = {1213, 1205, "40P01", "40001"}


def runner_id() -> str:
    """host:pid:random, recomputed after a fork so gunicorn workers never share one."""
    global _runner
    pid = os.getpid()
    if _runner is None or _runner[0] != pid:
        _runner = (pid, f"{socket.gethostname()[:60]}:{pid}:{uuid.uuid4().hex[:8]}")
    return _runner[1]


def write_lock(engine: Engine) -> AbstractContextManager[Any]:
    if engine.dialect.name != "sqlite":
        return nullcontext()
    key = str(engine.url)
    with _locks_guard:
        return _locks.setdefault(key, threading.Lock())


def chunks(items: list[Any], size: int = CHUNK) -> Iterable[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _insert_ignoring_duplicates(conn: Connection, rows: list[dict[str, Any]]) -> None:
    table = JobExecution.__table__
    dialect = conn.dialect.name
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        conn.execute(sqlite_insert(table).on_conflict_do_nothing(), rows)
    elif dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        conn.execute(pg_insert(table).on_conflict_do_nothing(), rows)
    else:
        conn.execute(insert(table).prefix_with("IGNORE"), rows)


def lost_lock_race(exc: DBAPIError) -> bool:
    """True when the server rolled the transaction back to break a lock cycle, so running it again is safe."""
    orig = exc.orig
    codes = {getattr(orig, "sqlstate", None), orig.args[0] if orig is not None and orig.args else None}
    return bool(codes & _CONFLICT_CODES)


def _insert_batch(engine: Engine, batch: list[dict[str, Any]]) -> set[str]:
    """One batch in one transaction, run again when two claimers deadlock on the unique index.

    Two leaders inserting the same fire times take the same index locks; MariaDB can then pick one transaction
    as a deadlock victim and roll it back whole. Nothing of it was written, so retrying is exact.
    """
    table = JobExecution.__table__
    ids = [row["id"] for row in batch]
    attempt = 1
    while True:
        try:
            with engine.begin() as conn:
                _insert_ignoring_duplicates(conn, batch)
                return set(conn.scalars(select(table.c.id).where(table.c.id.in_(ids))))
        except DBAPIError as exc:
            if isinstance(exc, IntegrityError) or not lost_lock_race(exc) or attempt >= CONFLICT_ATTEMPTS:
                raise
            time.sleep(0.01 * attempt)
            attempt += 1


def insert_claims(engine: Engine, rows: list[dict[str, Any]]) -> set[str]:
    """Insert execution rows whose (job_id, scheduled_for) nobody holds yet; return the ids that went in.

    The unique constraint is the arbiter: a row another leader (or an earlier pass) inserted is skipped, so each
    fire time is claimed exactly once. One transaction per batch keeps 1,000 simultaneous claims fast; rows go
    in key order so that two claimers lock the index in the same order.
    """
    if not rows:
        return set()
    table = JobExecution.__table__
    ordered = sorted(rows, key=lambda row: (row["job_id"], row["scheduled_for"]))
    inserted: set[str] = set()
    with write_lock(engine):
        for batch in chunks(ordered):
            try:
                inserted |= _insert_batch(engine, batch)
            except IntegrityError:
                # A job deleted meanwhile (foreign key) fails the whole batch on PostgreSQL: claim one by one.
                for row in batch:
                    try:
                        with engine.begin() as conn:
                            conn.execute(insert(table), [row])
                        inserted.add(row["id"])
                    except IntegrityError:
                        continue
    return inserted
