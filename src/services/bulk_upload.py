"""CSV import (create-or-update by name) and export of jobs, in the same columns so an export re-imports cleanly.

Every row goes through the API's own validation (`load_job_input` + `check_job_values`). The database work is
batched: one lookup of existing names per 500 rows, one flush of all new jobs, one commit for the whole file.
"""
from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from src.models import Job, User, db
from src.models.base import new_id, utcnow
from src.models.job_category import DEFAULT_CATEGORY_SLUG
from src.services.job_input import JobContext, check_job_values, load_job_input
from src.services.job_queries import JobListQuery, job_filters
from src.services.job_schedule import jobs_changed
from src.services.jobs import apply_changes
from src.utils import notifications
from src.utils.api_errors import ApiError, ConflictError, ValidationError

NAME_CHUNK = 500
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
TRUE_WORDS = {"enable", "enabled", "active", "true", "yes", "1", "on"}
FALSE_WORDS = {"disable", "disabled", "inactive", "paused", "false", "no", "0", "off"}
BRANCH_KEY = "branchDetails"
NEW_JOB_DEFAULTS: dict[str, Any] = {"category": DEFAULT_CATEGORY_SLUG, "is_active": True, "pic_team": None,
                                    "target_url": None, "github_owner": None, "github_repo": None,
                                    "github_workflow_name": None, "job_metadata": None, "end_date": None,
                                    "enable_email_notifications": False, "notification_emails": None,
                                    "notify_on_success": False}

# Field -> accepted headers (matched case-insensitively); the first one is what the export writes.
COLUMNS: dict[str, tuple[str, ...]] = {
    "name": ("Job Name", "name"),
    "cron_expression": ("Cron Expression", "Cron Schedule (JST)", "cron", "cron_expression"),
    "is_active": ("Status", "is_active", "active"),
    "target_url": ("Target URL", "target_url", "url"),
    "github_owner": ("GitHub Owner", "owner", "github_owner"),
    "github_repo": ("Repo", "GitHub Repo", "github_repo"),
    "github_workflow_name": ("Workflow Name", "github_workflow_name"),
    "category": ("Category",),
    "end_date": ("End Date", "end_date"),
    "pic_team": ("PIC Team", "pic_team"),
    "branch": ("Branch", "ref"),
    "metadata": ("Request Body", "metadata"),
    "notification_emails": ("Notification Emails", "notification_emails"),
    "enable_email_notifications": ("Email Notifications", "enable_email_notifications"),
    "notify_on_success": ("Notify On Success", "notify_on_success"),
}
HEADER_TO_FIELD = {" ".join(alias.lower().split()): name for name, aliases in COLUMNS.items() for alias in aliases}
BOOLEAN_FIELDS = ("is_active", "enable_email_notifications", "notify_on_success")
TEXT_FIELDS = ("cron_expression", "target_url", "github_owner", "github_repo", "github_workflow_name", "category",
               "end_date", "pic_team", "notification_emails")


def _raced() -> ConflictError:
    return ConflictError("A job with one of the file's names was created while it was being imported; nothing was "
                         "stored, upload the file again.", error="Duplicate job name")


class CsvFileError(ValidationError):
    error = "Invalid CSV file"


@dataclass
class ImportResult:
    dry_run: bool
    atomic: bool
    created: list[Job] = field(default_factory=list)
    updated: list[Job] = field(default_factory=list)
    changed: list[Job] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    stored: bool = False
    jobs: list[dict[str, Any]] = field(default_factory=list)
    started_at: datetime = field(default_factory=utcnow)

    def summarize(self) -> None:
        """Record what the response reports while the objects still hold the file's values (before commit or
        rollback expires them); a dry run's new jobs have no id."""
        self.jobs = [{"id": None if self.dry_run else job.id, "name": job.name, "is_active": job.is_active}
                     for job in self.created]
        self.jobs += [{"id": job.id, "name": job.name, "is_active": job.is_active} for job in self.updated]

    def to_dict(self) -> dict[str, Any]:
        reported = self.stored or self.dry_run
        return {"message": self._message(), "dry_run": self.dry_run,
                "created_count": len(self.created) if reported else 0,
                "updated_count": len(self.updated) if reported else 0,
                "error_count": len(self.errors), "errors": self.errors, "jobs": self.jobs if reported else []}

    def _message(self) -> str:
        counts = f"{len(self.created)} created, {len(self.updated)} updated, {len(self.errors)} rows with errors"
        if self.dry_run:
            return f"Dry run, nothing stored: {counts}."
        if not self.stored:
            return f"Nothing stored (atomic): {len(self.errors)} rows have errors; fix them and upload again."
        return f"Bulk upload finished: {counts}."


