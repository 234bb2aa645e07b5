"""What the OpenAPI document says in both protocols, written once: the answer's headers, the
example sentence, and the documented errors of a JSON body, built from the settings in force
and from the very messages the request pipeline sends."""

from __future__ import annotations

from typing import Any

import orjson

from newsapi.http.pipeline import ApiError, body_timed_out, check_content_type, too_large
from newsapi.http.protocol import ErrorBody
from newsapi.settings import LimitSettings

#: the book's example, and its answer with the default model
BOOK_SENTENCE = "computer cpu memory ram"
BOOK_ANSWER = "comp.sys.mac.hardware"

ANSWER_HEADERS = {
    "X-Model-Version": {
        "description": "version of the model that answered",
        "schema": {"type": "string"},
    },
    "X-Cache": {
        "description": "hit: every text answered from a cache tier; miss: at least one computed",
        "schema": {"type": "string", "enum": ["hit", "miss"]},
    },
}
#: a prediction's answer (``/prediction``, ``/predictions``, V2 inference): the request id too
PREDICTION_HEADERS = {
    **ANSWER_HEADERS,
    "X-Request-Id": {
        "description": "the request's id, as the prediction log records it: the client's own "
        "X-Request-Id when it sent 1 to 128 visible ASCII characters, else a fresh one "
        "(also on errors)",
        "schema": {"type": "string"},
    },
}


def error_response(description: str, model: Any, examples: dict[str, Any]) -> dict[str, Any]:
    """One documented error status: its body model and named examples."""
    content = {
        "application/json": {
            "examples": {
                name: {"summary": name, "value": value} for name, value in examples.items()
            }
        }
    }
    return {"model": model, "description": description, "content": content}


def example(errors: ErrorBody, error: ApiError) -> Any:
    """The body ``errors`` (a protocol's error shape) writes for ``error``, as JSON data."""
    return orjson.loads(errors(error)[1])


def body_errors(
    limits: LimitSettings, errors: ErrorBody, model: Any
) -> dict[int | str, dict[str, Any]]:
    """408, 413 and 415: what reading any JSON body can end in, with the configured limits."""
    try:
        check_content_type("text/plain")
    except ApiError as error:
        unsupported = error
    return {
        408: error_response(
            "the body did not arrive within NEWSAPI_BODY_TIMEOUT seconds",
            model,
            {"slow client": example(errors, body_timed_out(limits.body_timeout))},
        ),
        413: error_response(
            "body larger than NEWSAPI_MAX_BODY_BYTES",
            model,
            {"too large": example(errors, too_large(limits.max_body_bytes))},
        ),
        415: error_response(
            "body not sent as application/json", model, {"form data": example(errors, unsupported)}
        ),
    }
