"""``POST /feedback``: the correct label of a prediction, kept to become training data.

A client names the prediction by the ``X-Request-Id`` its answer carried
(``{"request_id": ..., "label": ...}``), or sends the text itself (``{"text": ..., "label":
...}``). Feedback lives beside the prediction log (:mod:`newsapi.serving.predlog.feedback`),
so the route needs ``NEWSAPI_PREDICTION_LOG_DIR`` (409 without it). It is an admin route:
labels become the next model's training data, so whoever may write them steers that model;
with ``NEWSAPI_ADMIN_TOKEN`` set it takes the bearer token, as reloading a model does.
"""

# no `from __future__ import annotations`: FastAPI reads the annotations of the route, whose
# body model is built inside build()

import asyncio
import time
from datetime import UTC, datetime
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, HTTPException, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator
from pydantic.json_schema import SkipJsonSchema

from newsapi.http.bodies import JsonBodyRoute
from newsapi.http.book.errors import ADMIN_ERRORS, error_body
from newsapi.http.book.schemas import MessageBody, ValidationErrorBody
from newsapi.http.deps import require_admin
from newsapi.http.openapi import body_errors, error_response
from newsapi.http.pipeline import loaded
from newsapi.http.request_id import MAX_CHARS
from newsapi.serving.metrics import Metrics
from newsapi.serving.predlog import PredictionLog
from newsapi.serving.predlog.feedback import Feedback, FeedbackLog
from newsapi.serving.predlog.recent import Logged, find_logged
from newsapi.serving.predlog.writer import IDLE_POLL, POLL
from newsapi.settings import Settings

#: how long an id not found yet may still be in the log writer's queue (it looks at its queue
#: at least every IDLE_POLL seconds)
QUEUED_WAIT = 2 * IDLE_POLL + 0.5
NO_LOG = (
    "feedback needs the prediction log: set NEWSAPI_PREDICTION_LOG_DIR (and "
    "NEWSAPI_PREDICTION_LOG_TEXT=true to train on the texts of the requests labelled)"
)


class FeedbackOutput(BaseModel):
    """The feedback as recorded: the label, and the answer it labels when known."""

    label: str
    request_id: str | None = Field(description="the request labelled (null: sent with its text)")
    model_version: str | None = Field(description="the model whose answer is labelled")
    category: str | None = Field(description="that model's answer")


def feedback_model(max_text_length: int) -> type[Any]:
    """The request body, exactly one of ``request_id`` and ``text`` beside ``label``."""
    RequestId = Annotated[str, StringConstraints(min_length=1, max_length=MAX_CHARS)]
    Text = Annotated[str, StringConstraints(min_length=1, max_length=max_text_length)]
    Label = Annotated[str, StringConstraints(min_length=1, max_length=200)]

    class FeedbackInput(BaseModel):
        """The correct label of a logged request, or of a text."""

        model_config = ConfigDict(
            extra="forbid",
            json_schema_extra={
                "oneOf": [{"required": ["request_id"]}, {"required": ["text"]}],
                "examples": [
                    {"request_id": "5f2c9a1e0b7d4c3a", "label": "sci.crypt"},
                    {"text": "the key escrow chip", "label": "sci.crypt"},
                ],
            },
        )
        request_id: RequestId | SkipJsonSchema[None] = Field(
            None, description="the X-Request-Id of the answer labelled"
        )
        text: Text | SkipJsonSchema[None] = Field(
            None, description=f"a text (1 to {max_text_length} characters), kept for training"
        )
        label: Label = Field(description="the correct category: one of the served model's")

        @model_validator(mode="before")
        @classmethod
        def _exactly_one(cls, data: Any) -> Any:
            if isinstance(data, dict):
                given = [name for name in ("request_id", "text") if name in data]
                if len(given) != 1:
                    raise ValueError("send exactly one of request_id and text, with label")
                if data[given[0]] is None:
                    raise ValueError(f"{given[0]} must be a string")
            return data

    return FeedbackInput


