"""Slugged reference lists (job categories, PIC teams): jobs refer to an entry by its slug.

Both lists follow the same rules, so they share this one implementation: the slug is derived from the name,
duplicates are 409, DELETE disables (jobs keep their reference), renaming moves the jobs' references with one
UPDATE, and a protected entry (`general`) can be neither renamed nor disabled.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import InstrumentedAttribute

from src.models import Job, db
from src.utils.api_errors import ConflictError, NotFoundError, ValidationError
from src.utils.schema_fields import looks_like_id

SLUG_MAX_LENGTH = 100
_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def slugify(name: str) -> str:
    """Lowercase ASCII letters and digits joined by single hyphens ("Data Team #2" -> "data-team-2")."""
    return _NOT_SLUG.sub("-", name.lower()).strip("-")[:SLUG_MAX_LENGTH].strip("-")


@dataclass(frozen=True)
class Catalog:
    """One slugged list: its model, the Job column that refers to it, and what the API calls it."""

    model: Any
    job_column: InstrumentedAttribute[Any]
    label: str
    protected_slug: str | None = None

    def list(self, include_inactive: bool) -> list[Any]:
        query = select(self.model).order_by(self.model.name, self.model.slug)
        if not include_inactive:
            query = query.where(self.model.is_active.is_(True))
        return list(db.session.scalars(query))

    def get(self, entry_id: str) -> Any:
        entry = db.session.get(self.model, entry_id) if looks_like_id(entry_id) else None
        if entry is None:
            raise NotFoundError(f"No {self.label} has the id {entry_id}.", error=f"{self.label.capitalize()} not found")
        return entry

    def active_slugs(self) -> set[str]:
        return set(db.session.scalars(select(self.model.slug).where(self.model.is_active.is_(True))))

    def _slug_for(self, name: str) -> str:
        slug = slugify(name)
        if not slug:
            raise ValidationError(f"The {self.label} name needs at least one letter or digit.",
                                  details={"name": ["Needs at least one letter or digit."]})
        return slug

    def _ensure_unique(self, slug: str, name: str, exclude_id: str | None = None) -> None:
        query = select(self.model).where(or_(self.model.slug == slug, func.lower(self.model.name) == name.lower()))
        if exclude_id is not None:
            query = query.where(self.model.id != exclude_id)
        clash = db.session.scalars(query.limit(1)).first()
        if clash is not None:
            state = "" if clash.is_active else " (disabled: re-enable it with PUT is_active=true)"
            raise ConflictError(f"A {self.label} named '{clash.name}' with slug '{clash.slug}' already exists{state}.",
                                error=f"Duplicate {self.label}")

    def create(self, values: dict[str, Any]) -> Any:
        slug = self._slug_for(values["name"])
        self._ensure_unique(slug, values["name"])
        entry = self.model(slug=slug, **values)
        db.session.add(entry)
        db.session.commit()
        return entry

    def update(self, entry_id: str, values: dict[str, Any]) -> Any:
        entry = self.get(entry_id)
        protected = entry.slug == self.protected_slug
        if protected and values.get("is_active") is False:
            raise ValidationError(f"The '{entry.slug}' {self.label} is every job's default and cannot be disabled.",
                                  error=f"Protected {self.label}")
        if "name" in values and values["name"] != entry.name:
            if protected:
                raise ValidationError(f"The '{entry.slug}' {self.label} is every job's default and cannot be renamed.",
                                      error=f"Protected {self.label}")
            new_slug = self._slug_for(values["name"])
            self._ensure_unique(new_slug, values["name"], exclude_id=entry.id)
            if new_slug != entry.slug:
                self._move_jobs(entry.slug, new_slug)
                entry.slug = new_slug
        for key, value in values.items():
            setattr(entry, key, value)
        db.session.commit()
        return entry

    def _move_jobs(self, old_slug: str, new_slug: str) -> None:
        """Point every job from the old slug to the new one with a single UPDATE (the schedule is unaffected)."""
        db.session.execute(update(Job).where(self.job_column == old_slug)
                           .values({self.job_column.key: new_slug}).execution_options(synchronize_session=False))

    def disable(self, entry_id: str) -> Any:
        return self.update(entry_id, {"is_active": False})
