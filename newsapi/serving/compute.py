"""What the model thread runs: loading a model (blocking reads and a first ``predict``), and
classifying a batch of texts against the disk tier and the predictor."""

from __future__ import annotations

from newsapi.model.artifact import FIX, Artifact, ArtifactError, load_artifact
from newsapi.serving.cache import DiskTier
from newsapi.serving.metrics import Metrics
from newsapi.serving.predictor import Figures, Predictor, prepare
from newsapi.serving.results import Computed
from newsapi.settings import Settings
from newsapi.store.served import load_served


def load_model(
    settings: Settings, *, from_store: bool = False
) -> tuple[Artifact, Predictor, str | None]:
    """Read, verify and warm up the configured artifact; raises ArtifactError. Returns it
    with its predictor (the lean path when it compiles, :mod:`.predictor`) and, with
    ``from_store``, why the served model is not the promoted pair (else None).

    The first ``predict`` builds lazy state, and it proves that the pipeline can predict
    at all: a model that cannot is refused like a tampered one, before it serves. With
    ``from_store`` (at start), a promoted pair beside a model store is repaired after a
    crash, or replaced by the store's last good promoted model when unusable
    (:func:`newsapi.store.served.load_served`); a reload refuses a bad file instead.
    """
    path, mismatch = settings.model.model_path, settings.model.allow_version_mismatch
    fallback = None
    if from_store:
        artifact, fallback = load_served(path, allow_version_mismatch=mismatch)
    else:
        artifact = load_artifact(path, allow_version_mismatch=mismatch)
    try:
        predictor = prepare(artifact.pipeline)
    except Exception as exc:
        raise ArtifactError(
            f"model file {artifact.path} loads but cannot predict ({exc!r}); {FIX}"
        ) from exc
    return artifact, predictor, fallback


def classify_items(
    disk: DiskTier | None,
    metrics: Metrics,
    artifact: Artifact,
    predictor: Predictor,
    items: list[tuple[bytes, str]],
    *,
    measure: bool = False,
) -> list[Computed]:
    """The category of each ``(key, text)``: from the disk tier when one is given, else
    predicted (counted by the path that computed it); with ``measure`` (the prediction log
    is on), a predicted text carries its figures for the log when the lean path computed it."""
    stored: list[str | None] = [None] * len(items)
    if disk is not None:
        stored = disk.get_many([key for key, _ in items])
        hits = sum(value is not None for value in stored)
        metrics.disk_hit.inc(hits)
        metrics.disk_miss.inc(len(items) - hits)
    todo = [text for (_, text), value in zip(items, stored, strict=True) if value is None]
    if not todo:
        return [Computed(value, True) for value in stored]  # type: ignore[arg-type]
    metrics.predictions.labels("model").inc(len(todo))
    metrics.inferred[predictor.inference].inc(len(todo))
    figured: list[Figures] | None = None
    if measure:
        predicted, figured = predictor.categories_figured(artifact.target_names, todo)
    else:
        predicted = predictor.categories(artifact.target_names, todo)
    if figured is None:
        fresh = iter(predicted)
        return [Computed(next(fresh), False) if v is None else Computed(v, True) for v in stored]
    pairs = zip(predicted, figured, strict=True)
    answers = []
    for value in stored:
        if value is None:
            category, figures = next(pairs)
            answers.append(Computed(category, False, figures))
        else:
            answers.append(Computed(value, True))
    return answers
