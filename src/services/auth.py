"""Login, token refresh, logout (revocation in the database, so it holds across processes) and the default admin."""
from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from flask import current_app
from passlib.hash import pbkdf2_sha256
from sqlalchemy import bindparam, delete, exists, select
from sqlalchemy.exc import IntegrityError

from src.models import RevokedToken, User, db
from src.models.base import utcnow
from src.services.auth_tokens import issue_access_token, issue_tokens
from src.services.users import (
    create_user,
    find_by_login,
    find_by_username,
    normalize_email,
    password_problems,
    validate_account_fields,
)
from src.utils.api_errors import ApiError, ForbiddenError, UnauthorizedError, ValidationError

log = logging.getLogger(__name__)

DEFAULT_ADMIN_USERNAME = "admin"
DEFAULT_ADMIN_EMAIL = "admin@localhost"
# Every authenticated request runs these: built once, SQLAlchemy reuses their cache keys and compiled SQL.
_REVOKED = exists().where(RevokedToken.jti.in_(bindparam("jtis", expanding=True)))
TOKEN_USER = select(User, _REVOKED).where(User.id == bindparam("user_id"))
TOKEN_REVOKED = select(_REVOKED)


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return pbkdf2_sha256.hash("not-a-real-password")


def authenticate(login_name: str, password: str, client_ip: str | None) -> User:
    """The user these credentials open; unknown names cost a hash too, so timing does not tell them apart."""
    user = find_by_login(login_name)
    if user is None:
        pbkdf2_sha256.verify(password, _dummy_hash())
    if user is None or not user.check_password(password):
        log.warning("failed login for %r from %s", login_name[:255], client_ip)
        raise UnauthorizedError("The username/email or password is wrong.", error="Invalid credentials")
    if not user.is_active:
        log.warning("login to deactivated account %r from %s", user.username, client_ip)
        raise ForbiddenError("This account is deactivated; ask an admin to reactivate it.", error="Account disabled")
    return user


def login(login_name: str, password: str, client_ip: str | None) -> dict[str, Any]:
    user = authenticate(login_name, password, client_ip)
    return {"message": "Login successful", **issue_tokens(user), "user": user}


def refresh(user: User, refresh_payload: dict[str, Any]) -> dict[str, str]:
    """A new access token tied to the same refresh token, so logging out with it ends the whole session."""
    return {"access_token": issue_access_token(user, refresh_payload["jti"])}


def _expiry(payload: dict[str, Any], ttl: timedelta) -> datetime:
    if "exp" in payload:
        return datetime.fromtimestamp(payload["exp"], tz=UTC)
    return utcnow() + ttl


def revoke(payload: dict[str, Any]) -> None:
    """Revoke the presented token and, for an access token, the refresh token it came with; prune expired rows."""
    now = utcnow()
    db.session.execute(delete(RevokedToken).where(RevokedToken.expires_at < now))
    user_id = str(payload.get("sub"))
    token_type = payload.get("type", "access")
    ttl = current_app.config["JWT_REFRESH_TOKEN_EXPIRES" if token_type == "refresh" else "JWT_ACCESS_TOKEN_EXPIRES"]
    entries = {payload["jti"]: (token_type, _expiry(payload, ttl))}
    if payload.get("refresh_jti"):
        entries[payload["refresh_jti"]] = ("refresh", now + current_app.config["JWT_REFRESH_TOKEN_EXPIRES"])
    known = set(db.session.scalars(select(RevokedToken.jti).where(RevokedToken.jti.in_(entries))))
    for jti, (kind, expires_at) in entries.items():
        if jti not in known:
            db.session.add(RevokedToken(jti=jti, token_type=kind, user_id=user_id, expires_at=expires_at))
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()  # a concurrent logout with the same token already revoked it


def token_user_and_revocation(payload: dict[str, Any]) -> tuple[User | None, bool]:
    """The token's user and whether the token (or the refresh token it came with) was revoked, in one query.

    Both are read afresh for every request (nothing is cached across requests), so a logout, deactivation or
    password change applies to the very next one.
    """
    params = {"user_id": str(payload.get("sub")),
              "jtis": [jti for jti in (payload.get("jti"), payload.get("refresh_jti")) if jti]}
    row = db.session.execute(TOKEN_USER, params).first()
    if row is None:
        return None, db.session.scalar(TOKEN_REVOKED, params) is True
    return row[0], bool(row[1])


def ensure_default_admin() -> User | None:
    """Development convenience: with ALLOW_DEFAULT_ADMIN and no admin yet, create `admin` (password from config)."""
    config = current_app.config
    if not config.get("ALLOW_DEFAULT_ADMIN"):
        return None
    if db.session.scalar(select(User.id).where(User.role == "admin").limit(1)) is not None:
        return None
    password = config.get("DEFAULT_ADMIN_PASSWORD") or ""
    if password_problems(password):
        log.warning("ALLOW_DEFAULT_ADMIN is on but DEFAULT_ADMIN_PASSWORD does not meet the password policy; "
                    "no default admin created (use create_admin.py)")
        return None
    try:
        user = create_user(DEFAULT_ADMIN_USERNAME, DEFAULT_ADMIN_EMAIL, password, role="admin")
    except (ApiError, IntegrityError) as exc:
        db.session.rollback()
        log.warning("default admin not created: %s", getattr(exc, "message", exc))
        return None
    log.warning("created default admin %r with DEFAULT_ADMIN_PASSWORD; change its password now "
                "(ALLOW_DEFAULT_ADMIN is meant for development only)", DEFAULT_ADMIN_USERNAME)
    return user


def create_or_reset_admin(username: str, email: str | None, password: str) -> tuple[User, bool]:
    """`create_admin.py`: a new admin, or an existing account made an active admin with a new password.

    Returns the user and whether it was created. `email` may be None when the account exists (it is kept).
    """
    existing = find_by_username(username)
    if existing is None:
        if not email:
            raise ValidationError("An email address is needed to create a new admin.", error="Missing required fields",
                                  details={"email": ["Missing data for required field."]})
        return create_user(username, email, password, role="admin"), True
    fields: dict[str, Any] = {"password": password}
    if email:
        fields["email"] = normalize_email(email)
    validate_account_fields(fields, exclude_id=existing.id)
    existing.set_password(password)
    existing.email = fields.get("email", existing.email)
    existing.role = "admin"
    existing.is_active = True
    db.session.commit()
    return existing, False
