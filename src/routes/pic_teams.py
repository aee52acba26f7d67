"""/api/pic-teams: anyone logged in reads, admins manage."""
from __future__ import annotations

from typing import Any

from src.routes import Blueprint
from src.routes.schemas.categories import (ListQuerySchema, PicTeamInSchema, PicTeamListSchema, PicTeamResponseSchema,
                                           PicTeamUpdateSchema)
from src.services.pic_teams import pic_teams
from src.utils.api_errors import ErrorSchema
from src.utils.auth import role_required

blp = Blueprint("pic_teams", __name__, url_prefix="/api/pic-teams", description="PIC (person in charge) teams")


@blp.route("", methods=["GET"])
@role_required()
@blp.arguments(ListQuerySchema, location="query")
@blp.response(200, PicTeamListSchema)
def list_pic_teams(args: dict[str, Any]) -> dict[str, Any]:
    """List PIC teams (active ones unless include_inactive=true)"""
    return {"pic_teams": [t.to_dict() for t in pic_teams.list(args["include_inactive"])]}


@blp.route("", methods=["POST"])
@role_required("admin")
@blp.arguments(PicTeamInSchema)
@blp.response(201, PicTeamResponseSchema)
@blp.alt_response(409, schema=ErrorSchema)
def create_pic_team(body: dict[str, Any]) -> dict[str, Any]:
    """Create a PIC team (admin); the slug is derived from the name"""
    return {"message": "PIC team created", "pic_team": pic_teams.create(body).to_dict()}


@blp.route("/<string:team_id>", methods=["PUT"])
@role_required("admin")
@blp.arguments(PicTeamUpdateSchema)
@blp.response(200, PicTeamResponseSchema)
@blp.alt_response(404, schema=ErrorSchema)
@blp.alt_response(409, schema=ErrorSchema)
def update_pic_team(body: dict[str, Any], team_id: str) -> dict[str, Any]:
    """Rename, re-handle or enable/disable a PIC team (admin); renaming moves its jobs to the new slug"""
    return {"message": "PIC team updated", "pic_team": pic_teams.update(team_id, body).to_dict()}


@blp.route("/<string:team_id>", methods=["DELETE"])
@role_required("admin")
@blp.response(200, PicTeamResponseSchema)
@blp.alt_response(404, schema=ErrorSchema)
def delete_pic_team(team_id: str) -> dict[str, Any]:
    """Disable a PIC team (admin); its jobs keep their reference"""
    return {"message": "PIC team disabled", "pic_team": pic_teams.disable(team_id).to_dict()}
