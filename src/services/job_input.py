"""The one validation of a job's fields, used by the JSON API and by every CSV row alike.

Two steps: `JobInputSchema` checks each field on its own (types, lengths matching the columns, formats), then
`check_job_values` checks what needs the database or other fields (cron, target, category/team, end date).
Unknown keys are ignored: the dashboard sends its whole form back, read-only fields included.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from marshmallow import EXCLUDE, Schema, fields, pre_load, validate, validates_schema
from marshmallow import ValidationError as SchemaError

from src.models import Job
from src.services.categories import categories
from src.services.pic_teams import pic_teams
from src.utils.api_errors import REQUIRED_MESSAGE, ApiError, ValidationError
from src.utils.cron import CronError, parse_cron
from src.utils.schema_fields import Text

METADATA_MAX_BYTES = 32 * 1024
EMAILS_MAX_COUNT = 50
GITHUB_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")
DATE_FORMAT = re.compile(r"^\d{4}-\d{2}-\d{2}$")
WHITESPACE = re.compile(r"\s")
OPTIONAL_TEXT = ("target_url", "github_owner", "github_repo", "github_workflow_name", "pic_team", "end_date")


class IsoDate(fields.Field):
    """Exactly YYYY-MM-DD (marshmallow's Date also takes other ISO spellings)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> date:
        if not isinstance(value, str) or not DATE_FORMAT.match(value.strip()):
            raise SchemaError("Not a valid date; use YYYY-MM-DD.")
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            raise SchemaError("Not a valid date; use YYYY-MM-DD.") from None


class Metadata(fields.Field):
    """A JSON object, or a string holding one (a form's text area); null or "" means none."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> dict[str, Any]:
        if isinstance(value, str):
            if not value.strip():
                return {}
            try:
                value = json.loads(value)
            except ValueError:
                raise SchemaError("Not valid JSON; give a JSON object such as {\"key\": \"value\"}.") from None
        if not isinstance(value, dict):
            raise SchemaError("Must be a JSON object.")
        if len(json.dumps(value, separators=(",", ":")).encode()) > METADATA_MAX_BYTES:
            raise SchemaError(f"Larger than {METADATA_MAX_BYTES // 1024} KiB once encoded as JSON.")
        return value


class EmailList(fields.Field):
    """A list of addresses or one comma-separated string; stored comma-separated."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> list[str]:
        if isinstance(value, str):
            items = [part.strip() for part in value.split(",")]
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            items = [v.strip() for v in value]
        else:
            raise SchemaError("Must be a list of email addresses or a comma-separated string.")
        items = [item for item in items if item]
        if len(items) > EMAILS_MAX_COUNT:
            raise SchemaError(f"At most {EMAILS_MAX_COUNT} addresses.")
        check = validate.Email(error="'{input}' is not a valid email address.")
        for item in items:
            if len(item) > 254:
                raise SchemaError(f"'{item[:40]}...' is longer than 254 characters.")
            check(item)
        return list(dict.fromkeys(items))


def _http_url(value: str) -> None:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or WHITESPACE.search(value):
        raise SchemaError("Must be an http:// or https:// URL with a host.")


class JobInputSchema(Schema):
    """One job's fields as the API accepts them (create: name and cron_expression required)."""

    class Meta:
        unknown = EXCLUDE

    name = Text(required=True, validate=validate.Length(min=1, max=255))
    cron_expression = Text(required=True, validate=validate.Length(min=1, max=100))
    target_url = Text(allow_none=True, validate=[validate.Length(max=500), _http_url])
    github_owner = Text(allow_none=True, validate=[validate.Length(max=255), validate.Regexp(
        GITHUB_NAME, error="Only letters, digits, '-', '_' and '.'.")])
    github_repo = Text(allow_none=True, validate=validate.Length(max=255))
    github_workflow_name = Text(allow_none=True, validate=[validate.Length(max=255), validate.Regexp(
        GITHUB_NAME, error="A workflow file name (deploy.yml) or id: letters, digits, '-', '_' and '.'.")])
    metadata = Metadata(allow_none=True)
    category = Text(validate=validate.Length(min=1, max=100))
    pic_team = Text(allow_none=True, validate=validate.Length(max=100))
    end_date = IsoDate(allow_none=True)
    enable_email_notifications = fields.Boolean()
    notification_emails = EmailList(allow_none=True)
    notify_on_success = fields.Boolean()
    is_active = fields.Boolean()

    @pre_load
    def normalise(self, data: Any, **_kwargs: Any) -> Any:
        """`job_metadata` is an alias of `metadata`; a blank optional text means "none"."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        if "metadata" not in data and "job_metadata" in data:
            data["metadata"] = data.pop("job_metadata")
        for key in OPTIONAL_TEXT:
            if isinstance(data.get(key), str) and not data[key].strip():
                data[key] = None
        return data

    @validates_schema
    def split_owner_repo(self, data: dict[str, Any], **_kwargs: Any) -> None:
        """`github_repo` may be `owner/repo`; the owner part must agree with `github_owner` if both are given."""
        repo = data.get("github_repo")
        if not repo:
            return
        owner, slash, name = repo.rpartition("/")
        if not GITHUB_NAME.match(name) or (slash and not GITHUB_NAME.match(owner)):
            raise SchemaError("A repository name (or owner/name): letters, digits, '-', '_' and '.'.", "github_repo")
        if slash:
            if data.get("github_owner") and data["github_owner"] != owner:
                raise SchemaError(f"Names owner '{owner}' but github_owner is '{data['github_owner']}'.",
                                  "github_repo")
            data["github_owner"], data["github_repo"] = owner, name


_SCHEMAS = {False: JobInputSchema(), True: JobInputSchema(partial=True)}  # building one costs more than a load


def load_job_input(raw: Any, *, partial: bool) -> dict[str, Any]:
    """Run the schema outside a request (CSV rows); errors get the same titles as the API's."""
    try:
        return _SCHEMAS[partial].load(raw)
    except SchemaError as exc:
        raise schema_error(exc.normalized_messages()) from None


def schema_error(messages: dict[str, Any]) -> ApiError:
    details = {key: [str(m) for m in value] if isinstance(value, list) else [str(value)]
               for key, value in messages.items()}
    missing = sorted(k for k, problems in details.items() if REQUIRED_MESSAGE in problems)
    if missing and len(missing) == len(details):
        return ValidationError(f"Missing required fields: {', '.join(missing)}.", error="Missing required fields",
                               details=details)
    summary = "; ".join(f"{key}: {' '.join(problems)}" for key, problems in details.items())
    return ValidationError(f"Some fields are invalid: {summary}", details=details)


@dataclass
class JobContext:
    """What the cross-field checks need, loaded once per request (or once per CSV file)."""

    categories: set[str]
    pic_teams: set[str]
    today: date
    default_github_owner: str | None
    timezone: ZoneInfo
    cron_cache: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, settings: dict[str, Any], default_github_owner: str | None = None) -> JobContext:
        tz = ZoneInfo(settings["SCHEDULER_TIMEZONE"])
        return cls(categories=categories.active_slugs(), pic_teams=pic_teams.active_slugs(),
                   today=datetime.now(tz).date(), timezone=tz,
                   default_github_owner=default_github_owner or settings.get("DEFAULT_GITHUB_OWNER"))

    def normalized_cron(self, expression: str) -> str:
        if expression not in self.cron_cache:
            try:
                self.cron_cache[expression] = parse_cron(expression).expression
            except CronError as exc:
                raise ValidationError(f"Invalid cron expression: {exc}.", error="Invalid cron expression",
                                      details={"cron_expression": [str(exc)]}) from None
        return self.cron_cache[expression]


