"""What the classifier service hands around: texts waiting for a batch, what the model thread
computed, and the answers the request layer gets."""

from __future__ import annotations

from dataclasses import dataclass

from newsapi.errors import NewsapiError


class ModelNotReadyError(NewsapiError):
    """A prediction was asked for before the model was loaded."""


@dataclass(frozen=True, slots=True)
class Pending:
    """A text waiting for the next micro-batch, with its cache key under ``version``."""

    version: str
    key: bytes
    text: str


@dataclass(frozen=True, slots=True)
class Computed:
    """A category computed in the model thread; ``stored``: it came from the disk tier."""

    category: str
    stored: bool


def text_length(item: tuple[bytes, str]) -> int:
    return len(item[1])


@dataclass(frozen=True, slots=True)
class Prediction:
    category: str
    cached: bool
    model_version: str


@dataclass(frozen=True, slots=True)
class Predictions:
    model_version: str
    categories: list[str]
    cached: bool  # every one of them
