"""The manual as a reader gets it: the site that `make docs` builds, opened from file:// in
Debian's Chromium, with no server and no network.

The site is built here, into a temporary folder, with the project's own mkdocs and
``--strict``, so the test does not depend on ``make docs`` having run. Every request the pages
make is recorded; anything addressed off the machine is refused, as it would be offline, and
fails the test.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, Request, Route

from newsapi.settings_reference import documented_variables
from tests.support.browsers import chromium

ROOT = Path(__file__).resolve().parents[2]
MKDOCS = Path(sys.executable).parent / "mkdocs"  # the project's environment, not the PATH's
ON_THIS_MACHINE = {"file", "data", "blob"}
OFF_THIS_MACHINE = re.compile(r"^(?!(file|data|blob):)")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site, built as `make docs` builds it, into a folder of its own."""
    folder = tmp_path_factory.mktemp("site")
    built = subprocess.run(
        [MKDOCS, "build", "--strict", "--site-dir", folder],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert built.returncode == 0, f"mkdocs build --strict failed:\n{built.stderr[-4000:]}"
    return folder


@dataclass
class Reader:
    """A page of a fresh Chromium profile, with every request its pages made."""

    page: Page
    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # the pages' console errors

    def stayed_on_this_machine(self) -> None:
        assert any(url.startswith("file:") for url in self.requests), "no request recorded"
        leaving = [url for url in self.requests if urlsplit(url).scheme not in ON_THIS_MACHINE]
        assert leaving == [], f"the pages asked for {leaving}"


@pytest.fixture
def reader(tmp_path: Path) -> Iterator[Reader]:
    with chromium(tmp_path / "chromium-profile") as started:
        seen = Reader(started.page, errors=started.errors)

        def record(request: Request) -> None:
            seen.requests.append(request.url)

        def refuse(route: Route) -> None:
            route.abort("internetdisconnected")

        started.context.on("request", record)
        started.context.route(OFF_THIS_MACHINE, refuse)
        yield seen


@pytest.mark.browser
def test_the_navigation_opens_other_pages(site: Path, reader: Reader) -> None:
    page = reader.page
    page.goto((site / "index.html").as_uri())
    assert page.title() == "newsapi"
    navigation = page.locator("nav.md-nav--primary")
    navigation.get_by_role("link", name="Sweeps", exact=True).click()
    page.wait_for_url((site / "sweeps.html").as_uri())
    assert page.title() == "Sweeps - newsapi"
    # from a page at the top to one a folder down, and back up: relative links under file://
    navigation.get_by_role("link", name="Configuration", exact=True).click()
    page.wait_for_url((site / "serve" / "configuration.html").as_uri())
    assert page.title() == "Configuration - newsapi"
    navigation.get_by_role("link", name="Operate", exact=True).click()
    page.wait_for_url((site / "operate.html").as_uri())
    assert page.title() == "Operate - newsapi"
    reader.stayed_on_this_machine()
    assert reader.errors == []


@pytest.mark.browser
def test_search_finds_pages_from_file_urls(site: Path, reader: Reader) -> None:
    page = reader.page
    page.goto((site / "index.html").as_uri())
    search = page.locator("input.md-search__input")
    search.click()
    search.press_sequentially("promote")
    results = page.locator(".md-search-result__item > a")
    results.first.wait_for()
    found = {str(link.evaluate("a => a.href")): link for link in results.all()}
    train = (site / "train.html").as_uri()  # where promotion is explained
    hits = [href for href in found if href.startswith(f"{train}?h=promote")]
    assert hits, sorted(found)
    found[hits[0]].click()
    page.wait_for_url(re.compile(re.escape(f"{train}?h=promote")))
    page.locator("article mark").first.wait_for()  # the word, highlighted on the page found
    reader.stayed_on_this_machine()
    assert reader.errors == []


def test_the_configuration_page_lists_every_documented_variable(site: Path) -> None:
    page = (site / "serve" / "configuration.html").read_text()
    assert "<!-- config-reference -->" not in page, "the hook did not fill the placeholder"
    for variable in documented_variables():
        assert f"<code>{variable.name}</code>" in page, variable.name
