"""Tiny models whose categories carry a suffix, so that an answer tells which model gave it
(:func:`tests.support.traffic.answered_by` checks every answer against its X-Model-Version)."""

from __future__ import annotations

from newsapi.model.params import DEFAULTS
from newsapi.store.catalog import ModelStore, StoredModel
from newsapi.training.pipeline import fit
from tests.support.corpora import tiny_corpus


def store_renamed(store: ModelStore, suffix: str, alpha: float) -> StoredModel:
    """A tiny model whose categories carry ``suffix``, filed in ``store``."""
    corpus = tiny_corpus()
    params = DEFAULTS.replace(categories=None, alpha=alpha)
    pipeline, metrics = fit(params, corpus)
    names = [f"{name}{suffix}" for name in corpus.target_names]
    metrics["per_class"] = {f"{k}{suffix}": v for k, v in metrics["per_class"].items()}
    return store.add(
        pipeline, names, parameters=params.model_dump(), metrics=metrics,
        dataset=corpus.description,
    )  # fmt: skip
