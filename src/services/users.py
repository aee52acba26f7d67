"""User accounts: what makes a valid account and who may create, change or delete one.

The API and `create_admin.py` both go through these functions, so the rules (password policy, unique names,
the last active admin) hold whichever way an account is changed.
"""
from __future__ import annotations

import re
from typing import Any

from marshmallow import ValidationError as MarshmallowValidationError
from marshmallow.validate import Email
from sqlalchemy import func, select

from src.models import User, db
from src.models.user import ROLES
from src.utils.api_errors import ApiError, ConflictError, ForbiddenError, NotFoundError, ValidationError
from src.utils.paging import page_envelope

PASSWORD_MIN_LENGTH = 8
PASSWORD_MAX_LENGTH = 128
USERNAME_MIN_LENGTH = 3
USERNAME_MAX_LENGTH = 80
EMAIL_MAX_LENGTH = 120
USERNAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
ADMIN_FIELDS = ("role", "is_active")


def password_problems(password: str) -> list[str]:
    """The password policy: 8-128 characters, not only whitespace (long passphrases welcome, no composition rules)."""
    if len(password) < PASSWORD_MIN_LENGTH:
        return [f"Use at least {PASSWORD_MIN_LENGTH} characters."]
    if len(password) > PASSWORD_MAX_LENGTH:
        return [f"Use at most {PASSWORD_MAX_LENGTH} characters."]
    if not password.strip():
        return ["The password cannot be only whitespace."]
    return []


def username_problems(username: str) -> list[str]:
    if not USERNAME_MIN_LENGTH <= len(username) <= USERNAME_MAX_LENGTH:
        return [f"Use {USERNAME_MIN_LENGTH} to {USERNAME_MAX_LENGTH} characters."]
    if not USERNAME_PATTERN.fullmatch(username):
        return ["Use letters, digits, '.', '_' and '-' only, starting with a letter or digit."]
    return []


def email_problems(email: str) -> list[str]:
    if len(email) > EMAIL_MAX_LENGTH:
        return [f"Use at most {EMAIL_MAX_LENGTH} characters."]
    try:
        Email()(email)
    except MarshmallowValidationError:
        return ["Not a valid email address."]
    return []


def normalize_email(email: str) -> str:
    return email.strip().lower()


def get_user(user_id: str) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFoundError(f"No user has the id {user_id!r}.", error="User not found")
    return user


def find_by_login(login: str) -> User | None:
    """The account a login name designates: a username or an email address, both case-insensitive."""
    name = login.strip().lower()
    return db.session.scalars(
        select(User).where((func.lower(User.username) == name) | (func.lower(User.email) == name)).limit(1)
    ).first()


def find_by_username(username: str) -> User | None:
    return db.session.scalars(select(User).where(func.lower(User.username) == username.strip().lower())).first()


def list_users(page: int | None = None, limit: int | None = None) -> dict[str, Any]:
    """`{count, users}`, oldest first; with `page` and `limit` one page plus `total, page, limit, total_pages`."""
    statement = select(User).order_by(User.created_at, User.username, User.id)
    envelope: dict[str, Any] = {}
    if page is not None and limit is not None:
        total = db.session.scalar(select(func.count()).select_from(User)) or 0
        statement = statement.limit(limit).offset((page - 1) * limit)
        envelope = page_envelope(total, page, limit)
    found = list(db.session.scalars(statement))
    return {"count": len(found), "users": found, **envelope}


def ensure_self_or_admin(actor: User, user_id: str, action: str) -> None:
    """An account's own data is its owner's (any role) or an admin's."""
    if actor.role != "admin" and actor.id != user_id:
        raise ForbiddenError(f"Only this user or an admin may {action}.")


def validate_account_fields(fields: dict[str, Any], *, exclude_id: str | None = None) -> None:
    """Gather every problem of the given fields into one 400, then check uniqueness (409)."""
    problems: dict[str, list[str]] = {}
    checks = {"username": username_problems, "email": email_problems, "password": password_problems}
    for name, check in checks.items():
        if name in fields and (found := check(fields[name])):
            problems[name] = found
    if "role" in fields and fields["role"] not in ROLES:
        problems["role"] = [f"Must be one of: {', '.join(ROLES)}."]
    if problems:
        raise ValidationError("Some fields are invalid; see details.", details=problems)
    for name, column in (("username", User.username), ("email", User.email)):
        if name not in fields:
            continue
        query = select(User.id).where(func.lower(column) == fields[name].lower())
        if exclude_id is not None:
            query = query.where(User.id != exclude_id)
        if db.session.scalar(query.limit(1)) is not None:
            raise ConflictError(f"A user with this {name} already exists.", error=f"Duplicate {name}",
                                details={name: ["Already taken."]})


def _ensure_another_active_admin(user: User, action: str) -> None:
    """The service must keep one active admin; the rows are locked so two admins cannot demote each other at once."""
    admin_ids = db.session.scalars(
        select(User.id).where(User.role == "admin", User.is_active.is_(True)).with_for_update()
    ).all()
    if not [admin_id for admin_id in admin_ids if admin_id != user.id]:
        raise ApiError(f"Cannot {action}: it is the last active admin. Make another user an admin first.",
                       error="Last active admin")


def create_user(username: str, email: str, password: str, role: str = "viewer", is_active: bool = True) -> User:
    fields = {"username": username.strip(), "email": normalize_email(email), "password": password, "role": role}
    validate_account_fields(fields)
    user = User(username=fields["username"], email=fields["email"], role=role, is_active=is_active)
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    return user


def update_user(actor: User, user_id: str, changes: dict[str, Any]) -> User:
    """Self or admin; only an admin changes role/is_active; your own new password needs the current one."""
    ensure_self_or_admin(actor, user_id, "change this account")
    user = get_user(user_id)
    changes = dict(changes)
    current_password = changes.pop("current_password", None)
    if "username" in changes:
        changes["username"] = changes["username"].strip()
    if "email" in changes:
        changes["email"] = normalize_email(changes["email"])
    changed = {name: value for name, value in changes.items() if name == "password" or getattr(user, name) != value}
    if actor.role != "admin" and any(name in changed for name in ADMIN_FIELDS):
        raise ForbiddenError("Only an admin may change a user's role or is_active.")
    if "password" in changed and actor.id == user.id:
        if not current_password:
            raise ValidationError("Give current_password to set a new password.", error="Missing required fields",
                                  details={"current_password": ["Missing data for required field."]})
        if not user.check_password(current_password):
            raise ValidationError("current_password is not your current password.", error="Invalid current password",
                                  details={"current_password": ["Does not match."]})
    validate_account_fields(changed, exclude_id=user.id)
    if user.role == "admin" and user.is_active and (changed.get("role", "admin") != "admin"
                                                     or changed.get("is_active", True) is False):
        _ensure_another_active_admin(user, "demote or deactivate this user")
    for name, value in changed.items():
        if name == "password":
            user.set_password(value)
        else:
            setattr(user, name, value)
    db.session.commit()
    return user


def delete_user(actor: User, user_id: str) -> dict[str, str]:
    """Admins delete other accounts; their jobs stay (created_by becomes null), their notifications go."""
    if actor.id == user_id:
        raise ApiError("You cannot delete your own account; ask another admin.", error="Cannot delete yourself")
    user = get_user(user_id)
    if user.role == "admin" and user.is_active:
        _ensure_another_active_admin(user, "delete this user")
    deleted = {"id": user.id, "username": user.username}
    db.session.delete(user)
    db.session.commit()
    return deleted
