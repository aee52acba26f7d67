"""The paging keys of every list envelope, computed in one place."""
from __future__ import annotations

import math


def page_envelope(total: int, page: int, limit: int, size_key: str = "limit") -> dict[str, int]:
    """`total, page, limit, total_pages` (notifications name the size `per_page`, as the contract says)."""
    return {"total": total, "page": page, size_key: limit, "total_pages": math.ceil(total / limit)}
