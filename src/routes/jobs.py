"""/api/jobs: list, CRUD, CSV export and bulk upload. Anyone logged in reads; admins and users write (users
only their own jobs)."""
from __future__ import annotations

from typing import Any

from flask import Response, jsonify
from flask_jwt_extended import current_user
from flask_smorest.fields import Upload
from marshmallow import Schema

from src.routes import Blueprint
from src.routes.schemas.jobs import (BulkUploadFormSchema, BulkUploadResultSchema, JobDeletedSchema, JobInputSchema,
                                     JobListQuerySchema, JobListSchema, JobResponseSchema, JobUpdateSchema)
from src.services import bulk_upload, jobs
from src.services.job_queries import JobListQuery, list_jobs
from src.utils.api_errors import ErrorSchema
from src.utils.auth import role_required

blp = Blueprint("jobs", __name__, url_prefix="/api/jobs", description="Jobs")


class UploadSchema(Schema):
    file = Upload(required=True, metadata={"description": "The CSV file (UTF-8, with or without BOM)"})


class BulkUploadRequestSchema(BulkUploadFormSchema, UploadSchema):
    """The whole multipart body as documented: webargs reads the file and the options from two locations."""


@blp.route("", methods=["GET"])
@role_required()
@blp.arguments(JobListQuerySchema, location="query")
@blp.response(200, JobListSchema)
def list_all(args: dict[str, Any]) -> Response:
    """List jobs: search, filters and sorting; paged when page/limit (or per_page) are given"""
    # Job.to_dict is already the documented shape; a Response skips re-serialising up to 100,000 jobs.
    return jsonify(list_jobs(JobListQuery(**args)))


@blp.route("", methods=["POST"])
@role_required("admin", "user")
@blp.arguments(JobInputSchema)
@blp.response(201, JobResponseSchema)
@blp.alt_response(409, schema=ErrorSchema)
def create(body: dict[str, Any]) -> dict[str, Any]:
    """Create a job owned by the caller (admin/user); unknown keys are ignored"""
    job = jobs.create_job(body, current_user)
    return {"message": "Job created successfully", "job": jobs.get_job_details(job.id)}


@blp.route("/export", methods=["GET"])
@role_required()
@blp.arguments(JobListQuerySchema, location="query")
@blp.response(200, content_type="text/csv", description="CSV in the bulk-upload columns")
def export(args: dict[str, Any]) -> Response:
    """Export jobs (the list filters apply) as CSV that re-imports through bulk upload"""
    args = {k: v for k, v in args.items() if k not in ("page", "limit", "sort_by", "sort_dir")}
    return Response(bulk_upload.export_jobs(JobListQuery(**args)), mimetype="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="jobs.csv"'})


@blp.route("/bulk-upload", methods=["POST"])
@role_required("admin", "user")
@blp.arguments(BulkUploadFormSchema, location="form")
@blp.arguments(UploadSchema, location="files")
@blp.doc(requestBody={"required": True, "content": {"multipart/form-data": {"schema": BulkUploadRequestSchema}}})
@blp.response(200, BulkUploadResultSchema)
@blp.alt_response(413, schema=ErrorSchema)
def bulk(options: dict[str, Any], files: dict[str, Any]) -> dict[str, Any]:
    """Create or update jobs from a CSV file (by name); options dry_run, atomic, default_github_owner"""
    result = bulk_upload.import_jobs(files["file"].read(), current_user, dry_run=options["dry_run"],
                                     atomic=options["atomic"],
                                     default_github_owner=options.get("default_github_owner"))
    return result.to_dict()


@blp.route("/<string:job_id>", methods=["GET"])
@role_required()
@blp.response(200, JobResponseSchema)
@blp.alt_response(404, schema=ErrorSchema)
def get(job_id: str) -> dict[str, Any]:
    """Get one job"""
    return {"job": jobs.get_job_details(job_id)}


@blp.route("/<string:job_id>", methods=["PUT"])
@role_required("admin", "user")
@blp.arguments(JobUpdateSchema(partial=True))
@blp.response(200, JobResponseSchema)
@blp.alt_response(404, schema=ErrorSchema)
@blp.alt_response(409, schema=ErrorSchema)
def update(body: dict[str, Any], job_id: str) -> dict[str, Any]:
    """Update a job (owner or admin; only the fields sent); is_active pauses or resumes it"""
    jobs.update_job(job_id, body, current_user)
    return {"message": "Job updated successfully", "job": jobs.get_job_details(job_id)}


@blp.route("/<string:job_id>", methods=["DELETE"])
@role_required("admin", "user")
@blp.response(200, JobDeletedSchema)
@blp.alt_response(404, schema=ErrorSchema)
def delete(job_id: str) -> dict[str, Any]:
    """Delete a job and its execution history (owner or admin)"""
    return {"message": "Job deleted successfully", "deleted_job": jobs.delete_job(job_id, current_user)}
