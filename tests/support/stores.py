"""Model stores filled with small models trained on :func:`tests.support.corpora.tiny_corpus`."""

from __future__ import annotations

from newsapi.model.params import DEFAULTS
from newsapi.store.catalog import ModelStore, StoredModel
from newsapi.training.run import train_and_store
from tests.support.corpora import tiny_corpus

# the default parameters, over every category of the tiny corpus
TINY_PARAMETERS = DEFAULTS.replace(categories=None)


def store_tiny(store: ModelStore, alpha: float) -> StoredModel:
    """Train the default pipeline with ``alpha`` on the tiny corpus and file it in ``store``."""
    return train_and_store(store, TINY_PARAMETERS.replace(alpha=alpha), tiny_corpus())
