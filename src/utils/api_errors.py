"""The one error helper: every error from every layer becomes `{"error", "message"[, "details"]}`."""
from __future__ import annotations

import logging
from typing import Any

from flask import Flask, current_app, jsonify
from flask.typing import ResponseReturnValue
from marshmallow import Schema, fields
from sqlalchemy.exc import IntegrityError, OperationalError
from werkzeug.exceptions import HTTPException

from src.models import db

log = logging.getLogger(__name__)

# Titles for plain HTTP errors raised by routing, abort() or extensions.
HTTP_TITLES: dict[int, tuple[str, str]] = {
    400: ("Bad request", "The request could not be understood; check its syntax and body."),
    401: ("Unauthorized", "Send a valid access token in the Authorization: Bearer header."),
    403: ("Insufficient permissions", "Your role does not allow this action."),
    404: ("Not found", "The requested URL does not exist on this server."),
    405: ("Method not allowed", "This URL does not accept that HTTP method."),
    409: ("Conflict", "The request conflicts with existing data."),
    413: ("Payload too large", "The request body is larger than the server accepts."),
    415: ("Unsupported media type", "Send the body as application/json."),
    429: ("Too many requests", "Too many requests; wait before trying again."),
    500: ("Internal server error", "Something went wrong on the server; the error was logged."),
    503: ("Service unavailable", "The service is temporarily unavailable; try again shortly."),
}
REQUIRED_MESSAGE = "Missing data for required field."


class ApiError(Exception):
    """Raised by services and routes; the handler turns it into the contract's JSON."""

    status = 400
    error = "Bad request"
    message = "The request is invalid."

    def __init__(self, message: str | None = None, *, error: str | None = None, status: int | None = None,
                 details: dict[str, list[str]] | None = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(message or self.message)
        self.message = message or self.message
        self.error = error or self.error
        self.status = status or self.status
        self.details = details
        self.headers = headers or {}


class ValidationError(ApiError):
    status = 400
    error = "Validation error"
    message = "Some fields are invalid."


class NotFoundError(ApiError):
    status = 404
    error = "Not found"
    message = "The requested resource does not exist."


class ForbiddenError(ApiError):
    status = 403
    error = "Insufficient permissions"
    message = "Your role does not allow this action."


class UnauthorizedError(ApiError):
    status = 401
    error = "Unauthorized"
    message = "Send a valid access token in the Authorization: Bearer header."


class ConflictError(ApiError):
    status = 409
    error = "Conflict"
    message = "The request conflicts with existing data."


class ErrorSchema(Schema):
    """The error body every endpoint may return (documented in OpenAPI)."""

    error = fields.String(required=True, metadata={"description": "Short title clients can match on"})
    message = fields.String(required=True, metadata={"description": "One sentence a person can act on"})
    details = fields.Dict(keys=fields.String(), values=fields.List(fields.String()),
                          metadata={"description": "Per-field problems (validation errors)"})


def error_response(status: int, error: str, message: str, details: dict[str, Any] | None = None,
                   headers: dict[str, str] | None = None) -> ResponseReturnValue:
    body: dict[str, Any] = {"error": error, "message": message}
    if details:
        body["details"] = details
    return jsonify(body), status, headers or {}


def _flatten_details(messages: Any) -> dict[str, list[str]]:
    """webargs nests problems by location ({"json": {...}}); clients want field -> [problems]."""
    details: dict[str, list[str]] = {}

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), inner)
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            details.setdefault(prefix or "_body", []).extend(value)
        elif isinstance(value, list):
            for index, inner in enumerate(value):
                walk(f"{prefix}.{index}", inner)
        else:
            details.setdefault(prefix or "_body", []).append(str(value))

    if isinstance(messages, dict) and set(messages) <= {"json", "query", "form", "files", "headers", "view_args"}:
        for inner in messages.values():
            walk("", inner)
    else:
        walk("", messages)
    return details


def validation_error_response(messages: Any) -> ResponseReturnValue:
    details = _flatten_details(messages)
    if details.get("_body") == ["Invalid JSON body."]:
        return error_response(400, "Invalid JSON", "The request body is not valid JSON.")
    missing = sorted(f for f, problems in details.items() if REQUIRED_MESSAGE in problems)
    if missing and len(missing) == len(details):
        return error_response(400, "Missing required fields", f"Missing required fields: {', '.join(missing)}.",
                              details)
    return error_response(400, "Validation error", "Some fields are invalid; see details.", details)


def handle_http_exception(exc: HTTPException) -> ResponseReturnValue:
    data = getattr(exc, "data", None) or {}
    status = exc.code or 500
    if "messages" in data and status in (400, 422):
        return validation_error_response(data["messages"])
    title, message = HTTP_TITLES.get(status, (exc.name, exc.description or exc.name))
    headers = dict(data.get("headers") or {})
    if status == 429 and exc.description:
        message = f"Rate limit exceeded ({exc.description}); wait before trying again."
    if status == 405 and hasattr(exc, "valid_methods") and exc.valid_methods:
        headers["Allow"] = ", ".join(exc.valid_methods)
    response = exc.get_response()
    for key in ("Retry-After", "Allow"):
        if key in response.headers and key not in headers:
            headers[key] = response.headers[key]
    return error_response(status, title, data.get("message", message), headers=headers)


def handle_api_error(exc: ApiError) -> ResponseReturnValue:
    return error_response(exc.status, exc.error, exc.message, exc.details, exc.headers)


def handle_integrity_error(exc: IntegrityError) -> ResponseReturnValue:
    db.session.rollback()
    log.warning("integrity error: %s", exc.orig)
    return error_response(409, "Conflict", "The change conflicts with existing data (a duplicate or a missing reference).")


def handle_operational_error(exc: OperationalError) -> ResponseReturnValue:
    db.session.rollback()
    log.error("database error: %s", exc.orig)
    return error_response(503, "Service unavailable", "The database is unavailable; try again shortly.",
                          headers={"Retry-After": "5"})


def handle_unexpected(exc: Exception) -> ResponseReturnValue:
    db.session.rollback()
    log.exception("unhandled error")
    title, message = HTTP_TITLES[500]
    if current_app.config.get("EXPOSE_ERROR_DETAILS"):
        message = f"{type(exc).__name__}: {exc}"
    return error_response(500, title, message)


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(ApiError, handle_api_error)
    app.register_error_handler(IntegrityError, handle_integrity_error)
    app.register_error_handler(OperationalError, handle_operational_error)
    app.register_error_handler(Exception, handle_unexpected)
