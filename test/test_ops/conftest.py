"""`make_app(**overrides)`: a special app on the session's database (CORS, limits, log format), disposed after."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask

from src.app import create_app
from src.models import db
from src.utils.logging import configure_logging
from test import conftest


@pytest.fixture
def make_app(database_url: str) -> Iterator[Callable[..., Flask]]:
    made: list[Flask] = []

    def build(**overrides: Any) -> Flask:
        application = create_app(conftest.test_config(database_url, **overrides))
        made.append(application)
        return application

    yield build
    for application in made:
        with application.app_context():
            db.engine.dispose()
    configure_logging("info", "text")
