"""uvicorn's HTTP protocol with bounds on receiving a request's headers: time, bytes and count.

uvicorn bounds an idle keep-alive connection (``--timeout-keep-alive``) but not a client that
opens a connection and sends its headers a byte at a time, nor one that sends a header
section that never ends (httptools keeps growing one header value for as long as it
arrives) or tens of thousands of headers: that connection, and the memory uvicorn keeps for
it, lasts and grows as the client likes. This protocol (``newsapi serve`` uses it;
``uvicorn --http newsapi.http.connections:HeaderTimeoutProtocol`` for plain uvicorn) answers
and closes the connection:

- 408 when a request's headers have not all arrived within ``NEWSAPI_HEADER_TIMEOUT`` seconds
  of its first byte (of the connection, for the first request);
- 431 when its header section (request line and headers) passes ``NEWSAPI_MAX_HEADER_BYTES``
  bytes, or it has more than ``NEWSAPI_MAX_HEADERS`` headers.

Neither request reaches the app (each is counted: ``newsapi_header_timeouts_total``,
``newsapi_header_refusals_total``). The body has its own limits (:mod:`newsapi.http.pipeline`).

:class:`ConcurrencyRefusalLog` turns uvicorn's line per connection refused past
``--limit-concurrency`` into a count and one line per interval.
"""

from __future__ import annotations

import asyncio
import logging
import time
from http import HTTPStatus

import orjson
from prometheus_client import Counter
from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from newsapi.serving.metrics import Metrics
from newsapi.settings import get_settings


def refusal(status: int, detail: str) -> bytes:
    """A whole answer of the protocol's own, as bytes: the service's JSON error shape,
    connection closed."""
    body = orjson.dumps({"detail": detail})
    return b"".join(
        [
            b"HTTP/1.1 %d %s\r\n" % (status, HTTPStatus(status).phrase.encode()),
            b"content-type: application/json\r\n",
            b"x-content-type-options: nosniff\r\n",
            b"content-length: %d\r\n" % len(body),
            b"connection: close\r\n\r\n",
            body,
        ]
    )


def timeout_response(seconds: float) -> bytes:
    """The whole 408 answer, as bytes."""
    return refusal(
        408, f"the request headers did not arrive within {seconds:g} s (NEWSAPI_HEADER_TIMEOUT)"
    )


