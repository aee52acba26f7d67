"""Migrations build the whole schema on an empty database, and the schema matches the models (no drift)."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask

from src.models import db
from src.utils.db_migrations import compare_type


def test_migrated_schema_has_no_drift_from_the_models(app: Flask) -> None:
    with app.app_context(), db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": compare_type})
        diff = compare_metadata(context, db.metadata)
    assert diff == []


def test_every_model_table_exists_after_upgrade(app: Flask) -> None:
    with app.app_context():
        existing = set(db.inspect(db.engine).get_table_names())
    assert set(db.metadata.tables) <= existing
    assert "alembic_version" in existing


def test_unique_claim_constraint_on_scheduled_runs(app: Flask) -> None:
    with app.app_context():
        constraints = db.inspect(db.engine).get_unique_constraints("job_executions")
        indexes = db.inspect(db.engine).get_indexes("job_executions")
    unique_sets = [tuple(c["column_names"]) for c in constraints]
    unique_sets += [tuple(i["column_names"]) for i in indexes if i.get("unique")]
    assert ("job_id", "scheduled_for") in unique_sets
