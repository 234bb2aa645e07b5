"""The book's protocol: ``{"text"}`` / ``{"texts"}`` in, categories (and scores) out.

The FastAPI routes and the fast lane both answer through these functions; each answered text
goes to the prediction log when it is on (``request_id``: the request's ``X-Request-Id``).
"""

from __future__ import annotations

from newsapi.http.pipeline import Answer, ApiError, log_answers
from newsapi.serving.explain import ExplanationError
from newsapi.serving.predictor import NoScoresError
from newsapi.serving.results import Scored
from newsapi.serving.service import Classifier

#: the ``endpoint`` column of the prediction log
ONE, MANY = "prediction", "predictions"


async def classify_one(
    classifier: Classifier, text: str, scores: bool = False, request_id: str = ""
) -> Answer:
    """``{"category": ...}`` (``"scores"`` too if asked): the memory tier, else the next
    micro-batch; scores are computed fresh."""
    if scores:
        got = await scored(classifier, [text], request_id, ONE)
        [(category, probabilities)] = got.answers
        return Answer({"category": category, "scores": probabilities}, got.model_version, False)
    found = await classifier.predict(text)
    log = classifier.prediction_log
    if log is not None:
        artifact, predictor = found.served
        log.submit_one(ONE, request_id, found.model_version, predictor, artifact.target_names,
                       text, found.category, found.key, found.figures)  # fmt: skip
    return Answer({"category": found.category}, found.model_version, found.cached)


async def classify_many(
    classifier: Classifier, texts: list[str], scores: bool = False, request_id: str = ""
) -> Answer:
    """``{"categories": [...]}`` in order, one model call for every text not cached;
    cached only if all were."""
    if scores:
        got = await scored(classifier, texts, request_id, MANY)
        answers = got.answers
        body = {"categories": [c for c, _ in answers], "scores": [s for _, s in answers]}
        return Answer(body, got.model_version, False)
    found = await classifier.predict_many(texts)
    log = classifier.prediction_log
    if log is not None:
        log_answers(log, MANY, request_id, texts, found.categories, found.keys, found.served,
                    found.figures)  # fmt: skip
    return Answer({"categories": found.categories}, found.model_version, found.cached)


async def scored(
    classifier: Classifier, texts: list[str], request_id: str, endpoint: str
) -> Scored:
    """Each text's category and probabilities (logged); 422 for a classifier without them."""
    try:
        got = await classifier.scores(texts)
    except NoScoresError as exc:
        raise ApiError(422, f"{exc}; ask without ?scores=true") from None
    log = classifier.prediction_log
    if log is not None:
        categories = [category for category, _ in got.answers]
        log_answers(log, endpoint, request_id, texts, categories, None, got.served)
    return got


async def explain_one(classifier: Classifier, text: str, top: int) -> Answer:
    """Why ``text`` got its category: the explanation's fields and the model version,
    computed fresh; 422 for a served pipeline that cannot be explained exactly."""
    try:
        version, [explanation] = await classifier.explain([text], top)
    except ExplanationError as exc:
        raise ApiError(422, str(exc)) from None
    return Answer({**explanation.as_dict(), "model_version": version}, version, False)
