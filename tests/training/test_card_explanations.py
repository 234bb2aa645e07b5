"""The model card's section on sentences of our own: each sentence with its deciding words
highlighted at their spans, the category and the runner-up, the weights; from what
``01_train.ipynb`` records in the manifest (newsapi.training.sentences)."""

from __future__ import annotations

from functools import partial
from html.parser import HTMLParser
from pathlib import Path

from newsapi.model.params import TrainingParameters
from newsapi.serving.explain import explain_texts
from newsapi.store.catalog import ModelStore, StoredModel
from newsapi.training.card import write_card
from newsapi.training.pipeline import fit
from newsapi.training.run import store_run
from newsapi.training.sentences import CARD_TOP, SENTENCES, explained_sentences
from tests.support import store_tiny, tiny_corpus

HEADING = "How it decides sentences of our own"
# written for the test, in the tiny corpus's topics; the last one carries markup
OWN = [
    "the rocket left orbit for the moon",
    "Bake the pasta, then the garlic sauce!",
    "<script>alert(1)</script> *goal* [striker](javascript:x) & referee",
]


class Marks(HTMLParser):
    """The text of every ``<mark>`` element, every element's name, and the page's text."""

    def __init__(self, page: str) -> None:
        super().__init__(convert_charrefs=True)
        self.marked: list[str] = []
        self.tags: list[str] = []
        self.text: list[str] = []
        self._in_mark = False
        self.feed(page)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag == "mark":
            self._in_mark = True
            self.marked.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "mark":
            self._in_mark = False

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._in_mark:
            self.marked[-1] += data


def stored(tmp_path: Path, classifier: str = "multinomial_nb", **params: object) -> StoredModel:
    corpus = tiny_corpus()
    parameters = TrainingParameters.build({"classifier": classifier, **params})
    pipeline, metrics = fit(parameters, corpus)
    explain = partial(explain_texts, pipeline, corpus.target_names, top=CARD_TOP)
    extra = {"explained_sentences": explained_sentences(explain, OWN)}
    return store_run(ModelStore(tmp_path), pipeline, corpus, parameters, metrics, extra=extra)


def test_the_card_highlights_each_sentences_deciding_words(tmp_path: Path) -> None:
    entry = stored(tmp_path)
    record = entry.manifest["explained_sentences"]["sentences"]
    assert [sentence["text"] for sentence in record] == OWN
    card = (entry.path / "card.md").read_text()
    section = card[card.index(HEADING) :]
    page = Marks((entry.path / "card.html").read_text())
    expected = []
    for sentence in record:
        assert 0 < len(sentence["terms"]) <= CARD_TOP
        for term in sentence["terms"]:
            assert f"{term['weight']:+.3f}" in section
            expected += [(start, sentence["text"][start:end]) for start, end in term["spans"]]
        assert f"`{sentence['category']}` rather than `{sentence['runner_up']}`" in section
    # one mark per occurrence of a listed term, around exactly its characters
    assert sorted(page.marked) == sorted(word for _, word in expected)
    assert {"rocket", "moon", "pasta", "garlic", "goal", "striker"} <= set(page.marked)
    assert write_card(entry.path, entry.manifest)["card.md"].decode() == card


def test_markup_in_a_sentence_reaches_the_card_as_text(tmp_path: Path) -> None:
    entry = stored(tmp_path)
    page = Marks((entry.path / "card.html").read_text())
    assert "script" not in page.tags
    assert "a" not in page.tags
    assert "em" not in page.tags
    text = "".join(page.text)
    assert "<script>alert(1)</script> *goal* [striker](javascript:x) & referee" in text


def test_a_model_that_cannot_be_explained_says_why_on_its_card(tmp_path: Path) -> None:
    entry = stored(tmp_path, "linear_svc", calibrate=True)
    card = (entry.path / "card.md").read_text()
    assert "Not explained: the served classifier is calibrated" in card[card.index(HEADING) :]


def test_a_card_without_the_record_has_no_such_section(tmp_path: Path) -> None:
    entry = store_tiny(ModelStore(tmp_path), 0.5)
    assert HEADING not in (entry.path / "card.md").read_text()


def test_the_sentences_are_the_notebooks_own() -> None:
    """02_evaluate.ipynb classifies these, and 01_train.ipynb records their explanations."""
    notebooks = Path(__file__).resolve().parents[2] / "notebooks"
    assert "SENTENCES" in (notebooks / "02_evaluate.ipynb").read_text()
    assert "explained_sentences" in (notebooks / "01_train.ipynb").read_text()
    assert SENTENCES[0] == "computer cpu memory ram"  # the book's sentence comes first
