"""Issuing JWTs: one place decides what a token claims."""
from __future__ import annotations

from flask_jwt_extended import create_access_token, create_refresh_token

from src.models import User


def token_claims(user: User) -> dict[str, str]:
    return {"role": user.role, "email": user.email}


def issue_tokens(user: User) -> dict[str, str]:
    """An access and a refresh token for `user`; the subject is the user id as a string (PyJWT 2.10+ needs it)."""
    claims = token_claims(user)
    return {
        "access_token": create_access_token(identity=str(user.id), additional_claims=claims),
        "refresh_token": create_refresh_token(identity=str(user.id), additional_claims=claims),
    }
