"""GET /try in a real browser without internet: Debian's Chromium, driven by Playwright, on a
real uvicorn (the ``browser`` fixture: see :mod:`tests.support.browsers` for how the browser is
started and every request it makes is recorded)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import expect

from newsapi.http.docs import CONTENT_SECURITY_POLICY, assets_folder
from newsapi.model.artifact import Artifact
from newsapi.settings import MODEL_FILENAME
from tests.support import Server, train_tiny
from tests.support.browsers import Browser

pytestmark = [pytest.mark.browser, pytest.mark.server]

BOOK_SENTENCE = "computer cpu memory ram"


def stored(artifact: Artifact, root: Path) -> Path:
    """``artifact`` promoted in a store under ``root``, its entry with a card and an image."""
    entry = root / "models" / artifact.model_version
    entry.mkdir(parents=True)
    for folder in (root, entry):
        shutil.copy(artifact.path, folder / MODEL_FILENAME)
        shutil.copy(
            artifact.path.with_suffix(".json"), folder / f"{Path(MODEL_FILENAME).stem}.json"
        )
    (entry / "card.html").write_text(
        '<!doctype html><title>card</title><h1>Model card</h1><img src="confusion_matrix.png">'
    )
    shutil.copy(assets_folder() / "favicon.png", entry / "confusion_matrix.png")
    return root / MODEL_FILENAME


def test_the_books_sentence_shows_its_category_and_the_words_that_decided(
    start_server: Callable[..., Server],
    real_model: Artifact,
    browser: Browser,
    tmp_path: Path,
) -> None:
    server = start_server(stored(real_model, tmp_path / "artifacts"))
    page = browser.page
    page.goto(f"{server.url}/try")
    expect(page.locator("#version")).to_have_text(real_model.model_version)
    page.fill("#text", BOOK_SENTENCE)
    page.click("#classify")
    expect(page.locator("#category")).to_have_text("comp.sys.mac.hardware")
    highlighted = page.locator("#highlighted mark.for").all_inner_texts()
    assert {"cpu", "memory", "ram"} <= set(highlighted)
    assert page.locator("#highlighted").inner_text() == BOOK_SENTENCE
    bars = page.locator("#bars .bar")
    assert sorted(bars.evaluate_all("bars => bars.map(b => b.dataset.category)")) == sorted(
        real_model.target_names
    )
    assert bars.first.get_attribute("data-category") == "comp.sys.mac.hardware"
    page.screenshot(path=tmp_path / "try.png", full_page=True)
    assert (tmp_path / "try.png").read_bytes().startswith(b"\x89PNG")
    # the model card, from the store entry of the served model
    page.click("#card")
    expect(page.locator("h1")).to_have_text("Model card")
    assert page.locator("img").evaluate("image => image.naturalWidth") > 0
    assert set(browser.hosts) == {urlsplit(server.url).netloc}  # nothing left the machine
    assert browser.errors == []  # the Content-Security-Policy breaks nothing


def test_a_model_without_probabilities_has_no_bars_and_errors_are_shown(
    start_server: Callable[..., Server],
    tmp_path: Path,
    browser: Browser,
) -> None:
    svc = train_tiny(tmp_path / "svc" / MODEL_FILENAME, classifier="linear_svc")
    server = start_server(svc.path, NEWSAPI_MAX_TEXT_LENGTH="40")
    page = browser.page
    page.goto(f"{server.url}/try")
    expect(page.locator("#card")).to_be_hidden()  # not an entry of a store
    page.fill("#text", "the rocket, the ROCKET 🚀 and the moon")
    page.click("#classify")
    expect(page.locator("#category")).to_have_text("space")
    expect(page.locator("#scores")).to_be_hidden()
    marks = page.locator("#highlighted mark").all_inner_texts()
    assert marks.count("rocket") == 1
    assert "ROCKET" in marks
    page.fill("#text", "x" * 41)
    page.click("#classify")
    expect(page.locator("#error")).to_have_text(
        "body.text: String should have at most 40 characters"
    )
    page.fill("#text", "the moon")
    page.click("#classify")
    expect(page.locator("#highlighted")).to_have_text("the moon")
    # the browser logs each refused request: the first ask for scores (422, never asked
    # again) and the text too long
    assert [error.split(" (")[0] for error in browser.errors] == [
        "Failed to load resource: the server responded with a status of 422"
    ] * 2


def test_the_page_and_the_card_over_http(
    start_server: Callable[..., Server], tiny_model: Artifact, tmp_path: Path
) -> None:
    plain = start_server(tiny_model.path)
    page = httpx.get(f"{plain.url}/try")
    assert page.status_code == 200
    assert page.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "https://" not in page.text
    assert httpx.get(f"{plain.url}/try-assets/try.js").status_code == 200
    no_card = httpx.get(f"{plain.url}/model/card/")
    assert no_card.status_code == 404
    assert "not an entry of a model store" in no_card.json()["detail"]
    store = start_server(stored(tiny_model, tmp_path / "store"))
    card = httpx.get(f"{store.url}/model/card/")
    assert card.status_code == 200
    assert "Model card" in card.text
    assert card.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    for name in ("newsgroups_model.json", "..%2Fnewsgroups_model.json", ".card.html", "x.png"):
        assert httpx.get(f"{store.url}/model/card/{name}").status_code == 404, name
