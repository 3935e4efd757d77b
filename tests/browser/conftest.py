"""Real-browser tests: Playwright drives Debian's Chromium against pytest-django's live server."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright
from pytest_django.live_server_helper import LiveServer

from sdrcrm.models import User
from tests.conftest import require
from tests.factories import PASSWORD

HERE = Path(__file__).parent
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # This hook sees the whole session's items: mark only the ones in this folder.
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.browser)


# One Chromium for every test in this folder. Package scope, not session: Playwright's
# asyncio loop (and the env switch below) must end with the browser tests, or the rest of
# a full run inherits them (manage.py check --deploy flags DJANGO_ALLOW_ASYNC_UNSAFE).
@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    executable = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
    require(os.access(executable, os.X_OK),
            f"CI must run the browser tests, but there is no Chromium at {executable}: "
            "apt-get install -y chromium, or set CHROMIUM_PATH",
            f"no Chromium at {executable}: `apt-get install -y chromium` (Debian) "
            "or set CHROMIUM_PATH; `playwright install` is not needed")
    # Playwright's sync API keeps an asyncio loop marked as running in this thread, so
    # Django would refuse every ORM call in the tests (factories, refresh_from_db) with
    # SynchronousOnlyOperation. The calls really are synchronous; allow them only while
    # the browser is up.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
    finally:
        playwright.stop()
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(browser: Browser, live_server: LiveServer) -> Iterator[Page]:
    """A fresh context (no cookies carried over) whose relative URLs go to the live server."""
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 800})
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


def login(page: Page, live_server: LiveServer, user: User) -> None:
    """Log in through the login form, the way a person does, and wait for the role's home
    page (sdrcrm.views.home: the lead list for SDRs, the team queues for managers, …)."""
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).not_to_have_url(re.compile(r".*/login/"))
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def screenshots(page: Page, name: str) -> None:
    """Save the page as a user sees it at 1280 px and at 390 px (a phone) into
    test-artifacts/ (git-ignored), then give the page its width back."""
    ARTIFACTS.mkdir(exist_ok=True)
    width = page.viewport_size or {"width": 1280, "height": 800}
    for size in (1280, 390):
        page.set_viewport_size({"width": size, "height": 900})
        page.screenshot(path=str(ARTIFACTS / f"{name}-{size}.png"), full_page=True)
    page.set_viewport_size(width)
