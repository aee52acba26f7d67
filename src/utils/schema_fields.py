"""Marshmallow fields shared by request schemas."""
from __future__ import annotations

import re
from typing import Any

from marshmallow import ValidationError, fields

UUID_PATTERN = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def storable_text(value: str) -> bool:
    """Whether every database can store it: PostgreSQL refuses NUL, and lone surrogates cannot be UTF-8 encoded."""
    if "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def looks_like_id(value: str) -> bool:
    """Ids are UUID strings; anything else cannot name a row (and must not reach the database as a key)."""
    return bool(UUID_PATTERN.match(value))


class Text(fields.String):
    """A string with surrounding blanks removed that every database can store."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs).strip()
        if not storable_text(text):
            raise ValidationError("Contains characters that cannot be stored (NUL or invalid Unicode).")
        return text
