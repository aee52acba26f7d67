"""Users: login identity, role and account state."""
from __future__ import annotations

from datetime import datetime
from typing import Any

import hashlib

from passlib.hash import pbkdf2_sha256
from sqlalchemy import Boolean, String
from sqlalchemy.orm import Mapped, mapped_column

from src.models import db
from src.models.base import UTCDateTime, isoformat, new_id, utcnow

ROLES = ("admin", "user", "viewer")


class User(db.Model):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    username: Mapped[str] = mapped_column(String(80), unique=True, nullable=False, index=True)
    email: Mapped[str] = mapped_column(String(120), unique=True, nullable=False, index=True)
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    role: Mapped[str] = mapped_column(String(20), nullable=False, default="viewer", server_default="viewer")
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True, server_default="1")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow, onupdate=utcnow)

    def set_password(self, password: str) -> None:
        self.password_hash = pbkdf2_sha256.hash(password)

    def check_password(self, password: str) -> bool:
        return pbkdf2_sha256.verify(password, self.password_hash)

    @property
    def password_fingerprint(self) -> str:
        """Carried in tokens: a password change alters it, so every token issued before stops working."""
        return hashlib.sha256(self.password_hash.encode()).hexdigest()[:16]

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "username": self.username,
            "email": self.email,
            "role": self.role,
            "is_active": self.is_active,
            "created_at": isoformat(self.created_at),
            "updated_at": isoformat(self.updated_at),
        }
