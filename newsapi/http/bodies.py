"""JSON bodies of the FastAPI routes, read and validated by the shared rules.

A route declares its body as usual (``body: PredictionInput``), so the OpenAPI document and
``/docs`` describe it; :class:`JsonBodyRoute` (FastAPI's documented way to customise how a
route reads its request) applies :mod:`newsapi.http.pipeline`'s rules before FastAPI's own body
handling: content type, size and time limits, JSON parsing and validation. FastAPI then
receives the validated model and has nothing left to refuse.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute
from pydantic import TypeAdapter

from newsapi.http.pipeline import Answer, check_content_type, decode, read_body, render_answer
from newsapi.settings import Settings


class JsonBodyRoute(APIRoute):
    """A route whose JSON body goes through the same checks as the fast lane's."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        model = None if self.body_field is None else self.body_field.field_info.annotation
        if model is None:
            return handler
        adapter: TypeAdapter[Any] = TypeAdapter(model)

        async def checked_handler(request: Request) -> Response:
            settings: Settings = request.app.state.settings
            check_content_type(request.headers.get("content-type"))
            body = await read_body(
                request.receive,
                request.headers.get("content-length"),
                settings.limits.max_body_bytes,
                settings.limits.body_timeout,
                request.app.state.body_budget,
            )
            # Starlette's Request keeps what it has read in these two attributes (FastAPI's
            # documented custom-request recipe sets `_body` the same way): FastAPI reads the
            # body and the already validated model from them instead of the network.
            request._body = body
            request._json = decode(body, adapter)
            return await handler(request)

        return checked_handler


def respond(answer: Answer) -> Response:
    """An answer of the request pipeline as a route's response (same bytes as the lane's)."""
    content, headers = render_answer(answer)
    return Response(content, headers={k.decode(): v.decode() for k, v in headers})
