"""Reference data every database needs, ensured on each start (idempotent)."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from src.models import JobCategory, db
from src.models.job_category import DEFAULT_CATEGORY_SLUG


def ensure_reference_data() -> None:
    """The `general` category always exists: it is every job's default.

    Several processes start at once (gunicorn workers): the one that loses the insert race finds the row made.
    """
    if db.session.scalar(select(JobCategory.id).where(JobCategory.slug == DEFAULT_CATEGORY_SLUG)) is None:
        db.session.add(JobCategory(slug=DEFAULT_CATEGORY_SLUG, name="General"))
        try:
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
