"""``extra_train``: rows added to a corpus's training split only, and a default that leaves
every run without it as it was (parameters, manifests, model versions)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from newsapi.model.artifact import Artifact, save_artifact
from newsapi.model.data import DatasetError, load_corpus, with_extra_train
from newsapi.model.params import DEFAULTS, TrainingParameters
from newsapi.training.pipeline import fit
from newsapi.training.run import corpus_for
from tests.support import topic_sentences, write_csv


@pytest.fixture
def corpus_csv(tmp_path: Path) -> Path:
    return write_csv(tmp_path / "own.csv", topic_sentences(20))


def test_the_default_records_nothing_new() -> None:
    dumped = DEFAULTS.model_dump()
    assert "extra_train" not in dumped
    assert list(dumped) == [
        name for name in TrainingParameters.model_fields if name != "extra_train"
    ]
    assert "extra_train" not in repr(DEFAULTS)
    assert TrainingParameters.build(dumped) == DEFAULTS


def test_a_stored_manifest_reads_back_the_same(tiny_model: Artifact) -> None:
    """An existing run's parameters go through the new model unchanged."""
    recorded = tiny_model.manifest["parameters"]
    assert TrainingParameters.build(recorded).model_dump() == recorded


def test_the_model_version_does_not_change_with_the_default(
    corpus_csv: Path, tmp_path: Path
) -> None:
    versions = []
    given: list[dict[str, str | None]] = [
        {"dataset": str(corpus_csv)},
        {"dataset": str(corpus_csv), "extra_train": None},
    ]
    for i, values in enumerate(given):
        params = TrainingParameters.build(values)
        corpus = corpus_for(params)
        pipeline, metrics = fit(params, corpus)
        artifact = save_artifact(
            pipeline, corpus.target_names, tmp_path / f"m{i}" / "model.joblib",
            parameters=params.model_dump(), metrics=metrics, dataset=corpus.description,
        )  # fmt: skip
        versions.append(artifact.model_version)
        assert "extra_train" not in artifact.manifest["parameters"]
    assert versions[0] == versions[1]


def test_extra_rows_join_the_training_split_only(corpus_csv: Path, tmp_path: Path) -> None:
    extra = write_csv(tmp_path / "labelled.csv", [("orbit of a new moon", "space"),
                                                   ("garlic butter sauce", "cooking")])  # fmt: skip
    params = TrainingParameters.build({"dataset": str(corpus_csv), "extra_train": str(extra)})
    plain = load_corpus(str(corpus_csv))
    corpus = corpus_for(params)
    assert corpus.test_texts == plain.test_texts
    assert corpus.test_labels == plain.test_labels
    assert corpus.train_texts == [*plain.train_texts, "orbit of a new moon", "garlic butter sauce"]
    names = corpus.target_names
    assert [names[i] for i in corpus.train_labels[-2:]] == ["space", "cooking"]
    recorded = corpus.description["extra_train"]
    assert recorded["rows"] == 2
    assert recorded["path"] == str(extra)
    assert len(recorded["sha256"]) == 64
    assert params.model_dump()["extra_train"] == str(extra)
    assert "extra_train=" in repr(params)


def test_a_relative_path_is_recorded_absolute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_csv(tmp_path / "labelled.csv", [("orbit", "space")])
    monkeypatch.chdir(tmp_path)
    params = TrainingParameters.build({"extra_train": "labelled.csv"})
    assert params.extra_train == str(tmp_path.resolve() / "labelled.csv")
    assert os.path.isabs(params.extra_train)


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([("pasta", "cooking"), ("a car", "rec.autos"), ("x", "zz")],
         "extra_train: {file} has labels that are not among the run's categories: 'rec.autos', "
         "'zz' (the categories: cooking, space, sport)"),
        ([], "extra_train: {file} holds no rows with both a text and a label"),
    ],
)  # fmt: skip
def test_unusable_rows_are_one_refusal(
    corpus_csv: Path, tmp_path: Path, rows: list[tuple[str, str]], message: str
) -> None:
    extra = write_csv(tmp_path / "labelled.csv", rows)
    with pytest.raises(DatasetError) as caught:
        with_extra_train(load_corpus(str(corpus_csv)), extra)
    assert str(caught.value) == message.format(file=extra)


def test_a_missing_file_or_column_is_named(corpus_csv: Path, tmp_path: Path) -> None:
    corpus = load_corpus(str(corpus_csv))
    with pytest.raises(DatasetError, match=r"^extra_train: CSV file .*nope.csv does not exist$"):
        with_extra_train(corpus, tmp_path / "nope.csv")
    wrong = write_csv(tmp_path / "wrong.csv", [("a", "space")], header=("body", "label"))
    with pytest.raises(DatasetError, match=r"^extra_train: .*wrong.csv has no \['text'\] column"):
        with_extra_train(corpus, wrong)
