"""Request and response bodies of /api/auth: login, tokens, users and their preferences.

Schemas check types and sizes (so oversized or mistyped input is a 400 before any work); the account rules
themselves (password policy, unique names) live in `src.services.users`.
"""
from __future__ import annotations

from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, pre_load, validate, validates_schema

from src.routes.schemas.common import PageArgsSchema, PageFieldsSchema
from src.models.notification_preferences import PREFERENCE_DEFAULTS
from src.models.ui_preferences import JOBS_TABLE_COLUMN_DEFAULTS
from src.models.user import ROLES
from src.services.users import (
    EMAIL_MAX_LENGTH,
    PASSWORD_MAX_LENGTH,
    PASSWORD_MIN_LENGTH,
    USERNAME_MAX_LENGTH,
    USERNAME_MIN_LENGTH,
    USERNAME_PATTERN,
)

REQUIRED = "Missing data for required field."
LOGIN_MAX_LENGTH = max(EMAIL_MAX_LENGTH, USERNAME_MAX_LENGTH)
# Documented in OpenAPI (minLength, pattern, format); the service applies the same rules to every caller.
USERNAME_RULES = [validate.Length(min=USERNAME_MIN_LENGTH, max=USERNAME_MAX_LENGTH),
                  validate.Regexp(f"^{USERNAME_PATTERN.pattern}$",
                                  error="Use letters, digits, '.', '_' and '-' only, starting with a letter or digit.")]
PASSWORD_RULES = validate.Length(min=PASSWORD_MIN_LENGTH, max=PASSWORD_MAX_LENGTH)


class StrictBoolean(fields.Boolean):
    """JSON true/false only: "yes", 1 or "false" are errors rather than guesses."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


class NonEmptySchema(Schema):
    """A partial update must change something (this also turns a body that is not JSON into a 400)."""

    @validates_schema
    def not_empty(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if not data:
            raise ValidationError(f"Send a JSON object with at least one of: {', '.join(self.fields)}.", "_body")


# Requests


class LoginSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    username = fields.String(validate=validate.Length(min=1, max=LOGIN_MAX_LENGTH),
                             metadata={"description": "Username or email address"})
    email = fields.String(validate=validate.Length(min=1, max=LOGIN_MAX_LENGTH))
    password = fields.String(required=True, validate=validate.Length(min=1, max=PASSWORD_MAX_LENGTH))

    @validates_schema
    def username_or_email(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if not data.get("username") and not data.get("email"):
            raise ValidationError(REQUIRED, "username")


class UserCreateSchema(Schema):
    username = fields.String(required=True, validate=USERNAME_RULES)
    email = fields.Email(required=True, validate=validate.Length(max=EMAIL_MAX_LENGTH))
    password = fields.String(required=True, validate=PASSWORD_RULES, load_only=True,
                             metadata={"description": "8-128 characters, not only whitespace"})
    role = fields.String(load_default="viewer", validate=validate.OneOf(ROLES))
    is_active = StrictBoolean(load_default=True)


class UserUpdateSchema(NonEmptySchema):
    username = fields.String(validate=USERNAME_RULES)
    email = fields.Email(validate=validate.Length(max=EMAIL_MAX_LENGTH))
    password = fields.String(validate=PASSWORD_RULES, load_only=True,
                             metadata={"description": "8-128 characters, not only whitespace"})
    current_password = fields.String(validate=validate.Length(max=PASSWORD_MAX_LENGTH), load_only=True,
                                     metadata={"description": "Required when changing your own password"})
    role = fields.String(validate=validate.OneOf(ROLES), metadata={"description": "Admins only"})
    is_active = StrictBoolean(metadata={"description": "Admins only"})


class UserListQuerySchema(PageArgsSchema):
    """The contract's paging; neither parameter means every user."""


class UnwrapPreferencesSchema(NonEmptySchema):
    """Accepts the flat object or the `{"preferences": {...}}` envelope a GET returned."""

    @pre_load
    def unwrap(self, data: Any, **_kwargs: Any) -> Any:
        if isinstance(data, dict) and set(data) == {"preferences"} and isinstance(data["preferences"], dict):
            return data["preferences"]
        return data


NotificationPreferencesSchema = UnwrapPreferencesSchema.from_dict(
    {key: StrictBoolean() for key in PREFERENCE_DEFAULTS}, name="NotificationPreferences")


class UiPreferencesSchema(UnwrapPreferencesSchema):
    jobs_table_columns = fields.Dict(keys=fields.String(validate=validate.OneOf(JOBS_TABLE_COLUMN_DEFAULTS)),
                                     values=StrictBoolean(), required=True)


# Responses


class UserSchema(Schema):
    id = fields.String()
    username = fields.String()
    email = fields.String()
    role = fields.String()
    is_active = fields.Boolean()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class UserResponseSchema(Schema):
    user = fields.Nested(UserSchema)


class UserMessageSchema(UserResponseSchema):
    message = fields.String()


class UserUpdatedSchema(UserMessageSchema):
    """A password change ends every session of the account; changing your own returns fresh tokens."""

    access_token = fields.String()
    refresh_token = fields.String()


class UserListSchema(PageFieldsSchema):
    count = fields.Integer()
    users = fields.List(fields.Nested(UserSchema))


class DeletedUserSchema(Schema):
    id = fields.String()
    username = fields.String()


class UserDeletedSchema(Schema):
    message = fields.String()
    deleted_user = fields.Nested(DeletedUserSchema)


class LoginResponseSchema(Schema):
    message = fields.String()
    access_token = fields.String()
    refresh_token = fields.String()
    user = fields.Nested(UserSchema)


class AccessTokenSchema(Schema):
    access_token = fields.String()


class MessageSchema(Schema):
    message = fields.String()


class NotificationPreferencesResponseSchema(Schema):
    message = fields.String()
    preferences = fields.Nested(Schema.from_dict({key: fields.Boolean() for key in PREFERENCE_DEFAULTS},
                                                 name="NotificationPreferencesValues"))


class UiPreferencesResponseSchema(Schema):
    message = fields.String()
    preferences = fields.Nested(Schema.from_dict(
        {"jobs_table_columns": fields.Dict(keys=fields.String(), values=fields.Boolean())}, name="UiPreferencesValues"))
