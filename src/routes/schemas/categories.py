"""Request and response bodies of /api/job-categories and /api/pic-teams (the two lists share their shape)."""
from __future__ import annotations

from typing import Any

from marshmallow import EXCLUDE, Schema, fields, pre_load, validate

from src.utils.schema_fields import Text


class CategoryInSchema(Schema):
    class Meta:
        unknown = EXCLUDE  # the dashboard sends the whole object back

    name = Text(required=True, validate=validate.Length(min=1, max=100))
    is_active = fields.Boolean()

    @pre_load
    def strip(self, data: Any, **_kwargs: Any) -> Any:
        """Surrounding blanks are typing accidents; an optional text left blank means "none"."""
        if not isinstance(data, dict):
            return data
        cleaned = {k: v.strip() if isinstance(v, str) else v for k, v in data.items()}
        if cleaned.get("slack_handle") == "":
            cleaned["slack_handle"] = None
        return cleaned


class CategoryUpdateSchema(CategoryInSchema):
    name = Text(validate=validate.Length(min=1, max=100))


class CategorySchema(Schema):
    id = fields.String()
    slug = fields.String()
    name = fields.String()
    is_active = fields.Boolean()
    created_at = fields.String()
    updated_at = fields.String()


class ListQuerySchema(Schema):
    include_inactive = fields.Boolean(load_default=False)


class CategoryListSchema(Schema):
    categories = fields.List(fields.Nested(CategorySchema))


class CategoryResponseSchema(Schema):
    message = fields.String()
    category = fields.Nested(CategorySchema)


class PicTeamInSchema(CategoryInSchema):
    slack_handle = Text(allow_none=True, validate=validate.Length(max=100))


class PicTeamUpdateSchema(PicTeamInSchema):
    name = Text(validate=validate.Length(min=1, max=100))


class PicTeamSchema(CategorySchema):
    slack_handle = fields.String(allow_none=True)


class PicTeamListSchema(Schema):
    pic_teams = fields.List(fields.Nested(PicTeamSchema))


class PicTeamResponseSchema(Schema):
    message = fields.String()
    pic_team = fields.Nested(PicTeamSchema)
