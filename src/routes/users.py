"""User accounts (admins manage them; everyone reads and edits their own) and their preferences."""
from __future__ import annotations

from typing import Any

from flask_jwt_extended import current_user

from src.routes import Blueprint
from src.routes.schemas.auth import (
    NotificationPreferencesResponseSchema,
    NotificationPreferencesSchema,
    UiPreferencesResponseSchema,
    UiPreferencesSchema,
    UserCreateSchema,
    UserDeletedSchema,
    UserListQuerySchema,
    UserListSchema,
    UserMessageSchema,
    UserResponseSchema,
    UserUpdatedSchema,
    UserUpdateSchema,
)
from src.services import preferences, users
from src.services.auth_tokens import issue_tokens
from src.utils.auth import role_required

blp = Blueprint("users", __name__, url_prefix="/api/auth", description="User accounts and preferences")

UNAUTHORIZED = {"response": "UNAUTHORIZED", "description": "Missing, invalid, expired or revoked token"}
FORBIDDEN = {"response": "FORBIDDEN", "description": "Not an admin, or another user's account"}
NOT_FOUND = {"response": "NOT_FOUND", "description": "User not found"}
CONFLICT = {"response": "CONFLICT", "description": "Duplicate username or email"}


@blp.route("/register", methods=["POST"])
@role_required("admin")
@blp.arguments(UserCreateSchema)
@blp.response(201, UserMessageSchema)
@blp.alt_response(401, **UNAUTHORIZED)
@blp.alt_response(403, **FORBIDDEN)
@blp.alt_response(409, **CONFLICT)
def register(data: dict[str, Any]) -> dict[str, Any]:
    """Create a user account (admin)"""
    return {"message": "User created", "user": users.create_user(**data)}


@blp.route("/users")
@role_required("admin")
@blp.arguments(UserListQuerySchema, location="query")
@blp.response(200, UserListSchema)
@blp.alt_response(401, **UNAUTHORIZED)
@blp.alt_response(403, **FORBIDDEN)
def list_users(query: dict[str, int]) -> dict[str, Any]:
    """List all users (admin; `page` and `limit` page on the server)"""
    return users.list_users(query.get("page"), query.get("limit"))


@blp.route("/users/<user_id>")
@role_required()
@blp.response(200, UserResponseSchema)
@blp.alt_response(401, **UNAUTHORIZED)
@blp.alt_response(403, **FORBIDDEN)
@blp.alt_response(404, **NOT_FOUND)
def get_user(user_id: str) -> dict[str, Any]:
    """Get a user (self or admin)"""
    users.ensure_self_or_admin(current_user, user_id, "see this account")
    return {"user": users.get_user(user_id)}


@blp.route("/users/<user_id>", methods=["PUT"])
@role_required()
@blp.arguments(UserUpdateSchema)
@blp.response(200, UserUpdatedSchema)
@blp.alt_response(401, **UNAUTHORIZED)
@blp.alt_response(403, **FORBIDDEN)
@blp.alt_response(404, **NOT_FOUND)
@blp.alt_response(409, **CONFLICT)
def update_user(data: dict[str, Any], user_id: str) -> dict[str, Any]:
    """Update a user (self or admin; only admins change role and is_active)

    Changing your own password needs `current_password`. A new password ends every session of the account;
    when it is your own, the response carries fresh `access_token` and `refresh_token`.
    """
    own_password = "password" in data and user_id == current_user.id
    user = users.update_user(current_user, user_id, data)
    tokens = issue_tokens(user) if own_password else {}
    return {"message": "User updated", "user": user, **tokens}


@blp.route("/users/<user_id>", methods=["DELETE"])
@role_required("admin")
@blp.response(200, UserDeletedSchema)
@blp.alt_response(401, **UNAUTHORIZED)
@blp.alt_response(403, **FORBIDDEN)
@blp.alt_response(404, **NOT_FOUND)
def delete_user(user_id: str) -> dict[str, Any]:
    """Delete a user (admin; not yourself, never the last active admin)"""
    return {"message": "User deleted", "deleted_user": users.delete_user(current_user, user_id)}


@blp.route("/users/<user_id>/preferences")
@role_required()
@blp.response(200, NotificationPreferencesResponseSchema)
@blp.alt_response(401, **UNAUTHORIZED)
@blp.alt_response(403, **FORBIDDEN)
@blp.alt_response(404, **NOT_FOUND)
def get_preferences(user_id: str) -> dict[str, Any]:
    """Get a user's notification preferences (self or admin)"""
    users.ensure_self_or_admin(current_user, user_id, "see these preferences")
    return {"preferences": preferences.get_notification_preferences(user_id).to_dict()}


@blp.route("/users/<user_id>/preferences", methods=["PUT"])
@role_required()
@blp.arguments(NotificationPreferencesSchema)
@blp.response(200, NotificationPreferencesResponseSchema)
@blp.alt_response(401, **UNAUTHORIZED)
@blp.alt_response(403, **FORBIDDEN)
@blp.alt_response(404, **NOT_FOUND)
def put_preferences(data: dict[str, bool], user_id: str) -> dict[str, Any]:
    """Update some of a user's notification preferences (self or admin)"""
    users.ensure_self_or_admin(current_user, user_id, "change these preferences")
    row = preferences.update_notification_preferences(user_id, data)
    return {"message": "Preferences updated", "preferences": row.to_dict()}


@blp.route("/users/<user_id>/ui-preferences")
@role_required()
@blp.response(200, UiPreferencesResponseSchema)
@blp.alt_response(401, **UNAUTHORIZED)
@blp.alt_response(403, **FORBIDDEN)
@blp.alt_response(404, **NOT_FOUND)
def get_ui_preferences(user_id: str) -> dict[str, Any]:
    """Get a user's dashboard preferences (self or admin)"""
    users.ensure_self_or_admin(current_user, user_id, "see these preferences")
    return {"preferences": preferences.get_ui_preferences(user_id).to_dict()}


@blp.route("/users/<user_id>/ui-preferences", methods=["PUT"])
@role_required()
@blp.arguments(UiPreferencesSchema)
@blp.response(200, UiPreferencesResponseSchema)
@blp.alt_response(401, **UNAUTHORIZED)
@blp.alt_response(403, **FORBIDDEN)
@blp.alt_response(404, **NOT_FOUND)
def put_ui_preferences(data: dict[str, Any], user_id: str) -> dict[str, Any]:
    """Update some of a user's dashboard columns (self or admin)"""
    users.ensure_self_or_admin(current_user, user_id, "change these preferences")
    row = preferences.update_ui_preferences(user_id, data["jobs_table_columns"])
    return {"message": "Preferences updated", "preferences": row.to_dict()}
