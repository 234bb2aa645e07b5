"""The fast lane: prediction requests answered before FastAPI's per-request machinery.

FastAPI's routing, dependency solving and exception layers cost more per request than a cached
answer does. This pure ASGI layer answers ``POST /prediction``, ``/predictions`` and
``/v2/models/<name>/infer`` without a query string by calling exactly what the routes call —
:mod:`newsapi.http.pipeline` for the body, the errors and the answer's bytes, and the protocol's
handler (:mod:`newsapi.http.book.handlers`, :mod:`newsapi.http.v2.handlers`) for the answer
itself — so the two paths cannot drift apart. Everything else goes on to FastAPI. It also holds
the unexpected-error rule for both paths: one log line, and a 500 whose body says nothing more.
``bench/`` measures what the lane buys; ``newsapi_http_requests_total{handler=...}`` says which
path answered.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from starlette.datastructures import State
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from newsapi.http.pipeline import (
    CLOSE_HEADER,
    ApiError,
    BodyBudget,
    ClientDisconnect,
    Headers,
    check_content_type,
    decode,
    loaded,
    read_body,
    render_answer,
    render_error,
    unexpected,
)
from newsapi.http.protocol import Endpoint, ErrorBody, Protocol, owner
from newsapi.http.request_id import REQUEST_ID
from newsapi.serving.activity import Activity
from newsapi.settings import Settings

HANDLER = "newsapi.handler"  # scope key naming the path that answered, for the metrics


class FastLane:
    """Pure ASGI in front of FastAPI (see the module's docstring)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        state: State,
        settings: Settings,
        endpoints: dict[str, Endpoint],
        protocols: Sequence[Protocol],
    ) -> None:
        self.app = app
        self.state = state
        self.endpoints = endpoints
        self.protocols = protocols
        self.limit = settings.limits.max_body_bytes
        self.timeout = settings.limits.body_timeout
        self.budget: BodyBudget = state.body_budget
        self.activity: Activity = state.activity

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        activity = self.activity
        activity.begin()
        try:
            await self._http(scope, receive, send)
        finally:
            activity.end()

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        endpoint = self.endpoints.get(scope["path"])
        if endpoint is None or scope["method"] != "POST" or scope["query_string"]:
            await self._behind(scope, receive, send)
            return
        scope[HANDLER] = "lane"
        try:
            status, content, headers = await self._answer(endpoint, scope, receive)
        except ClientDisconnect:
            return  # nobody to answer (counted as 499)
        except asyncio.CancelledError:
            status, content, headers = stopped(endpoint.errors)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [*headers, (b"content-length", str(len(content)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": content})  # fmt: skip

    async def _answer(
        self, endpoint: Endpoint, scope: Scope, receive: Receive
    ) -> tuple[int, bytes, Headers]:
        length = content_type = None
        for name, value in scope["headers"]:
            if name == b"content-length":
                length = value
            elif name == b"content-type":
                content_type = value
        try:
            classifier = loaded(self.state.classifier)
            check_content_type(content_type)
            body = await read_body(receive, length, self.limit, self.timeout, self.budget)
            request = decode(body, endpoint.adapter)
            answer = await endpoint.handle(classifier, request, scope.get(REQUEST_ID, ""))
        except ApiError as error:
            return render_error(error, endpoint.errors)
        except ClientDisconnect:
            raise
        except Exception as exc:
            return render_error(unexpected(scope["path"], exc), endpoint.errors)
        content, headers = render_answer(answer)
        return 200, content, headers

    async def _behind(self, scope: Scope, receive: Receive, send: Send) -> None:
        """FastAPI, with the unexpected-error rule: Starlette's error layer renders the 500
        (through the app's handler) and re-raises; here it is logged once and stops, so
        that uvicorn does not log its traceback too."""
        scope[HANDLER] = "app"
        errors = owner(self.protocols, scope["path"]).errors
        started = False

        async def send_tracking(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, send_tracking)
        except Exception as exc:
            error = unexpected(scope["path"], exc)
            if not started:
                status, content, headers = render_error(error, errors)
                await send({"type": "http.response.start", "status": status,
                            "headers": headers})  # fmt: skip
                await send({"type": "http.response.body", "body": content})
        except asyncio.CancelledError:
            if started:  # the answer was under way: uvicorn closes the connection
                raise
            status, content, headers = stopped(errors)
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": content})


def stopped(errors: ErrorBody) -> tuple[int, bytes, Headers]:
    """The answer to a request still running when the server gives up waiting for it.

    uvicorn cancels the requests left after its graceful-shutdown timeout, and logs the
    traceback of each one that ends with the cancellation. Those requests (typically clients
    still trickling a body) get a 503 instead, and the server's one line ("Cancel N running
    task(s)") says what happened; the cancellation is taken back, since this task ends here.
    """
    task = asyncio.current_task()
    if task is not None:
        task.uncancel()
    error = ApiError(503, "the server is shutting down", [CLOSE_HEADER])
    return render_error(error, errors)
