"""What the classifier service hands around: texts waiting for a batch, what the model thread
computed, and the answers the request layer gets."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from newsapi.errors import NewsapiError

if TYPE_CHECKING:
    from newsapi.model.artifact import Artifact
    from newsapi.serving.predictor import Figures, Predictor

#: the model that computed an answer: its artifact and predictor, taken together (one tuple
#: per installed model, so carrying it costs a reference)
Served = tuple["Artifact", "Predictor"]


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
    #: the prediction log's figures of the text, when the log is on and the lean path
    #: computed it (:meth:`~newsapi.serving.predictor.Predictor.categories_figured`)
    figures: Figures | None = None


def text_length(item: tuple[bytes, str]) -> int:
    return len(item[1])


@dataclass(frozen=True, slots=True)
class Prediction:
    category: str
    cached: bool
    model_version: str
    key: bytes  #: the text's cache key under ``model_version``
    served: Served  #: the model that answered (for the prediction log)
    figures: Figures | None = None  #: as :attr:`Computed.figures` (None: a cache hit)


@dataclass(frozen=True, slots=True)
class Predictions:
    model_version: str
    categories: list[str]
    cached: bool  # every one of them
    keys: list[bytes]  #: the texts' cache keys under ``model_version``
    served: Served
    #: each text's :attr:`Computed.figures`; None when the log is off
    figures: list[Figures | None] | None = None


@dataclass(frozen=True, slots=True)
class Scored:
    """Texts' categories and probabilities, computed fresh by the model ``served``."""

    model_version: str
    answers: list[tuple[str, dict[str, float]]]
    served: Served
