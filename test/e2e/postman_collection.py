"""Builds Postman_Collection.json (Postman v2.1): every endpoint, in an order that runs top to bottom.

Edit the requests here and run `.venv/bin/python test/e2e/postman_collection.py`; test_ops checks that the
committed JSON is this file's output and that it covers every operation of /api/openapi.json.
Variables given at run time: baseUrl, adminUsername, adminPassword, metricsToken, webhookUrl, slackTestUrl (newman
--env-var, or edit them in Postman). Tokens and ids are captured from responses as the run goes.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

OUTPUT = Path(__file__).resolve().parents[2] / "Postman_Collection.json"
NO_ID = "00000000-0000-4000-8000-000000000000"


@dataclass
class Req:
    name: str
    method: str
    path: str
    status: int = 200
    keys: tuple[str, ...] = ()
    body: Any = None
    token: str | None = "accessToken"  # a collection variable, or None for no Authorization header
    script: tuple[str, ...] = ()
    form: list[dict[str, str]] | None = None
    description: str = ""
    json_response: bool = True
    query: dict[str, str] = field(default_factory=dict)

    def tests(self) -> list[str]:
        lines = [f'pm.test("status {self.status}", () => pm.response.to.have.status({self.status}));']
        if self.json_response:
            lines.append("const body = pm.response.json();")
            if self.keys:
                keys = ", ".join(json.dumps(k) for k in self.keys)
                lines.append(f'pm.test("body has {", ".join(self.keys)}", () => pm.expect(body).to.include.keys({keys}));')
        lines.extend(self.script)
        return lines

    def item(self) -> dict[str, Any]:
        raw = "{{baseUrl}}" + self.path
        if self.query:
            raw += "?" + "&".join(f"{k}={v}" for k, v in self.query.items())
        request: dict[str, Any] = {
            "method": self.method,
            "header": [],
            "url": {
                "raw": raw,
                "host": ["{{baseUrl}}"],
                "path": [part for part in self.path.split("/") if part],
                **({"query": [{"key": k, "value": v} for k, v in self.query.items()]} if self.query else {}),
            },
            "description": self.description,
        }
        if self.token is None:
            request["auth"] = {"type": "noauth"}
        elif self.token != "accessToken":
            request["auth"] = {"type": "bearer", "bearer": [{"key": "token", "value": "{{" + self.token + "}}",
                                                             "type": "string"}]}
        if self.body is not None:
            request["header"].append({"key": "Content-Type", "value": "application/json"})
            request["body"] = {"mode": "raw", "raw": json.dumps(self.body, indent=2),
                               "options": {"raw": {"language": "json"}}}
        if self.form is not None:
            request["body"] = {"mode": "formdata", "formdata": self.form}
        return {"name": self.name, "request": request,
                "event": [{"listen": "test", "script": {"type": "text/javascript", "exec": self.tests()}}]}


def capture(variable: str, expression: str) -> str:
    return f'pm.collectionVariables.set("{variable}", {expression});'


def expect(description: str, assertion: str) -> str:
    return f'pm.test("{description}", () => {assertion});'


ERROR = ("error", "message")
JOB_KEYS = ("id", "name", "cron_expression", "target_url", "metadata", "category", "pic_team", "created_by",
            "is_active", "created_at", "updated_at", "last_execution_at", "next_execution_at")
EXECUTION_KEYS = ("id", "job_id", "status", "trigger_type", "started_at", "completed_at", "duration_seconds",
                  "execution_type", "target", "response_status", "error_message", "output")


def poll_execution(variable: str) -> tuple[str, ...]:
    """Repeat this request (at most 40 times, 250 ms apart) until the execution has finished."""
    return (
        'const tries = Number(pm.collectionVariables.get("pollTries") || 0);',
        'if (body.execution.status === "running" && tries < 40) {',
        '    pm.collectionVariables.set("pollTries", tries + 1);',
        "    setTimeout(() => {}, 250);",
        "    postman.setNextRequest(pm.info.requestName);",
        "} else {",
        '    pm.collectionVariables.set("pollTries", 0);',
        '    pm.test("execution finished", () => pm.expect(body.execution.status).to.not.eql("running"));',
        "}",
    )


def folders() -> list[tuple[str, str, list[Req]]]:
    health = [
        Req("Health", "GET", "/api/health", token=None,
            keys=("status", "database", "scheduler_running", "scheduled_jobs_count", "scheduler_leader"),
            script=(expect("healthy", 'pm.expect(body.status).to.eql("healthy")'),)),
        Req("OpenAPI document", "GET", "/api/openapi.json", token=None, keys=("openapi", "paths", "components"),
            script=(expect("bearer scheme", "pm.expect(body.components.securitySchemes).to.have.property('bearerAuth')"),)),
        Req("Interactive docs page", "GET", "/api/docs", token=None, json_response=False,
            script=(expect("Swagger UI page", 'pm.expect(pm.response.text()).to.include("swagger-ui")'),)),
        Req("Prometheus metrics", "GET", "/metrics", token="metricsToken", json_response=False,
            description="Needs `Authorization: Bearer <METRICS_TOKEN>` when METRICS_TOKEN is set.",
            script=(expect("exposition format", 'pm.expect(pm.response.text()).to.include("http_request_duration_seconds")'),)),
        Req("Metrics without the token is refused", "GET", "/metrics", token=None, status=401, keys=ERROR),
    ]
    auth = [
        Req("Login (admin)", "POST", "/api/auth/login", token=None,
            body={"username": "{{adminUsername}}", "password": "{{adminPassword}}"},
            keys=("message", "access_token", "refresh_token", "user"),
            script=(capture("accessToken", "body.access_token"), capture("refreshToken", "body.refresh_token"),
                    capture("adminId", "body.user.id"),
                    capture("runId", "String(Date.now()).slice(-8)"),
                    expect("admin role", 'pm.expect(body.user.role).to.eql("admin")'),
                    expect("no password hash", "pm.expect(body.user).to.not.have.property('password_hash')"))),
        Req("Login with a wrong password", "POST", "/api/auth/login", token=None, status=401, keys=ERROR,
            body={"username": "{{adminUsername}}", "password": "not-the-password"}),
        Req("Login without a password", "POST", "/api/auth/login", token=None, status=400, keys=ERROR,
            body={"username": "{{adminUsername}}"},
            script=(expect("names the field", 'pm.expect(body.error).to.eql("Missing required fields")'),)),
        Req("Refresh the access token", "POST", "/api/auth/refresh", token="refreshToken", keys=("access_token",),
            script=(capture("accessToken", "body.access_token"),)),
        Req("Current user", "GET", "/api/auth/me", keys=("user",),
            script=(expect("is the admin", 'pm.expect(body.user.id).to.eql(pm.collectionVariables.get("adminId"))'),)),
        Req("No token is 401", "GET", "/api/auth/me", token=None, status=401, keys=ERROR),
    ]
    users = [
        Req("Create a user (admin)", "POST", "/api/auth/register", status=201, keys=("message", "user"),
            body={"username": "pm_user_{{runId}}", "email": "pm_user_{{runId}}@example.com",
                  "password": "a-long-user-password-1", "role": "user"},
            script=(capture("userId", "body.user.id"), expect("role user", 'pm.expect(body.user.role).to.eql("user")'))),
        Req("Create a viewer (admin)", "POST", "/api/auth/register", status=201, keys=("message", "user"),
            body={"username": "pm_viewer_{{runId}}", "email": "pm_viewer_{{runId}}@example.com",
                  "password": "a-long-viewer-password-1", "role": "viewer"},
            script=(capture("viewerId", "body.user.id"),)),
        Req("Duplicate username is 409", "POST", "/api/auth/register", status=409, keys=ERROR,
            body={"username": "pm_user_{{runId}}", "email": "other_{{runId}}@example.com",
                  "password": "a-long-user-password-1", "role": "user"}),
        Req("Login (user)", "POST", "/api/auth/login", token=None, keys=("access_token", "user"),
            body={"username": "pm_user_{{runId}}", "password": "a-long-user-password-1"},
            script=(capture("userAccessToken", "body.access_token"),)),
        Req("Login (viewer, by email)", "POST", "/api/auth/login", token=None, keys=("access_token", "user"),
            body={"email": "pm_viewer_{{runId}}@example.com", "password": "a-long-viewer-password-1"},
            script=(capture("viewerAccessToken", "body.access_token"),)),
        Req("List users (admin)", "GET", "/api/auth/users", keys=("count", "users"),
            script=(expect("count matches", "pm.expect(body.count).to.eql(body.users.length)"),)),
        Req("A user may not list users", "GET", "/api/auth/users", token="userAccessToken", status=403, keys=ERROR),
        Req("Get a user", "GET", "/api/auth/users/{{userId}}", keys=("user",)),
        Req("Update a user (admin)", "PUT", "/api/auth/users/{{userId}}", keys=("message", "user"),
            body={"email": "pm_user_{{runId}}@example.org"},
            script=(expect("email changed", 'pm.expect(body.user.email).to.eql(`pm_user_${pm.collectionVariables.get("runId")}@example.org`)'),)),
        Req("Get notification preferences", "GET", "/api/auth/users/{{userId}}/preferences", keys=("preferences",),
            token="userAccessToken",
            script=(expect("six switches", "pm.expect(body.preferences).to.include.keys('email_on_job_failure', 'daily_digest')"),)),
        Req("Update notification preferences", "PUT", "/api/auth/users/{{userId}}/preferences",
            token="userAccessToken", body={"email_on_job_success": True, "weekly_report": True},
            keys=("preferences",),
            script=(expect("saved", "pm.expect(body.preferences.email_on_job_success).to.eql(true)"),)),
        Req("Get UI preferences", "GET", "/api/auth/users/{{userId}}/ui-preferences", token="userAccessToken",
            keys=("preferences",)),
        Req("Update UI preferences", "PUT", "/api/auth/users/{{userId}}/ui-preferences", token="userAccessToken",
            body={"jobs_table_columns": {"cron_expression": True, "pic_team": False}},
            keys=("preferences",),
            script=(expect("saved", "pm.expect(body.preferences.jobs_table_columns.pic_team).to.eql(false)"),)),
        Req("Another user's preferences are 403", "GET", "/api/auth/users/{{adminId}}/preferences",
            token="viewerAccessToken", status=403, keys=ERROR),
    ]
    catalog = [
        Req("List categories", "GET", "/api/job-categories", keys=("categories",),
            script=(expect("general exists", "pm.expect(body.categories.map(c => c.slug)).to.include('general')"),)),
        Req("Create a category (admin)", "POST", "/api/job-categories", status=201, keys=("message", "category"),
            body={"name": "PM Reports {{runId}}"},
            script=(capture("categoryId", "body.category.id"), capture("categorySlug", "body.category.slug"))),
        Req("Update a category (admin)", "PUT", "/api/job-categories/{{categoryId}}", keys=("message", "category"),
            body={"name": "PM Reporting {{runId}}"},
            script=(capture("categorySlug", "body.category.slug"),)),
        Req("A viewer may not create categories", "POST", "/api/job-categories", token="viewerAccessToken",
            status=403, keys=ERROR, body={"name": "Nope {{runId}}"}),
        Req("List PIC teams", "GET", "/api/pic-teams", keys=("pic_teams",)),
        Req("Create a PIC team (admin)", "POST", "/api/pic-teams", status=201, keys=("message", "pic_team"),
            body={"name": "PM Platform {{runId}}", "slack_handle": "@pm-platform"},
            script=(capture("teamId", "body.pic_team.id"), capture("teamSlug", "body.pic_team.slug"))),
        Req("Update a PIC team (admin)", "PUT", "/api/pic-teams/{{teamId}}", keys=("message", "pic_team"),
            body={"slack_handle": "@pm-platform-oncall"},
            script=(expect("handle changed", 'pm.expect(body.pic_team.slack_handle).to.eql("@pm-platform-oncall")'),)),
    ]
    cron = [
        Req("Validate a cron expression", "POST", "/api/jobs/validate-cron", body={"expression": "0 9 * * 1-5"},
            keys=("valid", "message", "description"), script=(expect("valid", "pm.expect(body.valid).to.eql(true)"),)),
        Req("Validate an invalid cron expression", "POST", "/api/jobs/validate-cron",
            body={"expression": "61 * * * *"}, keys=("valid", "error", "message"),
            script=(expect("invalid", "pm.expect(body.valid).to.eql(false)"),)),
        Req("Preview the next runs", "POST", "/api/jobs/cron-preview",
            body={"expression": "*/15 * * * *", "count": 3}, keys=("timezone", "next_runs", "count"),
            script=(expect("three runs", "pm.expect(body.next_runs).to.have.lengthOf(3)"),
                    expect("ISO with offset", "pm.expect(body.next_runs[0]).to.match(/[+-]\\d\\d:\\d\\d$/)"))),
        Req("Preview an invalid expression is 400", "POST", "/api/jobs/cron-preview",
            body={"expression": "not cron"}, status=400, keys=ERROR),
        Req("Describe a cron expression", "POST", "/api/jobs/cron-description", body={"expression": "0 9 * * 1-5"},
            keys=("description",)),
        Req("Test-run a webhook (nothing stored)", "POST", "/api/jobs/test-run",
            body={"target_url": "{{webhookUrl}}", "metadata": {"probe": True}, "timeout_seconds": 5},
            keys=("ok", "type", "message"), script=(expect("reached", "pm.expect(body.ok).to.eql(true)"),)),
    ]
    job_body = {"name": "pm-nightly-report-{{runId}}", "cron_expression": "0 2 * * *", "target_url": "{{webhookUrl}}",
                "metadata": {"report": "nightly"}, "category": "{{categorySlug}}", "pic_team": "{{teamSlug}}"}
    jobs = [
        Req("Create a webhook job", "POST", "/api/jobs", status=201, keys=("message", "job"), body=job_body,
            script=(capture("jobId", "body.job.id"),
                    expect("job shape", f"pm.expect(body.job).to.include.keys({', '.join(json.dumps(k) for k in JOB_KEYS)})"),
                    expect("next run has an offset", "pm.expect(body.job.next_execution_at).to.match(/[+-]\\d\\d:\\d\\d$/)"))),
        Req("Duplicate job name is 409", "POST", "/api/jobs", status=409, keys=ERROR, body=job_body,
            script=(expect("contract title", 'pm.expect(body.error).to.eql("Duplicate job name")'),)),
        Req("Invalid cron is 400", "POST", "/api/jobs", status=400, keys=ERROR,
            body={**job_body, "name": "pm-bad-cron-{{runId}}", "cron_expression": "0 2 * *"},
            script=(expect("contract title", 'pm.expect(body.error).to.eql("Invalid cron expression")'),)),
        Req("A viewer may not create jobs", "POST", "/api/jobs", token="viewerAccessToken", status=403, keys=ERROR,
            body={**job_body, "name": "pm-viewer-{{runId}}"}),
        Req("A user creates a job that fails", "POST", "/api/jobs", token="userAccessToken", status=201,
            keys=("message", "job"),
            body={"name": "pm-failing-{{runId}}", "cron_expression": "30 3 * * *",
                  "target_url": "http://127.0.0.1:9/unreachable", "is_active": False},
            script=(capture("failingJobId", "body.job.id"),)),
        Req("Another user may not update it", "PUT", "/api/jobs/{{failingJobId}}", token="viewerAccessToken",
            status=403, keys=ERROR, body={"cron_expression": "0 4 * * *"}),
        Req("List jobs", "GET", "/api/jobs", keys=("count", "jobs"),
            script=(expect("newest first", "pm.expect(body.jobs.length).to.be.above(0)"),)),
        Req("List jobs, paged and filtered", "GET", "/api/jobs",
            query={"page": "1", "limit": "50", "search": "pm-nightly", "category": "{{categorySlug}}",
                   "sort_by": "name", "sort_dir": "asc"},
            keys=("count", "jobs", "total", "page", "limit", "total_pages"),
            script=(expect("finds the job", "pm.expect(body.jobs.map(j => j.id)).to.include(pm.collectionVariables.get('jobId'))"),)),
        Req("Listing jobs needs a token", "GET", "/api/jobs", token=None, status=401, keys=ERROR),
        Req("Get a job", "GET", "/api/jobs/{{jobId}}", keys=("job",)),
        Req("Unknown job is 404", "GET", f"/api/jobs/{NO_ID}", status=404, keys=ERROR,
            script=(expect("contract title", 'pm.expect(body.error).to.eql("Job not found")'),)),
        Req("Update a job", "PUT", "/api/jobs/{{jobId}}", keys=("message", "job"),
            body={"cron_expression": "15 2 * * *", "notify_on_success": True},
            script=(expect("saved", 'pm.expect(body.job.cron_expression).to.eql("15 2 * * *")'),)),
        Req("Export jobs as CSV", "GET", "/api/jobs/export", json_response=False,
            script=(expect("CSV", 'pm.expect(pm.response.headers.get("Content-Type")).to.include("text/csv")'),
                    expect("has the job", 'pm.expect(pm.response.text()).to.include("pm-nightly-report-")'))),
        Req("Bulk upload jobs from CSV (dry run)", "POST", "/api/jobs/bulk-upload",
            form=[{"key": "file", "type": "file", "src": "test/e2e/bulk_jobs.csv"},
                  {"key": "dry_run", "value": "true", "type": "text"}],
            keys=("message", "dry_run", "created_count", "updated_count", "error_count", "errors", "jobs"),
            script=(expect("dry run", "pm.expect(body.dry_run).to.eql(true)"),
                    expect("rows read", "pm.expect(body.created_count + body.updated_count).to.eql(2)"))),
    ]
    executions = [
        Req("Trigger a job", "POST", "/api/jobs/{{jobId}}/execute", keys=("message", "job_id", "execution_id"),
            script=(capture("executionId", "body.execution_id"),
                    expect("contract message", 'pm.expect(body.message).to.eql("Job triggered successfully")'))),
        Req("Wait for the execution", "GET", "/api/executions/{{executionId}}", keys=("execution",),
            script=poll_execution("executionId") + (
                expect("execution shape", f"pm.expect(body.execution).to.include.keys({', '.join(json.dumps(k) for k in EXECUTION_KEYS)})"),)),
        Req("Trigger the failing job (owner)", "POST", "/api/jobs/{{failingJobId}}/execute", token="userAccessToken",
            keys=("execution_id",), script=(capture("failedExecutionId", "body.execution_id"),)),
        Req("Wait for the failed execution", "GET", "/api/executions/{{failedExecutionId}}", keys=("execution",),
            script=poll_execution("failedExecutionId")),
        Req("A viewer may not trigger jobs", "POST", "/api/jobs/{{jobId}}/execute", token="viewerAccessToken",
            status=403, keys=ERROR),
        Req("Executions of a job", "GET", "/api/jobs/{{jobId}}/executions", keys=("executions",)),
        Req("One execution of a job", "GET", "/api/jobs/{{jobId}}/executions/{{executionId}}", keys=("execution",),
            script=(expect("manual trigger", 'pm.expect(body.execution.trigger_type).to.eql("manual")'),
                    expect("webhook succeeded", 'pm.expect(body.execution.status).to.eql("success")'))),
        Req("Execution statistics of a job", "GET", "/api/jobs/{{jobId}}/executions/stats",
            keys=("job_id", "job_name", "statistics", "latest_execution"),
            script=(expect("counted", "pm.expect(body.statistics.total_executions).to.be.at.least(1)"),)),
        Req("List executions", "GET", "/api/executions", keys=("executions", "total", "page", "limit", "total_pages"),
            script=(expect("carry job names", "pm.expect(body.executions[0]).to.include.keys('job_name', 'github_repo')"),)),
        Req("List failed manual executions of today", "GET", "/api/executions",
            query={"status": "failed,missed", "trigger_type": "manual", "job_id": "{{failingJobId}}", "page": "1",
                   "limit": "10"},
            keys=("executions", "total"),
            script=(expect("the failed run", "pm.expect(body.executions.map(e => e.id)).to.include(pm.collectionVariables.get('failedExecutionId'))"),)),
        Req("Get an execution", "GET", "/api/executions/{{failedExecutionId}}", keys=("execution",),
            script=(expect("failed in words", 'pm.expect(body.execution.error_message).to.be.a("string").and.not.empty'),)),
        Req("Execution statistics", "GET", "/api/executions/statistics",
            keys=("total_executions", "successful_executions", "failed_executions", "running_executions",
                  "success_rate", "average_duration_seconds", "range")),
        Req("Metrics count the executions", "GET", "/metrics", token="metricsToken", json_response=False,
            description="Executions run in the leading worker; /metrics merges every worker of the host.",
            script=(expect("a successful webhook run", 'pm.expect(pm.response.text()).to.match(/cron_executions_total\\{[^}]*status="success"[^}]*\\} [1-9]/)'),
                    expect("a failed run", 'pm.expect(pm.response.text()).to.match(/cron_executions_total\\{[^}]*status="failed"[^}]*\\} [1-9]/)'))),
    ]
    notifications = [
        Req("List notifications (the failure)", "GET", "/api/notifications", token="userAccessToken",
            keys=("notifications", "total", "page", "per_page", "total_pages"),
            script=(capture("notificationId", f'body.notifications.length ? body.notifications[0].id : "{NO_ID}"'),
                    expect("the failure was notified", "pm.expect(body.total).to.be.at.least(1)"))),
        Req("Unread count", "GET", "/api/notifications/unread-count", token="userAccessToken", keys=("unread_count",)),
        Req("Mark one as read", "PUT", "/api/notifications/{{notificationId}}/read", token="userAccessToken",
            keys=("message", "notification"),
            script=(expect("read", "pm.expect(body.notification.is_read).to.eql(true)"),)),
        Req("Mark all as read", "PUT", "/api/notifications/read-all", token="userAccessToken", keys=("message",)),
        Req("Delete one", "DELETE", "/api/notifications/{{notificationId}}", token="userAccessToken",
            keys=("message",)),
        Req("Delete all read", "DELETE", "/api/notifications/delete-read", token="userAccessToken",
            keys=("message",)),
        Req("Someone else's notification is 404", "PUT", "/api/notifications/{{notificationId}}/read",
            token="viewerAccessToken", status=404, keys=ERROR),
    ]
    settings = [
        Req("Get Slack settings (admin)", "GET", "/api/settings/slack", keys=("slack_settings",)),
        Req("Update Slack settings (admin)", "PUT", "/api/settings/slack", keys=("message", "slack_settings"),
            body={"is_enabled": False, "channel": "#cron-alerts", "webhook_url": "{{slackWebhookUrl}}"},
            description="Stored but not called while is_enabled is false.",
            script=(expect("masked", 'pm.expect(body.slack_settings.webhook_url).to.not.eql(pm.variables.get("slackWebhookUrl"))'),
                    expect("configured", "pm.expect(body.slack_settings.webhook_configured).to.eql(true)"))),
        Req("Send a Slack test message (admin)", "POST", "/api/settings/slack/test",
            body={"webhook_url": "{{slackTestUrl}}", "channel": "#cron-alerts"}, keys=("ok", "message"),
            description="Point slackTestUrl at a real Slack incoming webhook to see the message (ok: true); CI "
                        "uses an address that refuses, so Slack's failure comes back as ok: false.",
            script=(expect("ok says whether Slack accepted it", 'pm.expect(body.ok).to.be.a("boolean")'),)),
        Req("A user may not read Slack settings", "GET", "/api/settings/slack", token="userAccessToken", status=403,
            keys=ERROR),
    ]
    cleanup = [
        Req("Delete a job", "DELETE", "/api/jobs/{{jobId}}", keys=("message", "deleted_job"),
            script=(expect("the job", 'pm.expect(body.deleted_job.id).to.eql(pm.collectionVariables.get("jobId"))'),)),
        Req("Owner deletes their job", "DELETE", "/api/jobs/{{failingJobId}}", token="userAccessToken",
            keys=("message", "deleted_job")),
        Req("Disable a category (admin)", "DELETE", "/api/job-categories/{{categoryId}}", keys=("message", "category"),
            script=(expect("disabled", "pm.expect(body.category.is_active).to.eql(false)"),)),
        Req("Disable a PIC team (admin)", "DELETE", "/api/pic-teams/{{teamId}}", keys=("message", "pic_team"),
            script=(expect("disabled", "pm.expect(body.pic_team.is_active).to.eql(false)"),)),
        Req("Delete a user (admin)", "DELETE", "/api/auth/users/{{viewerId}}", keys=("message", "deleted_user")),
        Req("A deleted user's token stops working", "GET", "/api/auth/me", token="viewerAccessToken", status=401,
            keys=ERROR),
        Req("Delete the other user (admin)", "DELETE", "/api/auth/users/{{userId}}", keys=("message", "deleted_user")),
        Req("Logout", "POST", "/api/auth/logout", keys=("message",)),
        Req("A logged-out token is refused", "GET", "/api/auth/me", status=401, keys=ERROR),
    ]
    return [
        ("Health, docs and metrics", "No login needed (metrics: METRICS_TOKEN).", health),
        ("Auth", "Login captures accessToken and refreshToken into collection variables.", auth),
        ("Users and preferences", "Creates a user and a viewer for the permission checks that follow.", users),
        ("Categories and PIC teams", "", catalog),
        ("Cron tools", "", cron),
        ("Jobs", "", jobs),
        ("Executions", "Triggers run asynchronously; the wait requests poll until they finish.", executions),
        ("Notifications", "The failed run of the user's job notified its owner.", notifications),
        ("Settings", "", settings),
        ("Clean up and logout", "Leaves the server as it was, so the collection can run again.", cleanup),
    ]


COLLECTION_TESTS = [
    'pm.test("X-Request-ID on the response", () => pm.response.to.have.header("X-Request-ID"));',
    'if (pm.response.code >= 400 && (pm.response.headers.get("Content-Type") || "").includes("json")) {',
    '    pm.test("error body is {error, message}", () => pm.expect(pm.response.json()).to.include.keys("error", "message"));',
    "}",
    'pm.test("no server error", () => pm.expect(pm.response.code).to.be.below(500));',
]


def build() -> dict[str, Any]:
    variables = ["baseUrl", "adminUsername", "adminPassword", "metricsToken", "webhookUrl", "accessToken",
                 "refreshToken", "adminId", "runId", "userId", "userAccessToken", "viewerId", "viewerAccessToken",
                 "categoryId", "categorySlug", "teamId", "teamSlug", "jobId", "failingJobId", "executionId",
                 "failedExecutionId", "notificationId", "pollTries", "slackWebhookUrl", "slackTestUrl"]
    defaults = {"baseUrl": "http://127.0.0.1:5001", "adminUsername": "admin", "adminPassword": "admin123",
                "webhookUrl": "http://127.0.0.1:8000/hook",
                "slackWebhookUrl": "https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXXXXXXXXXX",
                "slackTestUrl": "https://127.0.0.1:9/slack-test"}
    return {
        "info": {
            "name": "Cron Job Scheduler API",
            "description": ("Every endpoint of the Cron Job Scheduler, runnable top to bottom (`newman run "
                            "Postman_Collection.json --env-var baseUrl=... --env-var adminPassword=...`). "
                            "Generated by test/e2e/postman_collection.py."),
            "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json",
        },
        "auth": {"type": "bearer", "bearer": [{"key": "token", "value": "{{accessToken}}", "type": "string"}]},
        "event": [{"listen": "test", "script": {"type": "text/javascript", "exec": COLLECTION_TESTS}}],
        "variable": [{"key": name, "value": defaults.get(name, ""), "type": "string"} for name in variables],
        "item": [{"name": name, "description": description, "item": [req.item() for req in requests]}
                 for name, description, requests in folders()],
    }


def render() -> str:
    return json.dumps(build(), indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    OUTPUT.write_text(render())
    print(f"wrote {OUTPUT}")
