"""Rules on a request's and an answer's headers that hold for every path, in front of the
allowed-hosts check and the fast lane.

- A request with more than one ``Host`` header is refused (400, connection closed): the
  allowed-hosts check reads only the first, and a proxy or cache in front may read another,
  so the two could disagree on which host the request is for.
- Every answer carries ``X-Content-Type-Options: nosniff``: a browser takes the declared
  content type (JSON, Prometheus text, the docs' HTML) for what it is and never guesses
  another from the bytes.
- The answers of the prediction calls carry ``X-Request-Id`` (:mod:`newsapi.http.request_id`),
  set here once in the scope for the handlers to log.

The protocol's own answers (408 and 431, before any route runs) carry it too
(:mod:`newsapi.http.connections`).
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from newsapi.http.pipeline import CLOSE_HEADER, ApiError, render_error
from newsapi.http.protocol import Protocol, owner
from newsapi.http.request_id import HEADER, REQUEST_ID, identified, request_id

NOSNIFF = (b"x-content-type-options", b"nosniff")
ONLY_NOSNIFF = (NOSNIFF,)


class HeaderRules:
    """Pure ASGI: the rules of the module's docstring."""

    def __init__(self, app: ASGIApp, protocols: Sequence[Protocol]) -> None:
        self.app = app
        self.protocols = protocols

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        hosts = 0
        given = None
        for name, value in scope["headers"]:
            if name == b"host":
                hosts += 1
            elif name == HEADER:
                given = value
        added: tuple[tuple[bytes, bytes], ...] = ONLY_NOSNIFF
        if identified(scope["path"]):
            found = request_id(given)
            scope[REQUEST_ID] = found.decode("ascii")
            added = (NOSNIFF, (HEADER, found))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", ()), *added]}
            await send(message)

        if hosts > 1:
            await self._refuse(scope, hosts, send_with_headers)
            return
        await self.app(scope, receive, send_with_headers)

    async def _refuse(self, scope: Scope, hosts: int, send: Send) -> None:
        error = ApiError(
            400, f"send exactly one Host header (the request has {hosts})", [CLOSE_HEADER]
        )
        status, content, headers = render_error(error, owner(self.protocols, scope["path"]).errors)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [*headers, (b"content-length", str(len(content)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": content})
