"""Running jobs and their history: manual run, test run, executions and statistics."""
from __future__ import annotations

from typing import Any

from flask_jwt_extended import current_user

from src.routes import Blueprint
from src.routes.schemas.executions import (ExecutionListQuerySchema, ExecutionListSchema, ExecutionResponseSchema,
                                           JobExecutionListQuerySchema, JobExecutionStatsSchema,
                                           StatisticsQuerySchema, StatisticsSchema, TestRunResultSchema,
                                           TestRunSchema, TriggeredSchema)
from src.services import executions
from src.utils.api_errors import ErrorSchema
from src.utils.auth import role_required

blp = Blueprint("executions", __name__, url_prefix="/api", description="Job runs and execution history")


@blp.route("/jobs/test-run", methods=["POST"])
@role_required("admin", "user")
@blp.arguments(TestRunSchema)
@blp.response(200, TestRunResultSchema)
def test_run(body: dict[str, Any]) -> dict[str, Any]:
    """Call a target once, as a run would, without storing anything (admin/user)"""
    return executions.test_run(body)


@blp.route("/jobs/<string:job_id>/execute", methods=["POST"])
@role_required("admin", "user")
@blp.response(200, TriggeredSchema)
@blp.alt_response(404, schema=ErrorSchema)
def execute(job_id: str) -> dict[str, Any]:
    """Run a job now (owner or admin); the call runs in the background, poll the execution for its result"""
    execution = executions.trigger_manual_run(job_id, current_user)
    return {"message": "Job triggered successfully", "job_id": job_id, "execution_id": execution.id}


@blp.route("/jobs/<string:job_id>/executions", methods=["GET"])
@role_required()
@blp.arguments(JobExecutionListQuerySchema, location="query")
@blp.response(200, ExecutionListSchema)
@blp.alt_response(404, schema=ErrorSchema)
def job_history(args: dict[str, Any], job_id: str) -> dict[str, Any]:
    """A job's executions, newest first (paged, default 20)"""
    executions.ensure_job_exists(job_id)
    args["query"].job_id = job_id
    return executions.list_executions(args["query"], args["page"], args["limit"])


@blp.route("/jobs/<string:job_id>/executions/stats", methods=["GET"])
@role_required()
@blp.response(200, JobExecutionStatsSchema)
@blp.alt_response(404, schema=ErrorSchema)
def job_stats(job_id: str) -> dict[str, Any]:
    """A job's execution statistics and latest execution"""
    return executions.job_statistics(job_id)


@blp.route("/jobs/<string:job_id>/executions/<string:execution_id>", methods=["GET"])
@role_required()
@blp.response(200, ExecutionResponseSchema)
@blp.alt_response(404, schema=ErrorSchema)
def job_execution(job_id: str, execution_id: str) -> dict[str, Any]:
    """One execution of a job"""
    executions.ensure_job_exists(job_id)
    return {"execution": executions.get_execution(execution_id, job_id)}


@blp.route("/executions", methods=["GET"])
@role_required()
@blp.arguments(ExecutionListQuerySchema, location="query")
@blp.response(200, ExecutionListSchema)
def history(args: dict[str, Any]) -> dict[str, Any]:
    """All executions, newest first, with filters (paged, default 20)"""
    return executions.list_executions(args["query"], args["page"], args["limit"])


@blp.route("/executions/statistics", methods=["GET"])
@role_required()
@blp.arguments(StatisticsQuerySchema, location="query")
@blp.response(200, StatisticsSchema)
def statistics(args: dict[str, Any]) -> dict[str, Any]:
    """Execution statistics over a range (24h, 7d, 30d, 90d, all) or from/to"""
    return executions.global_statistics(args["query"], args["range"])


@blp.route("/executions/<string:execution_id>", methods=["GET"])
@role_required()
@blp.response(200, ExecutionResponseSchema)
@blp.alt_response(404, schema=ErrorSchema)
def execution(execution_id: str) -> dict[str, Any]:
    """One execution"""
    return {"execution": executions.get_execution(execution_id)}
