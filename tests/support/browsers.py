"""A real headless browser for the system tests: Debian's Chromium (``make tools`` installs
it) driven by Playwright's Python API, a fresh profile each time, offline.

:func:`chromium` starts it and records the pages' console errors; :func:`local_browser` adds
the rule of the tests against a real server: every request's host is recorded, and anything
not addressed to 127.0.0.1 is refused, as it would be on a machine offline.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import BrowserContext, ConsoleMessage, Page, Route, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
# Headless, as root in CI (no sandbox), and quiet: nothing of Chromium's own reaches out.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PAGE_TIMEOUT_MS = 30_000  # a bound for a loaded 2-core machine, not a measurement


@dataclass
class Chromium:
    """A started Chromium: its context, its page, and the pages' console errors."""

    context: BrowserContext
    page: Page
    errors: list[str] = field(default_factory=list)


@contextlib.contextmanager
def chromium(profile: Path) -> Iterator[Chromium]:
    """Chromium with a fresh profile in ``profile``, closed on leaving; the test fails at once
    when Debian's chromium is not installed."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: `make tools` installs Debian's chromium package")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        page = context.pages[0] if context.pages else context.new_page()
        page.set_default_timeout(PAGE_TIMEOUT_MS)
        started = Chromium(context, page)

        def record_error(message: ConsoleMessage) -> None:
            if message.type == "error":
                started.errors.append(message.text)

        page.on("console", record_error)
        try:
            yield started
        finally:
            context.close()


@dataclass
class Browser:
    """A page of a fresh Chromium profile, with the host of every request its pages made."""

    page: Page
    hosts: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # the pages' console errors


@contextlib.contextmanager
def local_browser(profile: Path) -> Iterator[Browser]:
    """Chromium that reaches 127.0.0.1 only, recording the host of every request."""
    with chromium(profile) as started:
        seen = Browser(started.page, errors=started.errors)

        def only_this_machine(route: Route) -> None:
            host = urlsplit(route.request.url).netloc
            seen.hosts.append(host)
            if host.partition(":")[0] == "127.0.0.1":
                route.continue_()
            else:
                route.abort("internetdisconnected")

        started.context.route("**/*", only_this_machine)
        yield seen