def build(settings: Settings) -> APIRouter:
    """The feedback route."""
    body_model = feedback_model(settings.limits.max_text_length)
    router = APIRouter(route_class=JsonBodyRoute, strict_content_type=False)
    limits = settings.limits
    documented: dict[int | str, dict[str, Any]] = {
        **body_errors(limits, error_body, MessageBody),
        **ADMIN_ERRORS,
        404: error_response("no record of that request id in the prediction log", MessageBody,
                            {"unknown id": {"detail": "request 'abc' is not in the prediction "
                                            "log: ..."}}),
        409: error_response("the prediction log is off", MessageBody,
                            {"no log": {"detail": NO_LOG}}),
        422: error_response("body not valid JSON or not the schema, a label that is not one "
                            "of the served model's categories, or a request that logged "
                            "several texts", ValidationErrorBody | MessageBody,
                            {"unknown label": {"detail": "unknown label 'sci.med': the served "
                                               "model's categories are ..."}}),
        503: error_response("model not loaded, or the feedback queue is full", MessageBody,
                            {"starting": {"detail": "the model is not loaded"}}),
    }  # fmt: skip

    @router.post(
        "/feedback",
        tags=["operations"],
        summary="Record the correct label of a prediction",
        status_code=status.HTTP_201_CREATED,
        response_model=FeedbackOutput,
        dependencies=[Depends(require_admin)],
        responses=documented,
    )
    async def feedback(body: body_model, request: Request) -> Response:  # type: ignore[valid-type]
        """`{"request_id": "...", "label": "..."}` (the `X-Request-Id` of a logged answer) or
        `{"text": "...", "label": "..."}`: the correct label, written beside the prediction
        log for `newsapi feedback export`. Needs `NEWSAPI_PREDICTION_LOG_DIR` (409) and the
        admin token when one is configured: labels become training data."""
        log: FeedbackLog | None = request.app.state.feedback
        if log is None:
            raise HTTPException(status.HTTP_409_CONFLICT, NO_LOG)
        classifier = loaded(request.app.state.classifier)
        label: str = body.label  # type: ignore[attr-defined]
        names = classifier.current().target_names
        if label not in names:
            raise HTTPException(
                422,
                f"unknown label {label!r}: the served model's categories are {', '.join(names)}",
            )
        request_id: str | None = body.request_id  # type: ignore[attr-defined]
        now = datetime.now(UTC)
        if request_id is not None:
            assert classifier.prediction_log is not None  # on whenever feedback is
            logged = await find(classifier.prediction_log, request_id)
            if logged is None:
                raise HTTPException(
                    status.HTTP_404_NOT_FOUND,
                    f"request {request_id!r} is not in the prediction log: never answered "
                    "here, not drawn by NEWSAPI_PREDICTION_LOG_SAMPLE, or its file removed "
                    "as the log's oldest; send the text instead",
                )
            if logged.texts > 1:
                raise HTTPException(
                    422,
                    f"request {request_id!r} logged {logged.texts} different texts (a "
                    "/predictions call, or an id sent twice); a label names one: send its "
                    "text instead",
                )
            record = Feedback(now, request_id, logged.digest, None, label,
                              logged.model_version, logged.category)  # fmt: skip
        else:
            text: str = body.text  # type: ignore[attr-defined]
            # the answer the served model gives the text (the cache's, when it was asked)
            found = await classifier.predict(text)
            record = Feedback(now, None, found.key, text, label, found.model_version,
                              found.category)  # fmt: skip
        if not log.submit(record):
            raise HTTPException(
                status.HTTP_503_SERVICE_UNAVAILABLE, "the feedback queue is full; try again"
            )
        answer = FeedbackOutput(
            label=label,
            request_id=request_id,
            model_version=record.model_version,
            category=record.category,
        )
        return Response(
            orjson.dumps(answer.model_dump()), status.HTTP_201_CREATED,
            media_type="application/json",
        )  # fmt: skip

    return router


async def find(log: PredictionLog, request_id: str) -> Logged | None:
    """``request_id``'s records: in those the writer holds, waiting while records wait to be
    taken by it (a feedback sent right after its answer may name one), else in the files."""
    deadline = time.monotonic() + QUEUED_WAIT
    empty = 0
    while True:
        found = log.recent.get(request_id)
        if found is not None:
            return found
        # twice nothing waiting, a poll apart: the writer has taken what was handed over (and
        # measured it, in the milliseconds after; the held records are searched once more)
        empty = empty + 1 if log.queued_bytes == 0 else 0
        if empty >= 2 or time.monotonic() > deadline:
            break
        await asyncio.sleep(POLL + 0.01)
    # then the files; and the held records once more: one the writer took meanwhile is
    # either held now or in a file already (it writes the file, then forgets the ids)
    found = await asyncio.to_thread(find_logged, log.folder, request_id)
    return found or log.recent.get(request_id)


def start(settings: Settings, metrics: Metrics) -> FeedbackLog | None:
    """The worker's feedback writer, started; None with the prediction log off."""
    if settings.prediction_log.prediction_log_dir is None:
        return None
    log = FeedbackLog(settings.prediction_log, metrics)
    log.start()
    return log


async def stop(log: FeedbackLog | None) -> None:
    """Write what the feedback writer holds, then stop it."""
    if log is not None:
        await asyncio.to_thread(log.stop)
