"""Fixtures of the scoring tests: a model store with a promoted tiny model, a second stored
model, and one without probabilities (trained once for the package)."""

from __future__ import annotations

import pytest

from newsapi.store.catalog import ModelStore
from tests.scoring.helpers import Store, add


@pytest.fixture(scope="package")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    root = tmp_path_factory.mktemp("artifacts")
    models = ModelStore(root)
    promoted = add(models, alpha=1.0)
    other = add(models, alpha=0.1)
    no_scores = add(models, classifier="linear_svc")
    models.promote(promoted)
    return Store(root, promoted, other, no_scores)