class HeaderTimeoutProtocol(HttpToolsProtocol):
    """:class:`HttpToolsProtocol` that bounds each request's header section in time, bytes
    and count (see the module's docstring).

    Time: one timer per connection, not one per request: a request only notes when its
    headers began and when they were complete (two attribute writes), and the connection's
    timer, when it fires, answers 408 if the headers under way are late, or looks again when
    they would be (every ``header_timeout`` seconds on an idle keep-alive connection). Arming
    and cancelling a timer for each request cost about 3% of the event loop under load
    (py-spy).

    Bytes: the bytes read while a header section is under way are counted before the parser
    sees them, and a read that would pass the bound is parsed only up to it: the section
    must have ended there. The count starts again when a request is complete, so the bytes
    of a next request read together with the end of the previous one (pipelining) are not
    counted: at most one read (256 KiB) more. Count: each header as the parser hands it over.
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
        limits = get_settings().limits
        self.header_timeout = limits.header_timeout
        self.max_header_bytes = limits.max_header_bytes
        self.max_headers = limits.max_headers
        self.header_timer: asyncio.TimerHandle | None = None
        # when the headers under way began (loop time); None between requests
        self.headers_since: float | None = None
        # bytes the header section under way may still take; None while a body is read
        self.header_room: int | None = self.max_header_bytes
        self.header_count = 0
        self.refused = False  # the connection got its 431: nothing more is read

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.headers_since = self.loop.time()  # the first request's clock starts now
        self.header_timer = self.loop.call_later(self.header_timeout, self._check_headers)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.header_timer is not None:
            self.header_timer.cancel()
            self.header_timer = None
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        while not self.refused:
            room = self.header_room
            if room is None or len(data) <= room:  # a body, or headers within the bound
                if room is not None:
                    self.header_room = room - len(data)
                super().data_received(data)
                return
            # the bound falls inside this read: the header section must end before it
            self.header_room = 0
            super().data_received(data[:room])
            if self.transport.is_closing() or self.transport.get_protocol() is not self:
                return  # refused, or upgraded to another protocol
            if self.header_room == 0:  # neither complete nor a new request begun
                self._refuse(
                    "bytes",
                    f"the request headers are larger than {self.max_header_bytes} bytes "
                    "(NEWSAPI_MAX_HEADER_BYTES)",
                )
                return
            data = data[room:]

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.header_count = 0
        if self.headers_since is None:
            self.headers_since = self.loop.time()

    def on_header(self, name: bytes, value: bytes) -> None:
        if self.refused:
            return
        self.header_count += 1
        if self.header_count > self.max_headers:
            self._refuse(
                "count",
                f"the request has more than {self.max_headers} headers (NEWSAPI_MAX_HEADERS)",
            )
            return
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        if self.refused:  # the parser goes on to the end of the read: ignored
            return
        self.headers_since = None
        self.header_room = None
        super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        if not self.refused:
            super().on_body(body)

    def on_message_complete(self) -> None:
        if self.refused:
            return
        self.header_room = self.max_header_bytes  # the next request's section starts
        super().on_message_complete()

    def _refuse(self, reason: str, detail: str) -> None:
        """431 and close; if an answer to an earlier (pipelined) request is still being
        sent, it is finished first and the connection closes after it, without the 431."""
        self.refused = True
        if self.cycle is None or self.cycle.response_complete:
            self.transport.write(refusal(431, detail))
            self.transport.close()
        else:
            self.cycle.keep_alive = False
            self.transport.pause_reading()
        metrics = _metrics_of(self.app)
        if metrics is not None:
            metrics.header_refusals.labels(reason).inc()

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


class ConcurrencyRefusalLog(logging.Filter):
    """Counts uvicorn's refusals past ``--limit-concurrency`` and lets one line through per
    ``interval`` seconds, saying how many refusals it stands for.

    uvicorn answers each request beyond the limit with 503 and logs a warning for each: a
    crowd of idle connections wrote hundreds of lines in seconds. Installed on uvicorn's
    ``uvicorn.error`` logger at start-up (:meth:`install`), removed at shutdown."""

    MESSAGE = "Exceeded concurrency limit."
    LOGGER = "uvicorn.error"

    def __init__(self, counter: Counter, interval: float = 10.0) -> None:
        super().__init__()
        self.counter = counter  # newsapi_concurrency_refusals_total
        self.interval = interval
        self.unlogged = 0
        self.logged_at = -interval

    def filter(self, record: logging.LogRecord) -> bool:
        if record.msg != self.MESSAGE:
            return True
        self.counter.inc()
        self.unlogged += 1
        now = time.monotonic()
        if now - self.logged_at < self.interval:
            return False
        record.msg = (
            "Exceeded concurrency limit (--limit-concurrency): answered 503 to %d request(s) "
            "since the last such line (one line per %g s at most; every refusal is counted "
            "in newsapi_concurrency_refusals_total)"
        )
        record.args = (self.unlogged, self.interval)
        self.unlogged = 0
        self.logged_at = now
        return True

    def install(self) -> None:
        logging.getLogger(self.LOGGER).addFilter(self)

    def remove(self) -> None:
        logging.getLogger(self.LOGGER).removeFilter(self)


def _metrics_of(app: object) -> Metrics | None:
    """The newsapi app's metrics, behind uvicorn's wrappers (each holds the next as ``app``);
    looked up only when a request is refused."""
    for _ in range(8):
        metrics = getattr(getattr(app, "state", None), "metrics", None)
        if isinstance(metrics, Metrics):
            return metrics
        app = getattr(app, "app", None)
    return None
