"""Shared fixtures: the tiny model and private copies of it, the real model built from the 20
newsgroups corpus, apps built through their real lifespan, and real servers. The helpers they
use live in :mod:`tests.support`."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from newsapi.http.app import create_app
from newsapi.model.artifact import Artifact, save_artifact
from newsapi.model.data import Corpus, load_corpus
from newsapi.model.params import DEFAULTS
from newsapi.settings import MODEL_FILENAME, Settings
from newsapi.training.pipeline import fit
from tests.support import ROOT, Server, launch, train_tiny, wait_ready


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Artifact:
    """A small multinomial naive Bayes artifact, trained once per session."""
    return train_tiny(tmp_path_factory.mktemp("tiny") / MODEL_FILENAME)


@pytest.fixture
def model_copy(tiny_model: Artifact, tmp_path: Path) -> Path:
    """A private copy of the tiny artifact (model and manifest) that a test may damage."""
    target = tmp_path / "model" / MODEL_FILENAME
    target.parent.mkdir()
    target.write_bytes(tiny_model.path.read_bytes())
    target.with_suffix(".json").write_bytes(tiny_model.path.with_suffix(".json").read_bytes())
    return target


@pytest.fixture
def settings_for(tmp_path: Path) -> Callable[..., Settings]:
    """Settings for a model path, with a private cache folder and any overrides."""

    def make(model_path: Path, **overrides: Any) -> Settings:
        values: dict[str, Any] = {"model_path": model_path, "cache_dir": tmp_path / "cache"}
        values.update(overrides)
        return Settings.of(**values)

    return make


@pytest.fixture
def client_for(settings_for: Callable[..., Settings]) -> Iterator[Callable[..., TestClient]]:
    """Start an app (through its real lifespan) on a model; closed at the end of the test."""
    opened: list[TestClient] = []

    def make(model_path: Path, **overrides: Any) -> TestClient:
        client = TestClient(create_app(settings_for(model_path, **overrides)))
        client.__enter__()
        opened.append(client)
        return client

    yield make
    for client in reversed(opened):
        client.__exit__(None, None, None)


@pytest.fixture
def client(client_for: Callable[..., TestClient], tiny_model: Artifact) -> TestClient:
    return client_for(tiny_model.path)


# -- the real model -----------------------------------------------------------------------------
@pytest.fixture(scope="session")
def newsgroups() -> Corpus:
    """The four-category 20 newsgroups corpus of the book (needs NEWSAPI_DATA_HOME or
    SCIKIT_LEARN_DATA pointing at scikit-learn's cache, or internet)."""
    return load_corpus()


@pytest.fixture(scope="session")
def real_model(newsgroups: Corpus, tmp_path_factory: pytest.TempPathFactory) -> Artifact:
    """The book's model, trained by the package exactly as the training notebook does."""
    pipeline, metrics = fit(DEFAULTS, newsgroups)
    return save_artifact(
        pipeline,
        newsgroups.target_names,
        tmp_path_factory.mktemp("real") / MODEL_FILENAME,
        parameters=DEFAULTS.model_dump(),
        metrics=metrics,
        dataset=newsgroups.description,
    )


# -- real servers -------------------------------------------------------------------------------
@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    """Start real uvicorn servers (ready when returned); all stopped at the end of the test."""
    started: list[Server] = []

    def start(model_path: Path, workers: int = 1, **env: str) -> Server:
        values = {
            "NEWSAPI_MODEL_PATH": str(model_path),
            "NEWSAPI_CACHE_DIR": str(tmp_path / "cache"),
            **env,
        }
        server = launch(tmp_path, values, workers, extra_path=str(ROOT))
        started.append(server)
        wait_ready(server)
        return server

    yield start
    for server in started:
        server.stop()
