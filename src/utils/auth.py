"""Authentication and the one permission check: JWT callbacks, `role_required`, `ensure_owner_or_admin`."""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, g
from flask.typing import ResponseReturnValue
from flask_jwt_extended import JWTManager, current_user, verify_jwt_in_request

from src.models import User, db
from src.services.auth import token_user_and_revocation
from src.utils.api_errors import ForbiddenError, error_response

F = TypeVar("F", bound=Callable[..., Any])


def register_jwt_handlers(jwt: JWTManager) -> None:
    """Every token problem is a 401 in the contract's shape (never Flask-JWT-Extended's `{"msg"}` or 422)."""

    @jwt.token_in_blocklist_loader
    def token_revoked(_header: dict[str, Any], payload: dict[str, Any]) -> bool:
        # Flask-JWT-Extended checks revocation before it looks the user up: one query serves both.
        user, revoked = token_user_and_revocation(payload)
        g.token_user = user
        return revoked

    @jwt.user_lookup_loader
    def load_user(_header: dict[str, Any], payload: dict[str, Any]) -> User | None:
        user = g.pop("token_user") if "token_user" in g else db.session.get(User, payload["sub"])
        if user is None or not user.is_active or payload.get("pwv") != user.password_fingerprint:
            return None
        return user

    @jwt.user_lookup_error_loader
    def user_gone(_header: dict[str, Any], _payload: dict[str, Any]) -> ResponseReturnValue:
        return error_response(401, "Invalid token", "The account of this token no longer exists, is deactivated or changed its password; log in again.")

    @jwt.unauthorized_loader
    def missing_token(reason: str) -> ResponseReturnValue:
        return error_response(401, "Authorization required",
                              "Send an access token in the Authorization: Bearer header.")

    @jwt.invalid_token_loader
    def invalid_token(reason: str) -> ResponseReturnValue:
        if reason.startswith("Only non-refresh tokens"):
            return error_response(401, "Invalid token", "This endpoint needs an access token, not a refresh token.")
        if reason.startswith("Only refresh tokens"):
            return error_response(401, "Invalid token", "This endpoint needs the refresh token, not an access token.")
        return error_response(401, "Invalid token", "The token is malformed or its signature is invalid; log in again.")

    @jwt.expired_token_loader
    def expired_token(_header: dict[str, Any], _payload: dict[str, Any]) -> ResponseReturnValue:
        return error_response(401, "Token expired", "The token has expired; refresh it or log in again.")

    @jwt.revoked_token_loader
    def revoked_token(_header: dict[str, Any], _payload: dict[str, Any]) -> ResponseReturnValue:
        return error_response(401, "Token revoked", "The token has been revoked; log in again.")

    @jwt.token_verification_failed_loader
    def claims_rejected(_header: dict[str, Any], _payload: dict[str, Any]) -> ResponseReturnValue:
        return error_response(401, "Invalid token", "The token's claims are not accepted; log in again.")

    @jwt.needs_fresh_token_loader
    def stale_token(_header: dict[str, Any], _payload: dict[str, Any]) -> ResponseReturnValue:
        return error_response(401, "Fresh token required", "Log in again to do this.")


def role_required(*roles: str) -> Callable[[F], F]:
    """Require a valid access token whose user (read from the database) has one of `roles`."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            verify_jwt_in_request()
            if roles and current_user.role not in roles:
                raise ForbiddenError(f"This action needs the role {' or '.join(roles)}.")
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorator


def ensure_owner_or_admin(owner_id: str | None, action: str = "change this resource") -> None:
    """The role matrix's ownership rule: admins may act on anything, users on what they own, viewers on nothing."""
    user: User = current_user
    if user.role == "admin":
        return
    if user.role == "user" and owner_id is not None and owner_id == user.id:
        return
    raise ForbiddenError(f"Only its owner or an admin may {action}.")


def init_auth(app: Flask, jwt: JWTManager) -> None:
    jwt.init_app(app)
    register_jwt_handlers(jwt)
