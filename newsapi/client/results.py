"""What the client's methods return, and the one error they raise for the server's refusals."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class ApiError(Exception):
    """The server refused a call or failed: its HTTP status and its message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message


@dataclass(frozen=True, slots=True)
class Prediction:
    category: str
    model_version: str
    cached: bool  #: answered from the server's cache (for a batch: every text of its call)


@dataclass(frozen=True, slots=True)
class Scores:
    category: str
    scores: dict[str, float]  #: each category's probability
    model_version: str


@dataclass(frozen=True, slots=True)
class Term:
    term: str
    weight: float  #: its part of the score difference (positive: for the category)
    value: float  #: its TF-IDF value in the text
    spans: list[tuple[int, int]]  #: [start, end) of each occurrence, in code points


@dataclass(frozen=True, slots=True)
class Explanation:
    """Why a text got its category: ``bias + sum(t.weight for t in terms) + rest ==
    difference``."""

    category: str
    runner_up: str
    score: str
    difference: float
    bias: float
    terms: list[Term]
    rest: float
    rest_terms: int
    model_version: str


@dataclass(frozen=True, slots=True)
class ModelInfo:
    model_version: str
    categories: list[str]
    created_at: str | None
    metrics: dict[str, Any]
    parameters: dict[str, Any]
    raw: dict[str, Any] = field(repr=False)  #: everything ``GET /model`` answered


@dataclass(frozen=True, slots=True)
class Reload:
    previous_version: str
    model_version: str
    changed: bool
