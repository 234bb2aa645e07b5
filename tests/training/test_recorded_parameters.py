"""A model trained on its own CSV corpus records, and ``/model`` reports, what it was trained
on: its own categories, never the 20 newsgroups' default categories that did not apply."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx

from newsapi.model.artifact import save_artifact
from newsapi.model.data import DEFAULT_CATEGORIES, NEWSGROUPS
from newsapi.model.params import DEFAULTS, TrainingParameters
from newsapi.settings import MODEL_FILENAME
from newsapi.store.catalog import ModelStore
from newsapi.training.card import reproduce_command
from newsapi.training.pipeline import fit
from newsapi.training.run import corpus_for, train_and_store
from tests.support import Server, topic_sentences, write_csv

OWN_CATEGORIES = ["cooking", "space", "sport"]


def test_a_csv_corpus_records_no_newsgroups_categories(tmp_path: Path) -> None:
    data = write_csv(tmp_path / "own.csv", topic_sentences())
    # as 01_train.ipynb builds them: the parameters cell's defaults, the dataset injected
    params = TrainingParameters.build({**DEFAULTS.model_dump(), "dataset": str(data)})
    assert params.categories is None
    assert params.remove == []
    entry = train_and_store(ModelStore(tmp_path / "artifacts"), params, corpus_for(params))
    recorded = entry.manifest["parameters"]
    assert recorded["categories"] is None
    assert recorded["remove"] == []
    assert entry.manifest["target_names"] == OWN_CATEGORIES
    assert entry.manifest["dataset"]["categories"] == OWN_CATEGORIES
    assert reproduce_command(recorded) == f'newsapi train -p dataset "{data}"'
    # the 20 newsgroups keep their categories
    assert TrainingParameters.build({"dataset": NEWSGROUPS}).categories == list(DEFAULT_CATEGORIES)


def test_model_reports_the_categories_a_csv_model_was_trained_on(
    tmp_path: Path, start_server: Callable[..., Server]
) -> None:
    data = write_csv(tmp_path / "own.csv", topic_sentences())
    params = TrainingParameters.build({"dataset": str(data)})
    corpus = corpus_for(params)
    pipeline, metrics = fit(params, corpus)
    # a model stored before this was fixed: its manifest records the default categories
    recorded = {**params.model_dump(), "categories": list(DEFAULT_CATEGORIES)}
    for name, parameters in (("new", params.model_dump()), ("old", recorded)):
        path = tmp_path / name / MODEL_FILENAME
        save_artifact(
            pipeline, corpus.target_names, path,
            parameters=parameters, metrics=metrics, dataset=corpus.description,
        )  # fmt: skip
        server = start_server(path)
        info = httpx.get(f"{server.url}/model", timeout=10).json()
        server.stop()
        assert info["categories"] == OWN_CATEGORIES
        assert info["parameters"]["categories"] is None, name
        assert info["parameters"]["dataset"] == "own.csv"
        assert info["dataset"]["categories"] == OWN_CATEGORIES
