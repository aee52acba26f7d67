"""Calling targets for real (a loopback receiver): success, every failure a clear message, bounded in time and size."""
from __future__ import annotations

import hashlib
import hmac
import socket
import time
from datetime import datetime, timezone

from src.scheduler.job_executor import MAX_OUTPUT_BYTES, CallContext, CallSettings, Target, call_target
from test.test_scheduler.receiver import Receiver

SCHEDULED = datetime(2026, 11, 26, 1, 0, tzinfo=timezone.utc)
CONTEXT = CallContext(trigger="scheduled", job_id="job-1", execution_id="exec-1", scheduled_for=SCHEDULED)


def settings(**overrides: object) -> CallSettings:
    values: dict[str, object] = {"timeout": 2.0, "allow_private": True}
    values.update(overrides)
    return CallSettings(**values)  # type: ignore[arg-type]


def webhook(url: str, metadata: dict[str, object] | None = None) -> Target:
    return Target.from_fields(target_url=url, github_owner=None, github_repo=None, github_workflow_name=None,
                              metadata=metadata, default_owner=None)


def test_a_webhook_gets_the_metadata_as_body_and_the_cron_headers(receiver: Receiver) -> None:
    result = call_target(webhook(receiver.url("/ok"), {"env": "prod", "n": 1}), CONTEXT, settings())
    assert result.ok and result.status_code == 200
    assert result.output == '{"received": true}'
    request = receiver.received("/ok")[0]
    assert request.json() == {"env": "prod", "n": 1}
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["User-Agent"].startswith("cron-job-scheduler/")
    assert request.headers["X-Cron-Job-Id"] == "job-1"
    assert request.headers["X-Cron-Execution-Id"] == "exec-1"
    assert request.headers["X-Cron-Scheduled-For"] == SCHEDULED.isoformat()
    assert request.headers["X-Cron-Trigger"] == "scheduled"
    assert "X-Cron-Signature" not in request.headers


def test_a_signing_secret_adds_an_hmac_of_the_raw_body(receiver: Receiver) -> None:
    call_target(webhook(receiver.url("/ok"), {"a": "b"}), CONTEXT, settings(signing_secret="s3cret"))
    request = receiver.received("/ok")[0]
    expected = hmac.new(b"s3cret", request.body, hashlib.sha256).hexdigest()
    assert request.headers["X-Cron-Signature"] == f"sha256={expected}"


def test_a_500_is_a_failure_with_the_status_and_body(receiver: Receiver) -> None:
    result = call_target(webhook(receiver.url("/status/500")), CONTEXT, settings())
    assert not result.ok
    assert result.status_code == 500
    assert result.message == "The target answered HTTP 500 Internal Server Error."
    assert result.output == "answer 500"


def test_a_refused_connection_says_so() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = call_target(webhook(f"http://127.0.0.1:{port}/x"), CONTEXT, settings())
    assert not result.ok and result.error == "Connection refused"
    assert result.message == f"Connection refused by 127.0.0.1:{port}."


def test_a_hanging_target_times_out_within_the_bound(receiver: Receiver) -> None:
    started = time.monotonic()
    result = call_target(webhook(receiver.url("/hang/10")), CONTEXT, settings(timeout=1.0))
    assert time.monotonic() - started < 3
    assert not result.ok and result.error == "Timeout"
    assert "Timed out after 1 s" in result.message


def test_a_10_mb_body_is_read_only_up_to_64_kib(receiver: Receiver) -> None:
    started = time.monotonic()
    result = call_target(webhook(receiver.url("/big")), CONTEXT, settings())
    assert time.monotonic() - started < 2
    assert result.ok
    assert result.output is not None and len(result.output.encode()) == MAX_OUTPUT_BYTES


def test_loopback_targets_are_refused_in_production_mode_by_address_and_by_name(receiver: Receiver) -> None:
    for url in (receiver.url("/ok"), receiver.url("/ok", host="localhost"), receiver.url("/ok", host="[::ffff:127.0.0.1]")):
        result = call_target(webhook(url), CONTEXT, settings(allow_private=False))
        assert not result.ok, url
        assert result.error == "Target not allowed"
        assert "loopback" in result.message and "WEBHOOK_ALLOW_PRIVATE_TARGETS" in result.message
    assert receiver.received() == []


def test_private_and_metadata_addresses_are_refused_before_any_traffic() -> None:
    for url in ("http://10.1.2.3/x", "http://169.254.169.254/latest/meta-data", "http://192.168.0.1/",
                "http://[fd00::1]/"):
        result = call_target(webhook(url), CONTEXT, settings(allow_private=False, timeout=1.0))
        assert not result.ok and result.error == "Target not allowed", url


def test_redirects_are_followed_only_on_the_same_host(receiver: Receiver) -> None:
    away = call_target(webhook(receiver.url("/redirect-away")), CONTEXT, settings())
    assert not away.ok and away.error == "Redirect refused" and "example.invalid" in away.message
    here = call_target(webhook(receiver.url("/redirect-here")), CONTEXT, settings())
    assert here.ok
    assert [r.path for r in receiver.received()] == ["/redirect-away", "/redirect-here", "/ok"]


def test_a_non_http_url_is_a_clear_failure() -> None:
    result = call_target(webhook("ftp://example.com/x"), CONTEXT, settings())
    assert not result.ok and result.error == "Invalid target"


def github(workflow: str, metadata: dict[str, object] | None = None, owner: str | None = "octo") -> Target:
    return Target.from_fields(target_url=None, github_owner=owner, github_repo="repo", github_workflow_name=workflow,
                              metadata=metadata, default_owner=None)


def test_github_dispatch_sends_ref_and_string_inputs_with_the_token(receiver: Receiver) -> None:
    result = call_target(github("deploy.yml", {"branchDetails": "release", "count": 3, "flag": True, "env": "prod"}),
                         CONTEXT, settings(github_token="ghp_test", github_api_url=receiver.url("/github")))
    assert result.ok and result.status_code == 204
    request = receiver.received("/github")[0]
    assert request.path == "/github/repos/octo/repo/actions/workflows/deploy.yml/dispatches"
    assert request.headers["Authorization"] == "Bearer ghp_test"
    assert request.headers["Accept"] == "application/vnd.github+json"
    assert request.headers["X-GitHub-Api-Version"] == "2022-11-28"
    assert request.json() == {"ref": "release", "inputs": {"count": "3", "flag": "true", "env": "prod"}}


def test_github_dispatch_defaults_the_ref_and_keeps_githubs_error_message(receiver: Receiver) -> None:
    ok = call_target(github("deploy.yml"), CONTEXT, settings(github_token="t", github_api_url=receiver.url("/github"),
                                                             github_default_ref="trunk"))
    assert ok.ok and receiver.received("/github")[0].json() == {"ref": "trunk", "inputs": {}}
    missing = call_target(github("missing.yml"), CONTEXT,
                          settings(github_token="t", github_api_url=receiver.url("/github")))
    assert not missing.ok and missing.status_code == 404
    assert missing.message == "GitHub answered HTTP 404: Not Found."


def test_github_dispatch_without_a_token_or_owner_is_a_configuration_error(receiver: Receiver) -> None:
    no_token = call_target(github("deploy.yml"), CONTEXT, settings(github_api_url=receiver.url("/github")))
    assert not no_token.ok and "GITHUB_TOKEN" in no_token.message
    no_owner = call_target(github("deploy.yml", owner=None), CONTEXT,
                           settings(github_token="t", github_api_url=receiver.url("/github")))
    assert not no_owner.ok and "DEFAULT_GITHUB_OWNER" in no_owner.message
    assert receiver.received() == []
