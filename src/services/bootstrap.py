"""Reference data every database needs, ensured on each start (idempotent)."""
from __future__ import annotations

from sqlalchemy import select

from src.models import JobCategory, db
from src.models.job_category import DEFAULT_CATEGORY_SLUG


def ensure_reference_data() -> None:
    """The `general` category always exists: it is every job's default."""
    if db.session.scalar(select(JobCategory.id).where(JobCategory.slug == DEFAULT_CATEGORY_SLUG)) is None:
        db.session.add(JobCategory(slug=DEFAULT_CATEGORY_SLUG, name="General"))
        db.session.commit()
