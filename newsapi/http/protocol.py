"""A protocol the app speaks, declared once: the paths it owns, the shape of its error bodies,
and how to build its FastAPI routes and the endpoints the fast lane answers for it.

The app builds both paths from these declarations (:func:`newsapi.http.app.create_app`), and
every error, from a route, from the lane or from a path nobody serves, is written in the shape
of the protocol that owns its path.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter
from pydantic import TypeAdapter

from newsapi.http.pipeline import Answer, ApiError
from newsapi.serving.service import Classifier
from newsapi.settings import Settings

#: an error's status and body bytes in a protocol's shape
ErrorBody = Callable[[ApiError], tuple[int, bytes]]


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One route the fast lane answers: its body's validator and the protocol's handler
    (called with the classifier, the validated body and the request id)."""

    adapter: TypeAdapter[Any]
    handle: Callable[[Classifier, Any, str], Awaitable[Answer]]
    errors: ErrorBody


@dataclass(frozen=True, slots=True)
class Routes:
    """What a protocol contributes to one app: its router and the lane's endpoints (by path)."""

    router: APIRouter
    lane: dict[str, Endpoint]


@dataclass(frozen=True, slots=True)
class Protocol:
    """A protocol: ``prefix`` is the paths it owns ("" for every path no other one owns)."""

    name: str
    prefix: str
    errors: ErrorBody
    build: Callable[[Settings], Routes]

    def owns(self, path: str) -> bool:
        return not self.prefix or path == self.prefix or path.startswith(self.prefix + "/")


def owner(protocols: Sequence[Protocol], path: str) -> Protocol:
    """The protocol whose paths include ``path`` (the longest prefix wins)."""
    return max((p for p in protocols if p.owns(path)), key=lambda p: len(p.prefix))