def decode_csv(data: bytes) -> list[list[str]]:
    """The file's records; a clear 400 for what is not a UTF-8 CSV text."""
    if not data.strip():
        raise CsvFileError("The file is empty; upload a CSV with a header row and one row per job.")
    if b"\x00" in data:
        raise CsvFileError("The file is binary, not CSV text; export it from your spreadsheet as CSV (UTF-8).")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CsvFileError("The file is not UTF-8 text; export it as CSV (UTF-8).") from None
    try:
        return list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise CsvFileError(f"The file is not valid CSV: {exc}.") from None


def _header_fields(header: list[str]) -> list[str | None]:
    fields = [HEADER_TO_FIELD.get(" ".join(cell.lower().split())) for cell in header]
    if "name" not in fields:
        raise CsvFileError("No 'Job Name' column in the header row; see the accepted column names in the README.")
    return fields


def _unguard(cell: str) -> str:
    """Undo the export's formula guard (a quote before = + - @ tab CR)."""
    cell = cell.strip()
    return cell[1:] if len(cell) > 1 and cell[0] == "'" and cell[1] in FORMULA_START else cell


def _boolean(field_name: str, cell: str) -> bool:
    word = cell.lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValidationError(f"{field_name}: '{cell}' is not one of Enable/Disable, true/false.",
                          details={field_name: ["Use Enable/Disable or true/false."]})


def _metadata(cells: dict[str, str], current: Job | None) -> dict[str, Any] | str | None:
    """Request Body (a JSON object) plus Branch as metadata.branchDetails."""
    if "metadata" in cells:
        body: Any = cells["metadata"] or {}
    else:
        body = current.metadata_dict if current is not None else {}
    if "branch" not in cells:
        return body
    if isinstance(body, str):
        try:
            body = json.loads(body)
        except ValueError:
            raise ValidationError("metadata: the Request Body is not valid JSON.",
                                  details={"metadata": ["Not valid JSON."]}) from None
        if not isinstance(body, dict):
            return body  # the schema reports it
    body = {key: value for key, value in body.items() if key != BRANCH_KEY}
    if cells["branch"]:
        body[BRANCH_KEY] = cells["branch"]
    return body


def row_input(cells: dict[str, str], current: Job | None) -> dict[str, Any]:
    """A row as the JSON API would receive it; an empty optional cell clears that field."""
    raw: dict[str, Any] = {"name": cells["name"]} if cells.get("name") else {}
    for name in TEXT_FIELDS:
        if name in cells and (cells[name] or name not in ("cron_expression", "category")):
            raw[name] = cells[name] or None
    for name in BOOLEAN_FIELDS:
        if cells.get(name):
            raw[name] = _boolean(name, cells[name])
    if "metadata" in cells or "branch" in cells:
        raw["metadata"] = _metadata(cells, current)
    return raw


def _existing_jobs(names: list[str]) -> dict[str, Job]:
    found: dict[str, Job] = {}
    for start in range(0, len(names), NAME_CHUNK):
        chunk = names[start:start + NAME_CHUNK]
        found.update({job.name.casefold(): job for job in db.session.scalars(select(Job).where(Job.name.in_(chunk)))})
    return found


def import_jobs(data: bytes, actor: User, *, dry_run: bool, atomic: bool,
                default_github_owner: str | None) -> ImportResult:
    records = decode_csv(data)
    while records and not any(cell.strip() for cell in records[0]):
        records.pop(0)
    if not records:
        raise CsvFileError("The file is empty; upload a CSV with a header row and one row per job.")
    fields = _header_fields(records[0])
    rows = [(number, {name: _unguard(cell) for name, cell in zip(fields, record) if name is not None})
            for number, record in enumerate(records[1:], start=2) if any(cell.strip() for cell in record)]
    existing = _existing_jobs(list({cells.get("name", "") for _, cells in rows if cells.get("name")}))
    ctx = JobContext.load(current_app.config, default_github_owner)
    result = ImportResult(dry_run=dry_run, atomic=atomic)
    seen: dict[str, int] = {}
    with db.session.no_autoflush:  # one flush at the end, not one per notification query
        for number, cells in rows:
            _apply_row(number, cells, existing, seen, actor, ctx, result)
    _finish(result, actor)
    return result


