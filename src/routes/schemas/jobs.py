"""Request and response bodies of /api/jobs (the job input schema itself lives with its checks in
`src.services.job_input`, because CSV rows go through it too)."""
from __future__ import annotations


from marshmallow import EXCLUDE, Schema, fields, validate

from src.routes.schemas.common import PageArgsSchema, PageFieldsSchema
from src.services.job_input import JobInputSchema
from src.services.job_queries import SORT_COLUMNS
from src.utils.schema_fields import Text

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


class JobListQuerySchema(PageArgsSchema):
    DEFAULT_LIMIT = 50

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


class JobListSchema(PageFieldsSchema):
    count = fields.Integer()
    jobs = fields.List(fields.Nested(JobSchema))


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
