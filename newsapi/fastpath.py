"""The fast lane for well-formed prediction requests.

FastAPI's request handling (routing, dependency solving, exception middleware) costs more
per request than a cached answer does. This pure ASGI middleware answers the common case —
``POST /prediction`` or ``/predictions`` with a JSON body of known length that validates,
and no query string — directly, with the same validation models, the same classifier and the
same response bytes as the routes. Anything else (bad JSON, wrong content type, ``?scores``,
an oversized or chunked body, a model not loaded) goes on to the FastAPI routes untouched, the
body replayed if it was already read, so errors and documentation have one source: the routes.
``bench/`` measures what this buys.
"""

from __future__ import annotations

import logging
from typing import Any

import orjson
from pydantic import TypeAdapter, ValidationError
from starlette.datastructures import State
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("newsapi")

JSON_HEADER = (b"content-type", b"application/json")
INTERNAL_ERROR = b'{"detail":"internal error"}'
CACHE_HEADER = {True: (b"x-cache", b"hit"), False: (b"x-cache", b"miss")}


class FastPredictionPath:
    def __init__(
        self, app: ASGIApp, *, state: State, one: TypeAdapter[Any], many: TypeAdapter[Any],
        max_body_bytes: int,
    ) -> None:  # fmt: skip
        self.app = app
        self.state = state
        self.adapters = {"/prediction": one, "/predictions": many}
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        adapter = self.adapters.get(scope.get("path", ""))
        classifier = self.state.classifier
        if (
            adapter is None
            or scope["type"] != "http"
            or scope["method"] != "POST"
            or scope["query_string"]
            or classifier is None
        ):
            await self.app(scope, receive, send)
            return
        length = content_type = None
        for name, value in scope["headers"]:
            if name == b"content-length":
                length = value
            elif name == b"content-type":
                content_type = value
        if (
            length is None
            or not length.isdigit()
            or int(length) > self.max_body_bytes
            or (content_type is not None and not content_type.startswith(b"application/json"))
        ):
            await self.app(scope, receive, send)
            return
        body, message = await _read_body(receive)
        if message is not None:  # the client went away
            return
        try:
            payload = adapter.validate_json(body)
        except ValidationError:
            await self.app(scope, _replay(body, receive), send)
            return
        try:
            if adapter is self.adapters["/prediction"]:
                found = await classifier.predict(payload.text)
                content = orjson.dumps({"category": found.category})
                version, cached = found.model_version, found.cached
            else:
                answers = await classifier.predict_many(payload.texts)
                content = orjson.dumps({"categories": answers.categories})
                version, cached = answers.model_version, answers.cached
        except Exception as exc:  # this lane is outside FastAPI's error handling: do its job
            log.error("unhandled %s on %s: %r", type(exc).__name__, scope["path"], exc)
            await _send(send, 500, INTERNAL_ERROR, [JSON_HEADER])
            return
        await _send(send, 200, content, [
            JSON_HEADER, (b"x-model-version", version.encode()), CACHE_HEADER[cached]
        ])  # fmt: skip


async def _send(
    send: Send, status: int, content: bytes, headers: list[tuple[bytes, bytes]]
) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [*headers, (b"content-length", str(len(content)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": content})


async def _read_body(receive: Receive) -> tuple[bytes, Message | None]:
    """The whole body, or the disconnect message that cut it short."""
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"", message
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks), None


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that hands out ``body`` once, then defers to the real one."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
