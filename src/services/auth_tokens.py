"""Issuing JWTs: one place decides what a token claims."""
from __future__ import annotations

from flask_jwt_extended import create_access_token, create_refresh_token

from src.models import User
from src.models.base import new_id


def token_claims(user: User) -> dict[str, str]:
    return {"role": user.role, "email": user.email, "pwv": user.password_fingerprint}


def issue_access_token(user: User, refresh_jti: str) -> str:
    """`refresh_jti` ties the access token to its refresh token: logging out with either revokes both."""
    return create_access_token(identity=str(user.id), additional_claims={**token_claims(user),
                                                                         "refresh_jti": refresh_jti})


def issue_tokens(user: User) -> dict[str, str]:
    """An access and a refresh token for `user`; the subject is the user id as a string (PyJWT 2.10+ needs it)."""
    refresh_jti = new_id()
    return {
        "access_token": issue_access_token(user, refresh_jti),
        "refresh_token": create_refresh_token(identity=str(user.id),
                                              additional_claims={**token_claims(user), "jti": refresh_jti}),
    }
