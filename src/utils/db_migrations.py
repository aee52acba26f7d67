"""Apply Alembic migrations: the one way the schema is created or changed outside tests."""
from __future__ import annotations

from typing import Any

from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import Float


def compare_type(_context: Any, _inspected_column: Any, _metadata_column: Any, inspected_type: Any,
                 metadata_type: Any) -> bool | None:
    """MariaDB stores Float(25) as DOUBLE; that is the same column, not drift. None = Alembic's own rule."""
    if isinstance(metadata_type, Float) and type(inspected_type).__name__ == "DOUBLE":
        return False
    return None


def upgrade_database(app: Flask) -> None:
    from src.app import MIGRATIONS_DIR

    with app.app_context():
        upgrade(directory=str(MIGRATIONS_DIR))
