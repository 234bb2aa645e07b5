"""The book's errors: the body they take (FastAPI's ``{"detail": ...}``), and the errors each
of its routes documents in the OpenAPI schema, with the configured limits.
"""

from typing import Any

import orjson

from newsapi.http.book.schemas import MessageBody, ValidationErrorBody
from newsapi.http.openapi import body_errors, error_response
from newsapi.http.pipeline import ApiError
from newsapi.serving.explain import MAX_TOP
from newsapi.settings import LimitSettings


def error_body(error: ApiError) -> tuple[int, bytes]:
    """The book's errors: FastAPI's ``{"detail": ...}`` (a message, or 422's error list)."""
    return error.status, orjson.dumps({"detail": error.detail})


def prediction_errors(limits: LimitSettings) -> dict[int | str, dict[str, Any]]:
    """The documented errors of a prediction call, with the configured limits."""
    no_scores = "the served classifier (LinearSVC) gives no probabilities; ask without ?scores=true"
    return {
        **body_errors(limits, error_body, MessageBody),
        422: error_response(
            "body not valid JSON or not the schema, a bad ?scores flag, or ?scores=true on a "
            "classifier without probabilities",
            ValidationErrorBody | MessageBody,
            {
                "empty text": {"detail": [{"type": "string_too_short", "loc": ["body", "text"],
                                           "msg": "String should have at least 1 character"}]},
                "invalid JSON": {"detail": [{"type": "json_invalid", "loc": ["body"],
                                             "msg": "Invalid JSON: EOF while parsing a string"}]},
                "no probabilities": {"detail": no_scores},
            },
        ),
        503: error_response("model not loaded", MessageBody,
                            {"starting": {"detail": "the model is not loaded"}}),
    }  # fmt: skip


def explanation_errors(limits: LimitSettings) -> dict[int | str, dict[str, Any]]:
    """The documented errors of an explanation call."""
    calibrated = (
        "the served classifier is calibrated (CalibratedClassifierCV): ...; serve a "
        "model trained without calibrate to explain it"
    )
    return {
        **prediction_errors(limits),
        422: error_response(
            "body not valid JSON or not the schema, or a served classifier that cannot be "
            "explained exactly",
            ValidationErrorBody | MessageBody,
            {
                "top out of range": {"detail": [{"type": "less_than_equal", "loc": ["body", "top"],
                                                 "msg": f"Input should be less than or equal to "
                                                 f"{MAX_TOP}"}]},
                "not explainable": {"detail": calibrated},
            },
        ),
    }  # fmt: skip


ADMIN_ERRORS: dict[int | str, dict[str, Any]] = {
    401: error_response("a token is configured and none was sent", MessageBody,
                        {"no token": {"detail": "this route needs an 'Authorization: Bearer "
                                      "<token>' header"}}),
    403: error_response("wrong token; or, with no token configured, a request that a "
                        "cross-site form could send (no JSON content type, no X-Requested-With "
                        "header)", MessageBody,
                        {"wrong token": {"detail": "the bearer token is not valid"}}),
}  # fmt: skip
