"""/api/notifications: the caller's own in-app notifications (every role has its own; another's is a 404)."""
from __future__ import annotations

from typing import Any

from flask_jwt_extended import current_user

from src.routes import Blueprint
from src.routes.schemas.notifications import (CountMessageSchema, NotificationDeletedSchema,
                                              NotificationListQuerySchema, NotificationListSchema,
                                              NotificationResponseSchema, UnreadCountSchema)
from src.services import notifications
from src.utils.api_errors import ErrorSchema
from src.utils.auth import role_required

blp = Blueprint("notifications", __name__, url_prefix="/api/notifications", description="In-app notifications")


@blp.route("", methods=["GET"])
@role_required()
@blp.arguments(NotificationListQuerySchema, location="query")
@blp.response(200, NotificationListSchema)
@blp.alt_response(401, schema=ErrorSchema, description="Missing, invalid, expired or revoked token")
def list_notifications(args: dict[str, Any]) -> dict[str, Any]:
    """List your notifications, newest first (paged: default 20, max 100; unread_only, from, to)"""
    return notifications.list_notifications(current_user.id, args["page"], args["limit"], args["unread_only"],
                                            args.get("from_"), args.get("to"))


@blp.route("/unread-count", methods=["GET"])
@role_required()
@blp.response(200, UnreadCountSchema)
@blp.alt_response(401, schema=ErrorSchema, description="Missing, invalid, expired or revoked token")
def unread_count() -> dict[str, Any]:
    """Count your unread notifications"""
    return {"unread_count": notifications.unread_count(current_user.id)}


@blp.route("/<string:notification_id>/read", methods=["PUT"])
@role_required()
@blp.response(200, NotificationResponseSchema)
@blp.alt_response(401, schema=ErrorSchema, description="Missing, invalid, expired or revoked token")
@blp.alt_response(404, schema=ErrorSchema)
def mark_read(notification_id: str) -> dict[str, Any]:
    """Mark one of your notifications as read"""
    notification = notifications.mark_read(current_user.id, notification_id)
    return {"message": "Notification marked as read", "notification": notification.to_dict()}


@blp.route("/read-all", methods=["PUT"])
@role_required()
@blp.response(200, CountMessageSchema)
@blp.alt_response(401, schema=ErrorSchema, description="Missing, invalid, expired or revoked token")
def mark_all_read() -> dict[str, Any]:
    """Mark all your notifications as read"""
    count = notifications.mark_all_read(current_user.id)
    return {"message": f"{count} notification(s) marked as read", "updated_count": count}


@blp.route("/delete-read", methods=["DELETE"])
@role_required()
@blp.response(200, CountMessageSchema)
@blp.alt_response(401, schema=ErrorSchema, description="Missing, invalid, expired or revoked token")
def delete_read() -> dict[str, Any]:
    """Delete all your read notifications"""
    count = notifications.delete_read(current_user.id)
    return {"message": f"{count} read notification(s) deleted", "deleted_count": count}


@blp.route("/<string:notification_id>", methods=["DELETE"])
@role_required()
@blp.response(200, NotificationDeletedSchema)
@blp.alt_response(401, schema=ErrorSchema, description="Missing, invalid, expired or revoked token")
@blp.alt_response(404, schema=ErrorSchema)
def delete_notification(notification_id: str) -> dict[str, Any]:
    """Delete one of your notifications"""
    deleted = notifications.delete_notification(current_user.id, notification_id)
    return {"message": "Notification deleted", "deleted_notification": deleted}
