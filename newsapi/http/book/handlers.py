"""The book's protocol: ``{"text"}`` / ``{"texts"}`` in, categories (and scores) out.

The FastAPI routes and the fast lane both answer through these functions.
"""

from __future__ import annotations

from newsapi.http.pipeline import Answer, ApiError
from newsapi.serving.explain import ExplanationError
from newsapi.serving.predictor import NoScoresError
from newsapi.serving.service import Classifier


async def classify_one(classifier: Classifier, text: str, scores: bool = False) -> Answer:
    """``{"category": ...}`` (``"scores"`` too if asked): the memory tier, else the next
    micro-batch; scores are computed fresh."""
    if scores:
        version, [(category, probabilities)] = await scored(classifier, [text])
        return Answer({"category": category, "scores": probabilities}, version, False)
    found = await classifier.predict(text)
    return Answer({"category": found.category}, found.model_version, found.cached)


async def classify_many(classifier: Classifier, texts: list[str], scores: bool = False) -> Answer:
    """``{"categories": [...]}`` in order, one model call for every text not cached;
    cached only if all were."""
    if scores:
        version, answers = await scored(classifier, texts)
        body = {"categories": [c for c, _ in answers], "scores": [s for _, s in answers]}
        return Answer(body, version, False)
    found = await classifier.predict_many(texts)
    return Answer({"categories": found.categories}, found.model_version, found.cached)


async def scored(
    classifier: Classifier, texts: list[str]
) -> tuple[str, list[tuple[str, dict[str, float]]]]:
    """Each text's category and probabilities; 422 for a classifier without them."""
    try:
        return await classifier.scores(texts)
    except NoScoresError as exc:
        raise ApiError(422, f"{exc}; ask without ?scores=true") from None


async def explain_one(classifier: Classifier, text: str, top: int) -> Answer:
    """Why ``text`` got its category: the explanation's fields and the model version,
    computed fresh; 422 for a served pipeline that cannot be explained exactly."""
    try:
        version, [explanation] = await classifier.explain([text], top)
    except ExplanationError as exc:
        raise ApiError(422, str(exc)) from None
    return Answer({**explanation.as_dict(), "model_version": version}, version, False)
