"""Request and response bodies of /api/jobs (the job input schema itself lives with its checks in
`src.services.job_input`, because CSV rows go through it too)."""
from __future__ import annotations

from typing import Any

from marshmallow import EXCLUDE, Schema, fields, post_load, validate, validates_schema
from marshmallow import ValidationError as SchemaError

from src.services.job_input import JobInputSchema
from src.services.job_queries import SORT_COLUMNS
from src.utils.schema_fields import Text

MAX_PAGE_SIZE = 200
DEFAULT_PAGE_SIZE = 50

__all__ = ["JobInputSchema", "JobUpdateSchema", "JobSchema", "JobListQuerySchema", "JobListSchema", "JobResponseSchema",
           "JobDeletedSchema", "BulkUploadFormSchema", "BulkUploadResultSchema"]


class JobUpdateSchema(JobInputSchema):
    """The same fields, all optional (PUT changes only what it is sent)."""


class JobSchema(Schema):
    id = fields.String()
    name = fields.String()
    cron_expression = fields.String()
    target_url = fields.String(allow_none=True)
    github_owner = fields.String(allow_none=True)
    github_repo = fields.String(allow_none=True)
    github_workflow_name = fields.String(allow_none=True)
    metadata = fields.Dict()
    category = fields.String()
    end_date = fields.String(allow_none=True, metadata={"description": "YYYY-MM-DD"})
    pic_team = fields.String(allow_none=True)
    enable_email_notifications = fields.Boolean()
    notification_emails = fields.List(fields.String())
    notify_on_success = fields.Boolean()
    created_by = fields.String(allow_none=True)
    is_active = fields.Boolean()
    created_at = fields.String()
    updated_at = fields.String()
    last_execution_at = fields.String(allow_none=True)
    next_execution_at = fields.String(allow_none=True, metadata={"description": "In SCHEDULER_TIMEZONE"})


class JobListQuerySchema(Schema):
    class Meta:
        unknown = EXCLUDE

    search = Text(validate=validate.Length(max=255))
    is_active = fields.Boolean()
    category = Text(validate=validate.Length(max=100))
    pic_team = Text(validate=validate.Length(max=100))
    github_repo = Text(validate=validate.Length(max=255))
    created_by = Text(validate=validate.Length(max=36))
    sort_by = fields.String(load_default="created_at", validate=validate.OneOf(list(SORT_COLUMNS)))
    sort_dir = fields.String(load_default="desc", validate=validate.OneOf(["asc", "desc"]))
    page = fields.Integer(validate=validate.Range(min=1, max=10_000_000))
    limit = fields.Integer(validate=validate.Range(min=1, max=MAX_PAGE_SIZE))
    per_page = fields.Integer(validate=validate.Range(min=1, max=MAX_PAGE_SIZE))

    @validates_schema
    def one_page_size(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if "limit" in data and "per_page" in data and data["limit"] != data["per_page"]:
            raise SchemaError("Give limit or per_page (its alias), not two different values.", "per_page")

    @post_load
    def paging(self, data: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
        """Either paging parameter turns paging on; the other takes its default."""
        limit = data.pop("per_page", None) or data.get("limit")
        if "page" in data or limit is not None:
            data["page"] = data.get("page", 1)
            data["limit"] = limit or DEFAULT_PAGE_SIZE
        return data


class JobListSchema(Schema):
    count = fields.Integer()
    jobs = fields.List(fields.Nested(JobSchema))
    total = fields.Integer()
    page = fields.Integer()
    limit = fields.Integer()
    total_pages = fields.Integer()


class JobResponseSchema(Schema):
    message = fields.String()
    job = fields.Nested(JobSchema)


class DeletedJobSchema(Schema):
    id = fields.String()
    name = fields.String()


class JobDeletedSchema(Schema):
    message = fields.String()
    deleted_job = fields.Nested(DeletedJobSchema)


class BulkUploadFormSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    dry_run = fields.Boolean(load_default=False)
    atomic = fields.Boolean(load_default=False)
    default_github_owner = Text(validate=validate.Length(max=255))


class BulkRowErrorSchema(Schema):
    row = fields.Integer(metadata={"description": "CSV line number; the header is row 1"})
    job_name = fields.String(allow_none=True)
    error = fields.String()
    message = fields.String()


class BulkJobSchema(Schema):
    id = fields.String(allow_none=True)
    name = fields.String()
    is_active = fields.Boolean()


class BulkUploadResultSchema(Schema):
    message = fields.String()
    dry_run = fields.Boolean()
    created_count = fields.Integer()
    updated_count = fields.Integer()
    error_count = fields.Integer()
    errors = fields.List(fields.Nested(BulkRowErrorSchema))
    jobs = fields.List(fields.Nested(BulkJobSchema))
