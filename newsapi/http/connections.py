"""uvicorn's HTTP protocol with a time limit on receiving a request's headers.

uvicorn bounds an idle keep-alive connection (``--timeout-keep-alive``) but not a client that
opens a connection and sends its headers a byte at a time: that connection, and the memory
uvicorn keeps for it, lasts as long as the client likes. This protocol (``newsapi serve``
uses it; ``uvicorn --http newsapi.http.connections:HeaderTimeoutProtocol`` for plain uvicorn)
answers 408 and closes the connection when a request's headers have not all arrived within
``NEWSAPI_HEADER_TIMEOUT`` seconds of its first byte (of the connection, for the first
request). The body has its own limit (``NEWSAPI_BODY_TIMEOUT``, :mod:`newsapi.http.pipeline`).
"""

from __future__ import annotations

import asyncio

import orjson
from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from newsapi.serving.metrics import Metrics
from newsapi.settings import get_settings


def timeout_response(seconds: float) -> bytes:
    """The whole 408 answer, as bytes: the service's JSON error shape, connection closed."""
    body = orjson.dumps(
        {"detail": f"the request headers did not arrive within {seconds:g} s "
                   "(NEWSAPI_HEADER_TIMEOUT)"}
    )  # fmt: skip
    return b"".join(
        [
            b"HTTP/1.1 408 Request Timeout\r\n",
            b"content-type: application/json\r\n",
            b"content-length: %d\r\n" % len(body),
            b"connection: close\r\n\r\n",
            body,
        ]
    )


class HeaderTimeoutProtocol(HttpToolsProtocol):
    """:class:`HttpToolsProtocol` that gives each request's headers a deadline.

    One timer per connection, not one per request: a request only notes when its headers
    began and when they were complete (two attribute writes), and the connection's timer,
    when it fires, answers 408 if the headers under way are late, or looks again when they
    would be (every ``header_timeout`` seconds on an idle keep-alive connection). Arming and
    cancelling a timer for each request cost about 3% of the event loop under load (py-spy).
    """

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, object],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        # uvicorn builds this class itself (no arguments of ours): the process settings it is
        self.header_timeout = get_settings().limits.header_timeout
        self.header_timer: asyncio.TimerHandle | None = None
        # when the headers under way began (loop time); None between requests
        self.headers_since: float | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.headers_since = self.loop.time()  # the first request's clock starts now
        self.header_timer = self.loop.call_later(self.header_timeout, self._check_headers)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.header_timer is not None:
            self.header_timer.cancel()
            self.header_timer = None
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self.headers_since is None:
            self.headers_since = self.loop.time()

    def on_headers_complete(self) -> None:
        self.headers_since = None
        super().on_headers_complete()

    def _check_headers(self) -> None:
        self.header_timer = None
        if self.transport.is_closing():
            return
        wait = self.header_timeout
        if self.headers_since is not None:
            left = self.headers_since + self.header_timeout - self.loop.time()
            if left > 0:
                wait = left
            elif self.cycle is None or self.cycle.response_complete:
                self.transport.write(timeout_response(self.header_timeout))
                self.transport.close()
                metrics = _metrics_of(self.app)
                if metrics is not None:
                    metrics.header_timeouts.inc()
                return
            # else: a pipelined request waits behind an answer still being sent
        self.header_timer = self.loop.call_later(wait, self._check_headers)


def _metrics_of(app: object) -> Metrics | None:
    """The newsapi app's metrics, behind uvicorn's wrappers (each holds the next as ``app``);
    looked up only when a 408 is sent."""
    for _ in range(8):
        metrics = getattr(getattr(app, "state", None), "metrics", None)
        if isinstance(metrics, Metrics):
            return metrics
        app = getattr(app, "app", None)
    return None
