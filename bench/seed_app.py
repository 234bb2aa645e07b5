"""The seed-style baseline: the model served the way the book first shows it.

The pipeline and its target names are loaded in the lifespan into a class used as a
dependency; the path function is a plain ``def``, so FastAPI runs it (and the dependency) in
its thread pool; every request calls ``model.predict([text])`` through a ``joblib.Memory``
disk cache keyed by the text alone. Run by the harness as ``uvicorn bench.seed_app:app``.

Configuration, read at import (the harness sets both, with a fresh cache folder per start):

* ``BENCH_SEED_MODEL_PATH``: the joblib file holding ``(pipeline, target_names)``;
* ``BENCH_SEED_CACHE_DIR``: the ``joblib.Memory`` location.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator
from typing import Annotated, Any

import joblib
from fastapi import Depends, FastAPI
from pydantic import BaseModel

MODEL_PATH = os.environ.get("BENCH_SEED_MODEL_PATH", "artifacts/newsgroups_model.joblib")
CACHE_DIR = os.environ.get("BENCH_SEED_CACHE_DIR", ".cache/bench-seed")

memory = joblib.Memory(location=CACHE_DIR, verbose=0)


# joblib has no type hints, hence the ignore
@memory.cache(ignore=["model"])  # type: ignore[untyped-decorator]
def predicted_index(model: Any, text: str) -> int:
    """The index of ``text``'s category; cached on disk by text (the model is not hashed)."""
    return int(model.predict([text])[0])


class PredictionInput(BaseModel):
    """The request body: one text."""

    text: str


class PredictionOutput(BaseModel):
    """The answer: one category."""

    category: str


class NewsgroupsClassifier:
    """Holds the model once the lifespan has loaded it; its ``predict`` is the dependency."""

    def __init__(self) -> None:
        self.model: Any = None
        self.targets: list[str] = []

    def load(self, path: str) -> None:
        """Load the ``(pipeline, target_names)`` tuple written by the training notebook."""
        model, targets = joblib.load(path)
        self.model = model
        self.targets = list(targets)

    def predict(self, body: PredictionInput) -> PredictionOutput:
        """Classify the request's text (sync: FastAPI runs it in the thread pool)."""
        if self.model is None:
            raise RuntimeError("the model is not loaded")
        index = predicted_index(self.model, body.text)
        return PredictionOutput(category=self.targets[index])


classifier = NewsgroupsClassifier()


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Load the model before the server accepts requests."""
    classifier.load(MODEL_PATH)
    yield


app = FastAPI(title="bench seed-style baseline", lifespan=lifespan)


@app.post("/prediction")
def prediction(
    output: Annotated[PredictionOutput, Depends(classifier.predict)],
) -> PredictionOutput:
    """The dependency did the work; a sync path function, like the book's."""
    return output
