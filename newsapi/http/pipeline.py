"""What every protocol shares about a request and its answer, implemented once.

The FastAPI routes (through :class:`newsapi.http.bodies.JsonBodyRoute`) and the pure-ASGI lane
(:mod:`newsapi.http.fastlane`) both call these functions: the content-type rule (415), reading the
body within its size and time limits (413, 408), JSON parsing and validation with its 422
body and the lone-surrogate rule, the model-not-loaded 503, the answer's bytes and headers,
and the rule for unexpected errors (one log line, a body with no trace or path). A protocol
(the book's routes, the Open Inference Protocol) only chooses how an error body looks
(:mod:`newsapi.http.protocol`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import orjson
from prometheus_client import Gauge
from pydantic import TypeAdapter, ValidationError
from starlette.requests import ClientDisconnect
from starlette.types import Receive

from newsapi.serving.predictor import Figures
from newsapi.serving.predlog import PredictionLog
from newsapi.serving.results import Served
from newsapi.serving.service import Classifier

log = logging.getLogger("newsapi")

T = TypeVar("T")
Headers = Sequence[tuple[bytes, bytes]]
JSON_TYPE = b"application/json"
JSON_HEADER = (b"content-type", JSON_TYPE)
CLOSE_HEADER = (b"connection", b"close")
CACHE_HEADER = {True: (b"x-cache", b"hit"), False: (b"x-cache", b"miss")}
INTERNAL_ERROR = "internal error"
ECHO_CHARS = 64  # the most characters of a client's value an error message repeats
LONE_SURROGATE = re.compile("[\ud800-\udfff]")

__all__ = ["ClientDisconnect"]  # a client gone mid-body: nobody to answer


class ApiError(Exception):
    """A request the service refuses: a status and a detail (a message, or the list of
    validation errors of a 422). Each protocol renders it in its own body shape."""

    def __init__(
        self, status: int, detail: str | list[dict[str, Any]], headers: Headers = ()
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.headers = headers

    @property
    def message(self) -> str:
        """The detail in one line, for protocols whose errors are a single string."""
        if isinstance(self.detail, str):
            return self.detail
        return "; ".join(
            f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}"
            for error in self.detail
        )


@dataclass(frozen=True, slots=True)
class Answer:
    """What a protocol's handler returns: the JSON body and the model behind it."""

    body: Mapping[str, Any]
    model_version: str
    cached: bool


def echo(value: object) -> str:
    """A value the client sent, as an error message shows it: whole (strings quoted) up to
    :data:`ECHO_CHARS` characters, else its first ones and its length, so that an error is
    never larger than what it is about, whatever the client sends."""
    text = str(value)
    shown = repr if isinstance(value, str) else str
    if len(text) <= ECHO_CHARS:
        return shown(text)
    return f"{shown(text[:ECHO_CHARS])}... ({len(text)} characters)"


def check_content_type(value: str | bytes | None) -> None:
    """415 unless the body is declared ``application/json`` (parameters such as ``charset``
    allowed; no header at all is read as JSON, as clients such as tritonclient send it)."""
    if value is None:
        return
    raw = value.encode("latin-1") if isinstance(value, str) else value
    media_type = raw.partition(b";")[0].strip().lower()
    if media_type != JSON_TYPE:
        shown = echo(media_type.decode("latin-1"))
        raise ApiError(
            415, f"send the body as JSON with 'Content-Type: application/json' (got {shown})"
        )


def too_large(limit: int) -> ApiError:
    return ApiError(413, f"the request body is larger than {limit} bytes (NEWSAPI_MAX_BODY_BYTES)")


def body_timed_out(timeout: float) -> ApiError:
    return ApiError(
        408, f"the request body did not arrive within {timeout:g} s (NEWSAPI_BODY_TIMEOUT)"
    )


class BodyBudget:
    """The bytes of unfinished request bodies one worker holds at once, and their limit.

    A body that arrives whole in its first message is never unfinished and costs nothing
    here; one that comes in pieces holds its bytes from its first piece until it is
    complete or refused. A piece that would pass the limit refuses its body with 503 and
    ``Retry-After``, so a crowd of clients trickling large bodies cannot hold more than the
    limit (``NEWSAPI_BODY_BUFFER_BYTES``), and requests with small bodies go on."""

    def __init__(self, limit: int, gauge: Gauge) -> None:
        self.limit = limit
        self.held = 0
        self.gauge = gauge  # newsapi_request_body_bytes_held

    def take(self, size: int) -> None:
        if self.held + size > self.limit:
            raise ApiError(
                503,
                f"too many request bodies are arriving at once (more than {self.limit} bytes, "
                "NEWSAPI_BODY_BUFFER_BYTES); retry shortly",
                [(b"retry-after", b"1"), CLOSE_HEADER],
            )
        self.held += size
        self.gauge.set(self.held)

    def give(self, size: int) -> None:
        self.held -= size
        self.gauge.set(self.held)


async def read_body(
    receive: Receive,
    declared_length: str | bytes | None,
    limit: int,
    timeout: float,
    budget: BodyBudget,
) -> bytes:
    """The whole body, refused with 413 past ``limit`` bytes (declared or streamed, read no
    further), with 408 when it has not all arrived within ``timeout`` seconds, and with 503
    when its pieces would pass the worker's ``budget``.
    Raises :class:`ClientDisconnect` when the client goes away first."""
    if declared_length is not None and int(declared_length) > limit:
        raise too_large(limit)
    try:
        async with asyncio.timeout(timeout):
            message = await receive()
            if message["type"] != "http.request":
                raise ClientDisconnect
            body: bytes = message.get("body", b"")
            if not message.get("more_body", False):  # the common case: one message
                if len(body) > limit:
                    raise too_large(limit)
                return body
            return await _read_pieces(receive, body, limit, budget)
    except TimeoutError:
        raise body_timed_out(timeout) from None


