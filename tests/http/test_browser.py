"""GraphiQL in a real headless Chromium against ``gateway demo`` (gateway + both emulators), offline.

The demo runs as the README starts it, a ``gateway demo --port N`` process.

The browser may talk to 127.0.0.1 only, enforced three ways: a host resolver that resolves nothing
else, a dead proxy for everything but loopback, and Playwright route interception that aborts (and
records) any other request.  The test asserts that nothing else was even attempted, that the page
raised no error (a CSP violation is one), and that running the default query shows deleted contacts.

Debian's ``/usr/bin/chromium`` is driven by Playwright (``executable_path``); Playwright's own browser
downloads are never used.  A screenshot is left at ``/tmp/graphiql.png``.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.browser

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
SCREENSHOT = Path("/tmp/graphiql.png")
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    "--proxy-server=http://127.0.0.1:9",
    "--proxy-bypass-list=127.0.0.1;localhost",
]


def _sync_playwright() -> Any:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sync_playwright = None
    if sync_playwright is None or not CHROMIUM.is_file():
        missing = "playwright" if sync_playwright is None else str(CHROMIUM)
        if os.environ.get("CI"):
            pytest.fail(f"{missing} is missing in CI (scripts/setup.sh installs it)")
        pytest.skip(f"{missing} is missing: run `bash scripts/setup.sh`")
    return sync_playwright


def _is_local(url: str) -> bool:
    return url.startswith("data:") or urlsplit(url).hostname in LOCAL_HOSTS


@dataclass
class Watch:
    """What the browser did: requests to other hosts (attempted), page errors, /graphql POST statuses."""

    foreign: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    graphql_statuses: list[int] = field(default_factory=list)

    def route(self, route: Any) -> None:
        if _is_local(route.request.url):
            route.continue_()
        else:
            self.foreign.append(route.request.url)
            route.abort()

    def request(self, request: Any) -> None:
        if not _is_local(request.url) and request.url not in self.foreign:
            self.foreign.append(request.url)

    def console(self, message: Any) -> None:
        if message.type == "error":  # CSP violations and failed loads are reported here
            self.problems.append(f"console.error: {message.text}")

    def page_error(self, error: Any) -> None:
        self.problems.append(f"page error: {error}")

    def response(self, response: Any) -> None:
        if urlsplit(response.url).path == "/graphql" and response.request.method == "POST":
            self.graphql_statuses.append(response.status)


@contextlib.contextmanager
def gateway_demo() -> Iterator[str]:
    """``gateway demo`` on a free port, until it answers ``/healthz``; yields its base URL."""
    import httpx

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "gateway.cli", "demo", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, "gateway demo exited"
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            assert time.monotonic() < deadline, "gateway demo did not start within 60 s"
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_graphiql_loads_offline_and_runs_the_default_query() -> None:
    sync_playwright = _sync_playwright()

    watch = Watch()
    with gateway_demo() as gateway_url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS
        )
        try:
            context = browser.new_context(viewport={"width": 1400, "height": 900}, service_workers="block")
            context.route("**/*", watch.route)
            page = context.new_page()
            page.on("request", watch.request)
            page.on("console", watch.console)
            page.on("pageerror", watch.page_error)
            page.on("response", watch.response)

            page.goto(f"{gateway_url}/graphql", wait_until="load", timeout=20_000)
            # Locator waits, not wait_for_function: the page's CSP forbids the eval() that one needs.
            editor = page.locator(".graphiql-query-editor").filter(has_text="deletedContacts(")
            editor.wait_for(timeout=20_000)
            page.locator(".graphiql-execute-button").click()
            response = page.locator(".graphiql-response").filter(has_text="totalCount")
            response.wait_for(timeout=20_000)
            result = response.inner_text()
            page.screenshot(path=str(SCREENSHOT))
            attempted_by_graphiql = list(watch.foreign)

            # The guard itself works: a page that asks for another host is recorded and stopped.
            canary = context.new_page()
            with pytest.raises(Exception, match="ERR_FAILED"):
                canary.goto("http://example.invalid/", timeout=10_000)
        finally:
            browser.close()

    assert attempted_by_graphiql == [], f"the page tried to reach other hosts: {attempted_by_graphiql}"
    assert watch.foreign == ["http://example.invalid/"]
    assert watch.problems == []
    assert 200 in watch.graphql_statuses
    assert '"deletedContacts"' in result and '"email"' in result and '"errors"' not in result
    assert SCREENSHOT.stat().st_size > 10_000
