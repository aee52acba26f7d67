"""Flask extension instances, created unbound so any module can import them without the app."""
from __future__ import annotations

from typing import Any

from flask_cors import CORS
from flask_jwt_extended import JWTManager
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_mail import Mail
from flask_migrate import Migrate
from flask_smorest import Api as SmorestApi
from werkzeug.exceptions import HTTPException

from src.utils.api_errors import ErrorSchema, handle_http_exception


class Api(SmorestApi):
    """flask-smorest with the contract's error body instead of its own `{code, status}` one."""

    ERROR_SCHEMA = ErrorSchema

    def handle_http_exception(self, error: HTTPException) -> Any:
        return handle_http_exception(error)


migrate = Migrate()
jwt = JWTManager()
mail = Mail()
cors = CORS()
limiter = Limiter(key_func=get_remote_address, default_limits=[], headers_enabled=True)
