"""Login, token refresh, logout and the current user. Login is rate-limited per client IP and per account."""
from __future__ import annotations

from typing import Any

from flask import current_app, request
from flask_jwt_extended import current_user, get_jwt, jwt_required
from flask_limiter.util import get_remote_address

from src.extensions import limiter
from src.routes import Blueprint
from src.routes.schemas.auth import (
    AccessTokenSchema,
    LoginResponseSchema,
    LoginSchema,
    MessageSchema,
    UserResponseSchema,
)
from src.services import auth as auth_service
from src.utils.auth import role_required

blp = Blueprint("auth", __name__, url_prefix="/api/auth", description="Login, tokens and the current user")

LOGIN_LIMIT_PER_IP = "10 per minute"
LOGIN_LIMIT_PER_ACCOUNT = "5 per minute"


@limiter.request_filter
def _rate_limits_off() -> bool:
    """The limiter is one shared object; each app's own RATELIMIT_ENABLED decides (tests build several apps)."""
    return not current_app.config.get("RATELIMIT_ENABLED", True)


def _failed_login(response: Any) -> bool:
    return bool(response.status_code == 401)


def _login_account() -> str:
    """The account a login attempt targets (as typed, case-insensitive), whichever client sends it."""
    body = request.get_json(silent=True)
    name = (body.get("username") or body.get("email")) if isinstance(body, dict) else None
    return f"account:{name.strip().lower()[:255]}" if isinstance(name, str) else "account:-"


@blp.route("/login", methods=["POST"])
@blp.doc(security=[])
@blp.arguments(LoginSchema)
@blp.response(200, LoginResponseSchema)
@blp.alt_response(401, response="UNAUTHORIZED", description="Wrong username/email or password")
@blp.alt_response(403, response="FORBIDDEN", description="The account is deactivated")
@blp.alt_response(429, response="TOO_MANY_REQUESTS", description="Too many failed logins (see Retry-After)")
@limiter.limit(LOGIN_LIMIT_PER_IP, key_func=get_remote_address, deduct_when=_failed_login)
@limiter.limit(LOGIN_LIMIT_PER_ACCOUNT, key_func=_login_account, deduct_when=_failed_login)
def login(data: dict[str, Any]) -> dict[str, Any]:
    """Log in with a username (or email) and password

    Returns an access token and a refresh token. Failed attempts are limited per client IP and per account.
    """
    return auth_service.login(data.get("username") or data["email"], data["password"], request.remote_addr)


@blp.route("/refresh", methods=["POST"])
@jwt_required(refresh=True)
@blp.response(200, AccessTokenSchema)
@blp.alt_response(401, response="UNAUTHORIZED", description="Missing, invalid, expired or revoked refresh token")
def refresh() -> dict[str, str]:
    """Get a new access token (send the refresh token as Bearer)"""
    return auth_service.refresh(current_user, get_jwt())


@blp.route("/logout", methods=["POST"])
@jwt_required(verify_type=False)
@blp.response(200, MessageSchema)
@blp.alt_response(401, response="UNAUTHORIZED", description="Missing, invalid, expired or revoked token")
def logout() -> dict[str, str]:
    """Log out: revoke the presented token and the refresh token of its session"""
    auth_service.revoke(get_jwt())
    return {"message": "Logged out"}


@blp.route("/me")
@role_required()
@blp.response(200, UserResponseSchema)
@blp.alt_response(401, response="UNAUTHORIZED", description="Missing, invalid, expired or revoked token")
def me() -> dict[str, Any]:
    """The logged-in user"""
    return {"user": current_user}
