"""Fixtures of the scoring tests: a model store with a promoted tiny model, a second stored
model, and one without probabilities (trained once for the package); a folder holding a
model that scores "a slow one" slowly, for the tests that stop or kill a run mid-piece."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsapi.settings import MODEL_FILENAME
from newsapi.store.catalog import ModelStore
from tests.scoring.helpers import Store, add
from tests.support import train_slow


@pytest.fixture(scope="package")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    root = tmp_path_factory.mktemp("artifacts")
    models = ModelStore(root)
    promoted = add(models, alpha=1.0)
    other = add(models, alpha=0.1)
    no_scores = add(models, classifier="linear_svc")
    models.promote(promoted)
    return Store(root, promoted, other, no_scores)


@pytest.fixture(scope="module")
def slow_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("slow-artifacts")
    train_slow(root / MODEL_FILENAME)
    return root
