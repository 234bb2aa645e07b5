"""A training run, end to end: parameters -> corpus -> fitted model -> a store entry."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from newsapi.artifacts import atomic_write
from newsapi.card import PLOT, write_card
from newsapi.data import Corpus, load_corpus
from newsapi.params import TrainingParameters
from newsapi.store import ModelStore, StoredModel
from newsapi.training import fit, top_terms


def corpus_for(
    params: TrainingParameters, data_home: str | os.PathLike[str] | None = None
) -> Corpus:
    """The corpus and split that ``params`` describe."""
    return load_corpus(
        params.dataset,
        categories=params.categories,
        remove=params.remove,
        data_home=data_home,
        test_size=params.test_size,
        random_state=params.random_state,
    )


def store_run(
    store: ModelStore,
    pipeline: Any,
    corpus: Corpus,
    params: TrainingParameters,
    metrics: dict[str, Any],
    *,
    extra: Mapping[str, Any] | None = None,
) -> StoredModel:
    """File a fitted pipeline in ``store`` with its manifest, confusion matrix and model card."""
    from newsapi.plots import confusion_matrix_png

    def attach(folder: Path, manifest: dict[str, Any]) -> dict[str, bytes]:
        png = confusion_matrix_png(
            metrics["confusion_matrix"], corpus.target_names, f"model {manifest['model_version']}"
        )
        atomic_write(folder / PLOT, png)
        return write_card(folder, manifest)

    return store.add(
        pipeline,
        corpus.target_names,
        parameters=params.model_dump(),
        metrics=metrics,
        dataset={**corpus.description, "counts": corpus.counts()},
        extra={"top_terms": top_terms(pipeline, corpus.target_names, 10), **(extra or {})},
        attach=attach,
    )


def train_and_store(
    store: ModelStore,
    params: TrainingParameters,
    corpus: Corpus,
    *,
    extra: Mapping[str, Any] | None = None,
) -> StoredModel:
    """Fit ``params`` on ``corpus``'s training split, evaluate on its test split, and store it:
    the one code path of ``01_train.ipynb`` and of a sweep's refit of its best candidate."""
    pipeline, metrics = fit(params, corpus)
    return store_run(store, pipeline, corpus, params, metrics, extra=extra)
