"""Reference data on start: every worker ensures it, and the one that loses the race does not fail to boot."""
from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import func, select

from src.models import JobCategory, db
from src.services.bootstrap import ensure_reference_data


def test_a_worker_that_loses_the_insert_race_starts_anyway(ctx: Flask, monkeypatch: Any) -> None:
    real_scalar = db.session.scalar
    # The row exists (another worker made it) but this worker's check ran before that.
    monkeypatch.setattr(db.session, "scalar", lambda *args, **kwargs: None)
    ensure_reference_data()
    monkeypatch.setattr(db.session, "scalar", real_scalar)
    assert db.session.scalar(select(func.count()).select_from(JobCategory)) == 1


def test_the_general_category_is_created_once(ctx: Flask) -> None:
    db.session.execute(JobCategory.__table__.delete())
    db.session.commit()
    ensure_reference_data()
    ensure_reference_data()
    assert db.session.scalars(select(JobCategory.slug)).all() == ["general"]
