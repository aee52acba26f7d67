"""Request and response bodies of the execution endpoints (run, test-run, history, statistics)."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from marshmallow import EXCLUDE, Schema, fields, post_load, pre_load, validate, validates_schema
from marshmallow import ValidationError as SchemaError

from src.models.base import utcnow
from src.routes.schemas.common import PageArgsSchema, PageFieldsSchema, TimeBound, check_range
from src.models.job_execution import STATUSES
from src.services.executions import ExecutionQuery

RANGES = {"24h": timedelta(hours=24), "7d": timedelta(days=7), "30d": timedelta(days=30),
          "90d": timedelta(days=90), "all": None}


class _PagedQuery(PageArgsSchema):
    ALWAYS_PAGED = True

    class Meta:
        unknown = EXCLUDE

    status = fields.String(validate=validate.Length(max=100),
                           metadata={"description": "Comma list of running, success, failed, missed"})
    trigger_type = fields.String(validate=validate.OneOf(["scheduled", "manual"]))
    execution_type = fields.String(validate=validate.OneOf(["github_actions", "webhook"]))
    start = TimeBound(data_key="from", metadata={"description": "ISO date or date-time (started_at >=)"})
    end = TimeBound(end=True, data_key="to", metadata={"description": "ISO date (whole day) or date-time (inclusive)"})

    @validates_schema
    def known_statuses(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if "status" in data:
            unknown = [s for s in data["status"].split(",") if s.strip() and s.strip() not in STATUSES]
            if unknown:
                raise SchemaError(f"Unknown status {', '.join(unknown)}; use {', '.join(STATUSES)}.", "status")

    def finish(self, data: dict[str, Any]) -> dict[str, Any]:
        start, end = data.get("start"), data.get("end")
        check_range(start, end)
        statuses = [s.strip() for s in data.get("status", "").split(",") if s.strip()] or None
        query = ExecutionQuery(job_id=data.get("job_id"), statuses=statuses, trigger_type=data.get("trigger_type"),
                               execution_type=data.get("execution_type"), start=start, end=end)
        return {"query": query, "page": data["page"], "limit": data["limit"]}


class JobExecutionListQuerySchema(_PagedQuery):
    """Filters of one job's history."""


class ExecutionListQuerySchema(_PagedQuery):
    job_id = fields.String(validate=validate.Length(max=36))


class StatisticsQuerySchema(Schema):
    class Meta:
        unknown = EXCLUDE

    range = fields.String(load_default="all", validate=validate.OneOf(list(RANGES)),
                          metadata={"description": "24h, 7d, 30d, 90d or all (ignored when 'from' is given)"})
    job_id = fields.String(validate=validate.Length(max=36))
    start = TimeBound(data_key="from")
    end = TimeBound(end=True, data_key="to")

    @post_load
    def to_query(self, data: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
        start, end = data.get("start"), data.get("end")
        span = RANGES[data["range"]]
        if start is None and span is not None:
            start = (end or utcnow()) - span
        check_range(start, end)
        return {"query": ExecutionQuery(job_id=data.get("job_id"), start=start, end=end), "range": data["range"]}


class TestRunSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    target_url = fields.String(validate=validate.Length(max=500))
    github_owner = fields.String(validate=validate.Length(max=255))
    github_repo = fields.String(validate=validate.Length(max=255))
    github_workflow_name = fields.String(validate=validate.Length(max=255))
    metadata = fields.Dict(keys=fields.String())
    timeout_seconds = fields.Integer(load_default=10, validate=validate.Range(min=1, max=30))

    @pre_load
    def metadata_alias(self, data: Any, **_kwargs: Any) -> Any:
        if isinstance(data, dict) and "metadata" not in data and "job_metadata" in data:
            data = {**data, "metadata": data["job_metadata"]}
        return data

    @validates_schema
    def one_target(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if bool(data.get("github_repo")) != bool(data.get("github_workflow_name")):
            raise SchemaError("github_repo and github_workflow_name go together.", "github_workflow_name")


class ExecutionSchema(Schema):
    id = fields.String()
    job_id = fields.String()
    job_name = fields.String(allow_none=True)
    github_repo = fields.String(allow_none=True)
    status = fields.String(metadata={"description": "running, success, failed or missed"})
    trigger_type = fields.String(metadata={"description": "scheduled or manual"})
    scheduled_for = fields.String(allow_none=True, metadata={"description": "The fire time (scheduled runs)"})
    started_at = fields.String()
    completed_at = fields.String(allow_none=True)
    duration_seconds = fields.Float(allow_none=True)
    lag_seconds = fields.Float(allow_none=True, metadata={"description": "started_at - scheduled_for"})
    execution_type = fields.String(allow_none=True)
    target = fields.String(allow_none=True)
    response_status = fields.Integer(allow_none=True)
    error_message = fields.String(allow_none=True)
    output = fields.String(allow_none=True, metadata={"description": "First 64 KiB of the response body"})
    runner_id = fields.String(allow_none=True, metadata={"description": "The process that made the call"})


class ExecutionListSchema(PageFieldsSchema):
    executions = fields.List(fields.Nested(ExecutionSchema))


class ExecutionResponseSchema(Schema):
    execution = fields.Nested(ExecutionSchema)


class JobStatisticsSchema(Schema):
    total_executions = fields.Integer()
    success_count = fields.Integer()
    failed_count = fields.Integer()
    running_count = fields.Integer()
    missed_count = fields.Integer()
    success_rate = fields.Float(metadata={"description": "Percent of finished runs that succeeded"})
    average_duration_seconds = fields.Float(allow_none=True)


class JobExecutionStatsSchema(Schema):
    job_id = fields.String()
    job_name = fields.String()
    statistics = fields.Nested(JobStatisticsSchema)
    latest_execution = fields.Nested(ExecutionSchema, allow_none=True)


class StatisticsSchema(Schema):
    total_executions = fields.Integer()
    successful_executions = fields.Integer()
    failed_executions = fields.Integer()
    running_executions = fields.Integer()
    missed_executions = fields.Integer()
    success_rate = fields.Float(metadata={"description": "Percent of finished runs that succeeded"})
    average_duration_seconds = fields.Float(allow_none=True)
    range = fields.String()
    start = fields.String(attribute="from", data_key="from", allow_none=True)
    end = fields.String(attribute="to", data_key="to", allow_none=True)


class TriggeredSchema(Schema):
    message = fields.String()
    job_id = fields.String()
    execution_id = fields.String()


class TestRunResultSchema(Schema):
    ok = fields.Boolean()
    type = fields.String(metadata={"description": "webhook or github"})
    status_code = fields.Integer(allow_none=True)
    message = fields.String()
    error = fields.String(allow_none=True)
    duration_seconds = fields.Float()
