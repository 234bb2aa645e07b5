"""Corpus loading: the 20 newsgroups through scikit-learn, a folder, a CSV."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsapi.model.data import (
    DEFAULT_CATEGORIES,
    DataNotFoundError,
    DatasetError,
    load_corpus,
    resolve_data_home,
)
from tests.support import topic_sentences, write_csv, write_folder


def test_csv_corpus(tmp_path: Path) -> None:
    corpus = load_corpus(str(write_csv(tmp_path / "own.csv", topic_sentences(20))), test_size=0.25)
    assert corpus.target_names == ["cooking", "space", "sport"]
    assert len(corpus.train_texts) == 45
    assert len(corpus.test_texts) == 15
    assert corpus.counts()["test"] == {"cooking": 5, "space": 5, "sport": 5}  # stratified
    assert corpus.description["source"] == "csv"


def test_folder_corpus(tmp_path: Path) -> None:
    corpus = load_corpus(str(write_folder(tmp_path / "own", topic_sentences(20))), test_size=0.2)
    assert corpus.target_names == ["cooking", "space", "sport"]
    assert len(corpus.test_texts) == 12
    assert corpus.description["source"] == "folder"


def test_csv_without_text_column_names_it(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "bad.csv", topic_sentences(5), header=("body", "label"))
    with pytest.raises(DatasetError, match=r"no \['text'\] column"):
        load_corpus(str(path))


def test_empty_csv(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="holds no documents"):
        load_corpus(str(write_csv(tmp_path / "empty.csv", [])))


def test_folder_with_one_class(tmp_path: Path) -> None:
    rows = [(t, label) for t, label in topic_sentences(10) if label == "space"]
    with pytest.raises(DatasetError, match="1 class"):
        load_corpus(str(write_folder(tmp_path / "one", rows)))


def test_unknown_dataset_and_categories_are_named() -> None:
    with pytest.raises(DatasetError, match="dataset: 'nowhere' is neither"):
        load_corpus("nowhere")
    with pytest.raises(DatasetError, match=r"categories: unknown \['sci.cooking'\]"):
        load_corpus(categories=["sci.crypt", "sci.cooking"])
    with pytest.raises(DatasetError, match="remove: unknown"):
        load_corpus(remove=["signatures"])


def test_data_home_resolution(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SCIKIT_LEARN_DATA", str(tmp_path / "sk"))
    monkeypatch.delenv("NEWSAPI_DATA_HOME", raising=False)
    assert resolve_data_home() == tmp_path / "sk"
    monkeypatch.setenv("NEWSAPI_DATA_HOME", str(tmp_path / "own"))
    assert resolve_data_home() == tmp_path / "own"
    assert resolve_data_home(tmp_path / "explicit") == tmp_path / "explicit"


def test_missing_corpus_names_the_variable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # an empty data home and a network that refuses (a proxy on a closed local port): the
    # real scikit-learn download fails, as it does on an offline machine
    monkeypatch.setenv("NEWSAPI_DATA_HOME", str(tmp_path / "empty"))
    for variable in ("https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY"):
        monkeypatch.setenv(variable, "http://127.0.0.1:9")
    monkeypatch.setenv("no_proxy", "")
    with pytest.raises(DataNotFoundError, match="Set NEWSAPI_DATA_HOME") as caught:
        load_corpus()
    assert str(tmp_path / "empty") in str(caught.value)


@pytest.mark.corpus
def test_newsgroups_four_categories(newsgroups: object) -> None:
    from newsapi.model.data import Corpus

    assert isinstance(newsgroups, Corpus)
    assert sorted(newsgroups.target_names) == sorted(DEFAULT_CATEGORIES)
    assert (len(newsgroups.train_texts), len(newsgroups.test_texts)) == (2149, 1430)


@pytest.mark.corpus
def test_newsgroups_all_twenty_categories() -> None:
    """What the notebooks get with ``categories=None`` (the notebook run on all 20 is marked
    slow: tests/jobs/test_notebooks.py)."""
    corpus = load_corpus(categories=None)
    assert len(corpus.target_names) == 20
    assert (len(corpus.train_texts), len(corpus.test_texts)) == (11314, 7532)
    assert corpus.description["categories"] == sorted(corpus.target_names)
