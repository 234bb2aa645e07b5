"""Sentences of our own: written for the notebooks, not taken from the corpus, so they can be
shown anywhere (the notebooks, the model card) without printing a post.

``02_evaluate.ipynb`` classifies them; ``01_train.ipynb`` records their explanations in the
manifest (:func:`explained_sentences`), from which the model card shows them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from newsapi.errors import NewsapiError

SENTENCES = (
    "computer cpu memory ram",
    "my powerbook will not boot after I added a second scsi drive",
    "the government should not hold a copy of every encryption key",
    "public key cryptography and the clipper chip",
    "we prayed together and read from the gospel of john on sunday",
    "is there any historical evidence outside the bible for these events",
)
#: how many terms of each sentence the card lists (the rest are summed in the explanation)
CARD_TOP = 5

Explain = Callable[[list[str]], Sequence[Any]]


def explained_sentences(explain: Explain, texts: Sequence[str] = SENTENCES) -> dict[str, Any]:
    """What the manifest records for the card: ``{"sentences": [...]}``, each text with its
    explanation's fields (``explain(texts)`` returns objects with ``as_dict()``, such as
    ``newsapi.serving.explain``'s), or ``{"unexplained": reason}`` when the model cannot be
    explained exactly (a calibrated classifier)."""
    try:
        explanations = explain(list(texts))
    except NewsapiError as exc:
        return {"unexplained": str(exc)}
    return {
        "sentences": [
            {"text": text, **explanation.as_dict()}
            for text, explanation in zip(texts, explanations, strict=True)
        ]
    }
