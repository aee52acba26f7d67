"""/api/job-categories: anyone logged in reads, admins manage."""
from __future__ import annotations

from typing import Any

from src.routes import Blueprint
from src.routes.schemas.categories import (CategoryInSchema, CategoryListSchema, CategoryResponseSchema,
                                           CategoryUpdateSchema, ListQuerySchema)
from src.services.categories import categories
from src.utils.api_errors import ErrorSchema
from src.utils.auth import role_required

blp = Blueprint("job_categories", __name__, url_prefix="/api/job-categories", description="Job categories")


@blp.route("", methods=["GET"])
@role_required()
@blp.arguments(ListQuerySchema, location="query")
@blp.response(200, CategoryListSchema)
def list_categories(args: dict[str, Any]) -> dict[str, Any]:
    """List categories (active ones unless include_inactive=true)"""
    return {"categories": [c.to_dict() for c in categories.list(args["include_inactive"])]}


@blp.route("", methods=["POST"])
@role_required("admin")
@blp.arguments(CategoryInSchema)
@blp.response(201, CategoryResponseSchema)
@blp.alt_response(409, schema=ErrorSchema)
def create_category(body: dict[str, Any]) -> dict[str, Any]:
    """Create a category (admin); the slug is derived from the name"""
    return {"message": "Category created", "category": categories.create(body).to_dict()}


@blp.route("/<string:category_id>", methods=["PUT"])
@role_required("admin")
@blp.arguments(CategoryUpdateSchema)
@blp.response(200, CategoryResponseSchema)
@blp.alt_response(404, schema=ErrorSchema)
@blp.alt_response(409, schema=ErrorSchema)
def update_category(body: dict[str, Any], category_id: str) -> dict[str, Any]:
    """Rename or enable/disable a category (admin); renaming moves its jobs to the new slug"""
    return {"message": "Category updated", "category": categories.update(category_id, body).to_dict()}


@blp.route("/<string:category_id>", methods=["DELETE"])
@role_required("admin")
@blp.response(200, CategoryResponseSchema)
@blp.alt_response(404, schema=ErrorSchema)
def delete_category(category_id: str) -> dict[str, Any]:
    """Disable a category (admin); its jobs keep their reference"""
    return {"message": "Category disabled", "category": categories.disable(category_id).to_dict()}