def _apply_row(number: int, cells: dict[str, str], existing: dict[str, Job], seen: dict[str, int], actor: User,
               ctx: JobContext, result: ImportResult) -> None:
    """One row, its failure recorded as a row error."""
    name = cells.get("name", "")
    try:
        if name.casefold() in seen:
            raise ValidationError(f"Job '{name}' already appears in row {seen[name.casefold()]}.",
                                  error="Duplicate job name")
        seen[name.casefold()] = number
        _import_row(cells, existing.get(name.casefold()), actor, ctx, result)
    except ApiError as exc:
        result.errors.append({"row": number, "job_name": name or None, "error": exc.error, "message": exc.message})


def _new_job(values: dict[str, Any], actor: User, now: datetime) -> Job:
    """A complete transient Job: every column set here, so the whole file goes in with one executemany INSERT."""
    return Job(**{**NEW_JOB_DEFAULTS, **values}, id=new_id(), created_by=actor.id, created_at=now, updated_at=now,
               scheduled_since=now)


def _import_row(cells: dict[str, str], current: Job | None, actor: User, ctx: JobContext,
                result: ImportResult) -> None:
    values = load_job_input(row_input(cells, current), partial=current is not None)
    if current is None:
        result.created.append(_new_job(check_job_values(values, None, ctx), actor, result.started_at))
        return
    if actor.role != "admin" and current.created_by != actor.id:
        raise ApiError(f"Job '{current.name}' belongs to another user; only its owner or an admin may update it.",
                       error="Insufficient permissions", status=403)
    values.pop("name", None)
    changed = apply_changes(current, check_job_values(values, current, ctx), ctx)
    result.updated.append(current)  # counted even when nothing differs: the row was applied
    if changed:
        result.changed.append(current)


def _finish(result: ImportResult, actor: User) -> None:
    if result.dry_run or (result.atomic and result.errors):
        result.summarize()
        db.session.rollback()
        return
    result.summarize()
    if result.created:
        columns = [column.key for column in Job.__table__.columns]
        try:
            db.session.execute(Job.__table__.insert(), [{key: getattr(job, key) for key in columns}
                                                        for job in result.created])
        except IntegrityError:
            db.session.rollback()
            raise _raced() from None
    notifications.broadcast_jobs_imported(result.created, result.changed, actor)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise _raced() from None
    result.stored = True
    jobs_changed([job["id"] for job in result.jobs])


def _guard(value: str) -> str:
    """Spreadsheets run cells starting with = + - @ (and tab/CR) as formulas; a leading quote stops that."""
    return "'" + value if value.startswith(FORMULA_START) else value


def export_row(job: Job) -> list[str]:
    metadata = job.metadata_dict
    branch = metadata.get(BRANCH_KEY) if isinstance(metadata.get(BRANCH_KEY), str) else None
    body = {key: value for key, value in metadata.items() if not (key == BRANCH_KEY and branch is not None)}
    values = {
        "name": job.name, "cron_expression": job.cron_expression, "is_active": "Enable" if job.is_active else "Disable",
        "target_url": job.target_url, "github_owner": job.github_owner, "github_repo": job.github_repo,
        "github_workflow_name": job.github_workflow_name, "category": job.category,
        "end_date": job.end_date.isoformat() if job.end_date else None, "pic_team": job.pic_team,
        "branch": branch, "metadata": json.dumps(body, ensure_ascii=False, sort_keys=True) if body else None,
        "notification_emails": ",".join(job.email_list) or None,
        "enable_email_notifications": "true" if job.enable_email_notifications else "false",
        "notify_on_success": "true" if job.notify_on_success else "false",
    }
    return [_guard(values[name] or "") for name in COLUMNS]


def export_jobs(query: JobListQuery) -> str:
    """All jobs matching the list filters, by name, as CSV text with a BOM (Excel then reads it as UTF-8)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([aliases[0] for aliases in COLUMNS.values()])
    for job in db.session.scalars(select(Job).where(*job_filters(query)).order_by(Job.name)):
        writer.writerow(export_row(job))
    return "\ufeff" + out.getvalue()
