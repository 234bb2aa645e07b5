"""A training run, end to end: parameters -> corpus -> fitted model -> a store entry."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from newsapi.model.data import (
    NEWSGROUPS,
    REMOVABLE_PARTS,
    Corpus,
    load_corpus,
    load_newsgroups,
    with_extra_train,
)
from newsapi.model.params import TrainingParameters
from newsapi.store.catalog import ModelStore, StoredModel
from newsapi.training.card import PLOT, write_card
from newsapi.training.pipeline import artefact_terms, fit, top_terms


def corpus_for(
    params: TrainingParameters, data_home: str | os.PathLike[str] | None = None
) -> Corpus:
    """The corpus and split that ``params`` describe (with ``extra_train``'s rows added to
    the training split)."""
    corpus = load_corpus(
        params.dataset,
        categories=params.categories,
        remove=params.remove,
        data_home=data_home,
        test_size=params.test_size,
        random_state=params.random_state,
    )
    if params.extra_train is not None:
        corpus = with_extra_train(corpus, params.extra_train)
    return corpus


def header_artefacts(
    pipeline: Any,
    corpus: Corpus,
    params: TrainingParameters,
    data_home: str | os.PathLike[str] | None = None,
    n: int = 10,
) -> dict[str, list[str]] | None:
    """Top terms that come from headers, signatures or quotes (20 newsgroups with some of them
    kept), measured against the same posts stripped by scikit-learn; None when not applicable
    (another corpus, whatever ``params`` say, or every removable part already removed)."""
    from_newsgroups = corpus.description.get("source") == NEWSGROUPS
    if not from_newsgroups or set(params.remove) >= set(REMOVABLE_PARTS):
        return None
    stripped = load_newsgroups(params.categories, REMOVABLE_PARTS, data_home, params.random_state)
    terms = top_terms(pipeline, corpus.target_names, n)
    return artefact_terms(terms, corpus.train_texts, stripped.train_texts)


def store_run(
    store: ModelStore,
    pipeline: Any,
    corpus: Corpus,
    params: TrainingParameters,
    metrics: dict[str, Any],
    *,
    extra: Mapping[str, Any] | None = None,
    data_home: str | os.PathLike[str] | None = None,
) -> StoredModel:
    """File a fitted pipeline in ``store`` with its manifest, confusion matrix and model card."""
    from newsapi.training.plots import confusion_matrix_png

    def attach(folder: Path, manifest: dict[str, Any]) -> dict[str, bytes]:
        png = confusion_matrix_png(
            metrics["confusion_matrix"], corpus.target_names, f"model {manifest['model_version']}"
        )
        return {PLOT: png, **write_card(folder, manifest, with_plot=True)}

    return store.add(
        pipeline,
        corpus.target_names,
        parameters=params.model_dump(),
        metrics=metrics,
        dataset={**corpus.description, "counts": corpus.counts()},
        extra={
            "top_terms": top_terms(pipeline, corpus.target_names, 10),
            "artefact_terms": header_artefacts(pipeline, corpus, params, data_home),
            **(extra or {}),
        },
        attach=attach,
    )


def train_and_store(
    store: ModelStore,
    params: TrainingParameters,
    corpus: Corpus,
    *,
    extra: Mapping[str, Any] | None = None,
    data_home: str | os.PathLike[str] | None = None,
) -> StoredModel:
    """Fit ``params`` on ``corpus``'s training split, evaluate on its test split, and store it:
    the one code path of ``01_train.ipynb`` and of a sweep's refit of its best candidate."""
    pipeline, metrics = fit(params, corpus)
    return store_run(store, pipeline, corpus, params, metrics, extra=extra, data_home=data_home)