async def _read_pieces(receive: Receive, first: bytes, limit: int, budget: BodyBudget) -> bytes:
    """The rest of a body that comes in several messages, its bytes held in ``budget``."""
    chunks: list[bytes] = []
    size = 0
    chunk, more = first, True
    try:
        while True:
            if size + len(chunk) > limit:
                raise too_large(limit)
            budget.take(len(chunk))
            size += len(chunk)
            chunks.append(chunk)
            if not more:
                return b"".join(chunks)
            message = await receive()
            if message["type"] != "http.request":
                raise ClientDisconnect
            chunk, more = message.get("body", b""), message.get("more_body", False)
    finally:
        budget.give(size)


def decode(body: bytes, adapter: TypeAdapter[T]) -> T:
    """Parse and validate a JSON body in one pass; 422 with FastAPI's error shape otherwise.

    Any body gets an answer, however nested: pydantic-core refuses JSON deeper than its
    limit (200 levels) as invalid, and the fallback below catches the standard library's
    ``RecursionError``."""
    try:
        return adapter.validate_json(body)
    except ValidationError as exc:
        first = exc.errors(include_url=False, include_input=False)[0]
        if first["type"] != "json_invalid" or "recursion limit" in first["msg"]:
            raise unprocessable(exc) from None
        invalid = exc
    # The JSON grammar allows lone surrogates escaped in strings ("\ud800"); they are not
    # characters, and pydantic-core refuses them. The standard library reads them; each is
    # replaced by U+FFFD, the replacement character, and the text is classified as usual.
    try:
        data = _without_lone_surrogates(json.loads(body))
    except (ValueError, RecursionError):  # not JSON after all, or nested beyond reason
        raise unprocessable(invalid) from None
    try:
        return adapter.validate_python(data)
    except ValidationError as exc:
        raise unprocessable(exc) from None


def _without_lone_surrogates(value: Any) -> Any:
    if isinstance(value, str):
        return LONE_SURROGATE.sub("\ufffd", value)
    if isinstance(value, list):
        return [_without_lone_surrogates(item) for item in value]
    if isinstance(value, dict):
        return {key: _without_lone_surrogates(item) for key, item in value.items()}
    return value


def unprocessable(exc: ValidationError, where: str = "body") -> ApiError:
    """422 in FastAPI's error shape, without echoing the input (texts can be long)."""
    return ApiError(422, validation_errors(exc.errors(include_url=False), where))


def validation_errors(errors: Sequence[Any], where: str | None = "body") -> list[dict[str, Any]]:
    """``type``, ``loc`` and ``msg`` of each error (``where`` prefixed to ``loc``)."""
    prefix = [] if where is None else [where]
    return [{"type": e["type"], "loc": [*prefix, *e["loc"]], "msg": e["msg"]} for e in errors]


def loaded(classifier: Classifier | None) -> Classifier:
    """The classifier, or 503 while the model is not loaded (starting or stopping)."""
    if classifier is None or classifier.artifact is None:
        raise ApiError(503, "the model is not loaded")
    return classifier


def log_answers(
    log: PredictionLog,
    endpoint: str,
    request_id: str,
    texts: Sequence[str],
    categories: Sequence[str],
    keys: Sequence[bytes] | None,
    served: Served,
    figures: Sequence[Figures | None] | None = None,
) -> None:
    """Hand answered texts to the prediction log with the model that answered them (a reload
    may have swapped another in since), and the keys and figures computed with them (None:
    the writer computes them). Callers check that the log is on: else that check is all."""
    artifact, predictor = served
    log.submit(endpoint, request_id, artifact.model_version, predictor, artifact.target_names,
               texts, categories, keys, figures=figures)  # fmt: skip


def answer_headers(answer: Answer) -> Headers:
    """``X-Model-Version`` and ``X-Cache`` of an answer, with its JSON content type."""
    return [
        JSON_HEADER,
        (b"x-model-version", answer.model_version.encode()),
        CACHE_HEADER[answer.cached],
    ]


def render_answer(answer: Answer) -> tuple[bytes, Headers]:
    """The answer's bytes (orjson, built once, no second validation pass) and headers."""
    return orjson.dumps(answer.body), answer_headers(answer)


def unexpected(path: str, exc: BaseException) -> ApiError:
    """The rule for an error nobody expected: one log line, a 500 that says nothing more."""
    log.error("unhandled %s on %s: %r", type(exc).__name__, path, exc)
    return ApiError(500, INTERNAL_ERROR)


def error_headers(error: ApiError) -> Headers:
    """JSON, the error's own headers; a body refused before it was read to the end cannot
    keep the connection."""
    closing = [CLOSE_HEADER] if error.status in (408, 413) else []
    return [JSON_HEADER, *closing, *error.headers]


def render_error(
    error: ApiError, errors: Callable[[ApiError], tuple[int, bytes]]
) -> tuple[int, bytes, Headers]:
    """An error in the body shape of its protocol (``errors``), with its headers."""
    status, content = errors(error)
    return status, content, error_headers(error)