def check_job_values(values: dict[str, Any], current: Job | None, ctx: JobContext) -> dict[str, Any]:
    """Cross-field and reference checks on schema-loaded values; returns the column values to store.

    `current` is the job being updated (None on create). A category/team/end date that is not being changed is
    not re-checked, so a job whose team was disabled later can still be edited.
    """
    out = dict(values)
    if "cron_expression" in out:
        out["cron_expression"] = ctx.normalized_cron(out["cron_expression"])

    def merged(key: str) -> Any:
        return out[key] if key in out else getattr(current, key, None)

    def changed(key: str) -> bool:
        return key in out and (current is None or out[key] != getattr(current, key))

    if any(k in out for k in ("github_repo", "github_workflow_name", "github_owner")) or current is None:
        if merged("github_repo") and merged("github_workflow_name") and not merged("github_owner"):
            if not ctx.default_github_owner:
                raise ValidationError("github_owner is required: give it or set DEFAULT_GITHUB_OWNER.",
                                      error="Missing target configuration",
                                      details={"github_owner": ["Required for a GitHub target."]})
            out["github_owner"] = ctx.default_github_owner
    if not (merged("github_repo") and merged("github_workflow_name")) and not merged("target_url"):
        half = "A GitHub target needs both github_repo and github_workflow_name. " if (
            merged("github_repo") or merged("github_workflow_name")) else ""
        raise ValidationError(f"{half}Give target_url, or github_repo and github_workflow_name (GitHub wins when "
                              "both are set).", error="Missing target configuration")

    problems: dict[str, list[str]] = {}
    if changed("category") and out["category"] not in ctx.categories:
        problems["category"] = [f"No active category has the slug '{out['category']}'."]
    if changed("pic_team") and out["pic_team"] is not None and out["pic_team"] not in ctx.pic_teams:
        problems["pic_team"] = [f"No active PIC team has the slug '{out['pic_team']}'."]
    if changed("end_date") and out["end_date"] is not None and out["end_date"] < ctx.today:
        problems["end_date"] = [f"Must not be in the past (today is {ctx.today.isoformat()} in {ctx.timezone.key})."]
    if problems:
        summary = "; ".join(f"{key}: {' '.join(p)}" for key, p in problems.items())
        raise ValidationError(f"Some fields are invalid: {summary}", details=problems)

    if "metadata" in out:
        out["job_metadata"] = _encode_metadata(out.pop("metadata"))
    if "notification_emails" in out:
        out["notification_emails"] = ",".join(out["notification_emails"] or []) or None
    return out


def _encode_metadata(value: dict[str, Any] | None) -> str | None:
    return json.dumps(value, separators=(",", ":"), sort_keys=True) if value else None
