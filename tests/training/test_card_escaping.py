"""Category names (and a corpus path) carrying markup reach ``card.md`` as text: a Markdown
viewer that renders raw HTML, as CommonMark allows, shows each name as written, in its table
cell, and runs nothing; ``card.html`` shows them as written too."""

from __future__ import annotations

from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path

import pytest

from newsapi.model.params import TrainingParameters
from newsapi.store.catalog import ModelStore, StoredModel
from newsapi.training.run import corpus_for, train_and_store
from tests.support import topic_sentences, write_csv

HOSTILE = {
    "space": "<script>alert(1)</script>",
    "cooking": "x`<img src=x onerror=alert(2)>`|y",
    "sport": "[click](javascript:alert(3)) *b* &amp; _u_ \\",
}


class Page(HTMLParser):
    """The elements, the text, and the first cell of every table row of an HTML page."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.first_cells: list[str] = []
        self._cell: list[str] | None = None
        self._first = False
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag == "tr":
            self._first = True
        elif tag == "td" and self._first:
            self._cell, self._first = [], False

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._cell is not None:
            self.first_cells.append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._cell is not None:
            self._cell.append(data)


@pytest.fixture(scope="module")
def hostile_entry(tmp_path_factory: pytest.TempPathFactory) -> StoredModel:
    folder = tmp_path_factory.mktemp("hostile")
    rows = [(text, HOSTILE[label]) for text, label in topic_sentences()]
    data = write_csv(folder / "own<b>data<i>.csv", rows)
    params = TrainingParameters.build({"dataset": str(data)})
    return train_and_store(ModelStore(folder / "artifacts"), params, corpus_for(params))


def check(page: Page, entry: StoredModel) -> None:
    names = entry.manifest["target_names"]
    assert sorted(names) == sorted(HOSTILE.values())
    assert [tag for tag, _ in page.tags if tag == "script"] == []
    assert [attrs for tag, attrs in page.tags if tag == "img" and attrs.get("src") == "x"] == []
    assert [attrs for tag, attrs in page.tags if tag == "a"] == []
    assert [tag for tag, _ in page.tags if tag in ("em", "strong", "b", "i")] == []
    text = "".join(page.text)
    for name in names:
        assert name in text, name
    assert "own<b>data<i>.csv" in text
    # the per-category table kept its rows: one per category, the name in its first cell
    assert [cell for cell in page.first_cells if cell in names] == sorted(names)


def commonmark(markdown: str) -> str:
    """What a CommonMark viewer that renders raw HTML (as the spec allows) shows."""
    from markdown_it import MarkdownIt

    rendered: str = MarkdownIt("commonmark", {"html": True}).enable("table").render(markdown)
    return rendered


def python_markdown(markdown: str) -> str:
    """What Python-Markdown (mkdocs' renderer, raw HTML passed through) shows."""
    import markdown as python_markdown  # type: ignore[import-untyped]

    rendered: str = python_markdown.markdown(markdown, extensions=["tables"])
    return rendered


@pytest.mark.parametrize("viewer", [commonmark, python_markdown])
def test_a_markdown_viewer_shows_category_names_as_written(
    hostile_entry: StoredModel, viewer: Callable[[str], str]
) -> None:
    check(Page(viewer((hostile_entry.path / "card.md").read_text())), hostile_entry)


def test_the_html_card_shows_category_names_as_written(hostile_entry: StoredModel) -> None:
    check(Page((hostile_entry.path / "card.html").read_text()), hostile_entry)


def test_the_books_card_reads_as_before(tmp_path: Path) -> None:
    # names made of letters, digits, dots and hyphens (the newsgroups') are not escaped
    rows = [(text, f"comp.{label}-x") for text, label in topic_sentences()]
    params = TrainingParameters.build({"dataset": str(write_csv(tmp_path / "plain.csv", rows))})
    entry = train_and_store(ModelStore(tmp_path / "a"), params, corpus_for(params))
    card = (entry.path / "card.md").read_text()
    assert "categories: comp.cooking-x, comp.space-x, comp.sport-x;" in card
    assert "The weakest category is `comp." in card
