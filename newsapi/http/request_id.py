"""``X-Request-Id``: the id of each prediction request, on its answer and in the prediction log.

The answers of ``POST /prediction``, ``/predictions`` and V2 inference (both paths, errors
included) carry one. A client that sends a sane ``X-Request-Id`` (1 to :data:`MAX_CHARS`
visible ASCII characters) gets its own back, so that it can join the log with its own
records; any other value, or none, gets a fresh id: 16 hex digits from the system's random
source, so that ids cannot be guessed (feedback names a request by its id). The front layer
(:class:`newsapi.http.headers.HeaderRules`) sets it once in the ASGI scope under
:data:`REQUEST_ID`, where the handlers read it to log the answer, and adds the header to the
answer it sends.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

REQUEST_ID = "newsapi.request_id"  #: the scope key holding the id (a str)
HEADER = b"x-request-id"
MAX_CHARS = 128
SANE = re.compile(rb"[\x21-\x7e]{1,%d}" % MAX_CHARS)
V2_MODELS = "/v2/models/"
BOOK_PATHS = frozenset({"/prediction", "/predictions"})


def identified(path: str) -> bool:
    """Whether answers on ``path`` carry a request id: the book's two prediction calls and
    V2 inference on any model name or version (the others' errors included)."""
    return path in BOOK_PATHS or (path.startswith(V2_MODELS) and path.endswith("/infer"))


def request_id(given: bytes | None) -> bytes:
    """The client's id when it is sane, else a fresh one."""
    if given is not None and SANE.fullmatch(given):
        return given
    return os.urandom(8).hex().encode()


def of(scope: Mapping[str, Any]) -> str:
    """The request id the front layer set ("" where none was: paths without one)."""
    found: str = scope.get(REQUEST_ID, "")
    return found
