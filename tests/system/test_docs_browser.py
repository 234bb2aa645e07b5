"""/docs and /redoc in a real browser without internet: every operation renders, and try-it-out
gives the book's answer.

The browser tests drive Debian's Chromium (``make tools`` installs it) with Playwright against a
real uvicorn on 127.0.0.1 (the ``browser`` fixture, :mod:`tests.support.browsers`); every request
the pages make is intercepted and its host recorded, and anything not addressed to the server is
refused, as it would be on a machine offline.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from urllib.parse import urlsplit

import httpx
import pytest

from newsapi.model.artifact import Artifact
from tests.support import Server
from tests.support.browsers import Browser


def operations(server: Server) -> list[tuple[str, str, str]]:
    """(METHOD, path, operationId) of every operation of the served OpenAPI document."""
    document = httpx.get(f"{server.url}/openapi.json", timeout=10).json()
    return [
        (method.upper(), path, operation["operationId"])
        for path, item in document["paths"].items()
        for method, operation in item.items()
    ]


@pytest.mark.browser
@pytest.mark.server
def test_swagger_ui_renders_every_operation_offline(
    start_server: Callable[..., Server], tiny_model: Artifact, browser: Browser
) -> None:
    server = start_server(tiny_model.path)
    page = browser.page
    page.goto(f"{server.url}/docs")
    page.locator(".opblock").first.wait_for()
    rendered = {
        (block.locator(".opblock-summary-method").inner_text().strip(),
         block.locator(".opblock-summary-path").get_attribute("data-path"))
        for block in page.locator(".opblock").all()
    }  # fmt: skip
    expected = {(method, path) for method, path, _ in operations(server)}
    assert rendered == expected
    assert set(browser.hosts) == {urlsplit(server.url).netloc}
    assert browser.errors == []  # the Content-Security-Policy breaks nothing


@pytest.mark.browser
@pytest.mark.server
def test_redoc_renders_every_operation_offline(
    start_server: Callable[..., Server], tiny_model: Artifact, browser: Browser
) -> None:
    server = start_server(tiny_model.path)
    page = browser.page
    page.goto(f"{server.url}/redoc")
    page.locator("[data-section-id*='operation/']").first.wait_for()
    sections = {
        str(section.get_attribute("data-section-id")).rpartition("operation/")[2]
        for section in page.locator("[data-section-id*='operation/']").all()
    }
    assert sections == {operation_id for _, _, operation_id in operations(server)}
    for method, path, _ in operations(server):
        assert page.get_by_text(path, exact=True).count() > 0, f"{method} {path}"
    assert set(browser.hosts) == {urlsplit(server.url).netloc}
    # the one thing refused is the logo ReDoc would fetch from its makers' CDN
    for error in browser.errors:
        assert 'violates the following Content Security Policy directive: "img-src' in error


@pytest.mark.browser
@pytest.mark.server
@pytest.mark.corpus
def test_try_it_out_gives_the_books_answer(
    start_server: Callable[..., Server], real_model: Artifact, browser: Browser
) -> None:
    server = start_server(real_model.path)
    page = browser.page
    page.goto(f"{server.url}/docs")
    block = page.locator(".opblock-post").filter(has=page.locator("[data-path='/prediction']"))
    block.locator(".opblock-summary").click()
    block.get_by_role("button", name="Try it out").click()
    block.locator("textarea.body-param__text").fill('{"text": "computer cpu memory ram"}')
    block.get_by_role("button", name="Execute").click()
    answer = block.locator(".live-responses-table .response").first
    answer.locator(".response-col_status").filter(has_text="200").wait_for()
    shown = answer.locator(".response-col_description pre.microlight").first.inner_text()
    assert json.loads(shown) == {"category": "comp.sys.mac.hardware"}
    assert set(browser.hosts) == {urlsplit(server.url).netloc}
    assert browser.errors == []
