"""The README's configuration table and .env.example list every setting of src/config.py, as generated."""
from __future__ import annotations

import re

from src.config import PROJECT_ROOT, SETTINGS

ROW = re.compile(r"^\| `([A-Z0-9_]+)` \|")


def _default(value: str | None) -> str:
    return "unset" if value is None else f"`{value}`"


def expected_rows() -> list[str]:
    return [f"| `{s.name}` | {_default(s.dev)} | {_default(s.prod)} | {s.help} |" for s in SETTINGS]


def test_the_readme_table_has_one_generated_row_per_setting_in_order() -> None:
    readme = (PROJECT_ROOT / "README.md").read_text()
    rows = [line for line in readme.splitlines() if ROW.match(line)]
    assert rows == expected_rows(), "README configuration table should be:\n" + "\n".join(expected_rows())


def test_env_example_mentions_every_setting() -> None:
    example = (PROJECT_ROOT / ".env.example").read_text()
    missing = [s.name for s in SETTINGS if not re.search(rf"^#? ?{s.name}=", example, re.M)]
    assert not missing
