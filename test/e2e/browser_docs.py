"""Browser check of /api/docs in headless Debian Chromium (Playwright, no browser download).

Opens the Swagger UI page, logs in with "Try it out" on POST /api/auth/login (which authorizes the page), pastes
the access token into "Authorize" by hand too, runs GET /api/auth/me from the page and expects 200 with the user; saves a screenshot to
test-artifacts/. Fails on any page error or Content-Security-Policy violation.

Usage: python test/e2e/browser_docs.py BASE_URL USERNAME  (password on standard input)
"""
from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import Locator, Page, expect, sync_playwright

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def operation(page: Page, method: str, path: str) -> Locator:
    block = page.locator(f".opblock-{method}").filter(
        has=page.locator(f'.opblock-summary-path[data-path="{path}"]')).first
    block.locator(".opblock-summary").first.click()
    try_it = block.get_by_role("button", name="Try it out")
    if try_it.count():
        try_it.click()
    return block


def execute(block: Locator) -> tuple[int, str]:
    block.get_by_role("button", name="Execute").click()
    live = block.locator(".live-responses-table")
    expect(live).to_be_visible(timeout=15000)
    status = int(live.locator("tr.response .response-col_status").first.inner_text().strip()[:3])
    body = live.locator("tr.response .response-col_description .microlight").first.inner_text()
    return status, body


def run(base_url: str, username: str, password: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile, sync_playwright() as playwright:
        browser = playwright.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, headless=True, args=FLAGS, viewport={"width": 1280, "height": 1600})
        page = browser.new_page()
        page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
        page.on("console", lambda msg: problems.append(f"console: {msg.text}")
                if msg.type == "error" or "Content Security Policy" in msg.text else None)
        page.goto(f"{base_url}/api/docs", wait_until="networkidle")
        expect(page.locator(".swagger-ui .info .title")).to_contain_text("Cron Job Scheduler API", timeout=15000)

        login = operation(page, "post", "/api/auth/login")
        login.locator("textarea.body-param__text").fill(json.dumps({"username": username, "password": password}))
        status, body = execute(login)
        assert status == 200, f"login from the page answered {status}: {body[:300]}"
        token = json.loads(body)["access_token"]

        page.locator(".auth-wrapper .authorize").first.click()
        dialog = page.locator(".dialog-ux .modal-ux")
        # The login response already authorized the page (swagger-init.js); also do it by hand, as a user would.
        logout = dialog.locator("button", has_text="Logout")
        expect(logout).to_be_visible(timeout=5000)
        logout.click()
        dialog.locator("input[type=text], input[type=password]").first.fill(token)
        dialog.locator("button", has_text="Authorize").click()
        dialog.locator("button", has_text="Close").first.click()

        me = operation(page, "get", "/api/auth/me")
        status, body = execute(me)
        assert status == 200, f"GET /api/auth/me from the page answered {status}: {body[:300]}"
        assert json.loads(body)["user"]["username"] == username
        me.scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / "api-docs.png"), full_page=False)
        browser.close()
    blocking = [p for p in problems if "Content Security Policy" in p or p.startswith("page error")]
    assert not blocking, "\n".join(blocking)
    print(f"browser: /api/docs login and GET /api/auth/me from the page OK; screenshot {ARTIFACTS / 'api-docs.png'}")


if __name__ == "__main__":
    run(sys.argv[1].rstrip("/"), sys.argv[2], sys.stdin.readline().rstrip("\n"))
