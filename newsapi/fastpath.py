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

from typing import Any

import orjson
from pydantic import TypeAdapter, ValidationError
from starlette.datastructures import State
from starlette.types import ASGIApp, Message, Receive, Scope, Send

JSON_HEADER = (b"content-type", b"application/json")
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
        if adapter is self.adapters["/prediction"]:
            found = await classifier.predict(payload.text)
            content = orjson.dumps({"category": found.category})
            version, cached = found.model_version, found.cached
        else:
            answers = await classifier.predict_many(payload.texts)
            content = orjson.dumps({"categories": [p.category for p in answers]})
            version, cached = answers[0].model_version, all(p.cached for p in answers)
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    JSON_HEADER,
                    (b"content-length", str(len(content)).encode()),
                    (b"x-model-version", version.encode()),
                    CACHE_HEADER[cached],
                ],
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
