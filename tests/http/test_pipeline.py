"""The request pipeline every protocol shares. In process: ``decode`` (one validation pass,
FastAPI's 422 shape without the input, the lone-surrogate rule, nesting past the parser's
limit) and ``read_body`` driven by a hand-written ASGI ``receive`` (413, 408, the body budget's
503, a client that leaves). Then hostile bodies against a real uvicorn over real HTTP: never a
5xx, never a log flood, the same documented answer on every path (the fast lane, FastAPI's
routes, the V2 protocol)."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from prometheus_client import CollectorRegistry, Gauge
from pydantic import TypeAdapter
from starlette.requests import ClientDisconnect

from newsapi.http.book.schemas import request_models
from newsapi.http.pipeline import ApiError, BodyBudget, decode, read_body
from newsapi.model.artifact import Artifact
from tests.support import ROOT, Server, launch, metric, wait_for, wait_ready

LIMIT = 250_000
# the lane, FastAPI's route (a query string sends it there), the V2 protocol
PATHS = ["/prediction", "/prediction?scores=false", "/v2/models/newsgroups/infer"]


# -- in process: decode and read_body ---------------------------------------------------------
PredictionInput, PredictionsInput = request_models(max_text_length=100, max_batch_size=4)
ONE = TypeAdapter(PredictionInput)
MANY = TypeAdapter(PredictionsInput)


def refusal(call: Callable[[], object]) -> ApiError:
    """The ApiError ``call`` raises (it must raise one)."""
    with pytest.raises(ApiError) as caught:
        call()
    return caught.value


def test_decode_validates_a_body_in_one_pass() -> None:
    assert decode(b'{"text": "rocket orbit"}', ONE).text == "rocket orbit"
    assert decode(b'{"texts": ["a", "b"]}', MANY).texts == ["a", "b"]


def test_decode_refuses_invalid_json_with_422_in_fastapis_shape_without_the_input() -> None:
    error = refusal(lambda: decode(b'{"text": "SECRET unterminated', ONE))
    assert error.status == 422
    assert error.detail == [
        {
            "type": "json_invalid",
            "loc": ["body"],
            "msg": "Invalid JSON: EOF while parsing a string at line 1 column 29",
        }
    ]
    assert "SECRET" not in json.dumps(error.detail)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b'{"text": 5}', ("string_type", "Input should be a valid string")),
        (b'{"text": "' + b"SECRET " * 20 + b'"}',
         ("string_too_long", "String should have at most 100 characters")),
        (b"{}", ("missing", "Field required")),
    ],
    ids=["wrong-type", "too-long", "missing"],
)  # fmt: skip
def test_decode_refuses_the_wrong_shape_with_422_naming_the_field(
    body: bytes, expected: tuple[str, str]
) -> None:
    kind, message = expected
    error = refusal(lambda: decode(body, ONE))
    assert error.status == 422
    # no "input": a long text is never echoed
    assert error.detail == [{"type": kind, "loc": ["body", "text"], "msg": message}]


def test_decode_replaces_a_lone_surrogate_and_validates_the_rest() -> None:
    assert decode(b'{"text": "rocket \\ud800 orbit"}', ONE).text == "rocket \ufffd orbit"
    assert decode(b'{"texts": ["\\udfff", "moon"]}', MANY).texts == ["\ufffd", "moon"]
    # the fallback parser validates as strictly as the first pass
    error = refusal(lambda: decode(b'{"text": ["\\ud800"]}', ONE))
    assert error.status == 422
    assert error.detail == [
        {"type": "string_type", "loc": ["body", "text"], "msg": "Input should be a valid string"}
    ]
    # invalid JSON stays invalid, with the first pass's error
    error = refusal(lambda: decode(b'{"text": "\\ud800', ONE))
    assert error.status == 422
    assert error.detail == [
        {
            "type": "json_invalid",
            "loc": ["body"],
            "msg": "Invalid JSON: EOF while parsing a string at line 1 column 16",
        }
    ]


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 100_000 + b"]" * 100_000,
        b'{"text": ' + b"[" * 5_000 + b"]" * 5_000 + b"}",
        # the lone surrogate sends the body to the standard library's parser, which recurses
        b'{"text": "\\ud800", "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
    ],
    ids=["array", "in-field", "surrogate-then-nested"],
)
def test_decode_refuses_json_nested_past_the_parsers_limit_with_422(body: bytes) -> None:
    error = refusal(lambda: decode(body, ONE))
    assert error.status == 422
    assert isinstance(error.detail, list)
    assert [e["type"] for e in error.detail] == ["json_invalid"]


Message = dict[str, Any]
Step = Message | asyncio.Event  # an Event: the client waits for it before its next message


def request(body: bytes, more: bool = False) -> Message:
    return {"type": "http.request", "body": body, "more_body": more}


class Client:
    """The ASGI ``receive`` of one request: hands out ``steps`` in turn (waiting where a step
    is an Event), then waits for ever, a client that sends nothing more; records the bytes
    its budget held at each call."""

    def __init__(self, budget: BodyBudget, *steps: Step) -> None:
        self.budget = budget
        self.steps = list(steps)
        self.held_at_calls: list[int] = []

    async def receive(self) -> Message:
        self.held_at_calls.append(self.budget.held)
        while True:
            step = self.steps.pop(0) if self.steps else asyncio.Event()
            if isinstance(step, asyncio.Event):
                await step.wait()
            else:
                return step


def budget(limit: int = 1_000) -> tuple[BodyBudget, Callable[[], float | None]]:
    """A budget with a gauge of its own, and a reading of that gauge."""
    registry = CollectorRegistry()
    gauge = Gauge("body_bytes_held", "bytes held", registry=registry)
    return BodyBudget(limit, gauge), lambda: registry.get_sample_value("body_bytes_held")


def read(client: Client, declared: str | bytes | None = None, limit: int = 10) -> bytes:
    return asyncio.run(read_body(client.receive, declared, limit, 5.0, client.budget))


def test_read_body_returns_a_body_in_one_message_and_holds_nothing_for_it() -> None:
    held, gauge = budget()
    client = Client(held, request(b'{"text":1}'))
    assert read(client, b"10") == b'{"text":1}'
    assert held.held == 0
    assert gauge() == 0  # never set: a whole body costs nothing


def test_read_body_joins_pieces_within_the_limit_holding_them_until_complete() -> None:
    held, gauge = budget()
    client = Client(held, request(b"ab", True), request(b"cd", True), request(b"ef"))
    assert read(client) == b"abcdef"
    assert client.held_at_calls == [0, 2, 4]  # what had arrived, held while unfinished
    assert (held.held, gauge()) == (0, 0)  # given back once complete


@pytest.mark.parametrize("declared", ["11", b"11"])
def test_read_body_refuses_a_declared_length_over_the_limit_without_reading(
    declared: str | bytes,
) -> None:
    held, _ = budget()
    client = Client(held, request(b"x" * 11))
    error = refusal(lambda: read(client, declared))
    assert error.status == 413
    assert error.detail == "the request body is larger than 10 bytes (NEWSAPI_MAX_BODY_BYTES)"
    assert client.held_at_calls == []  # receive was never called


def test_read_body_refuses_a_body_streamed_past_the_limit_and_reads_no_further() -> None:
    held, gauge = budget()
    client = Client(held, request(b"x" * 6, True), request(b"x" * 6, True), request(b"x"))
    assert refusal(lambda: read(client)).status == 413
    assert len(client.held_at_calls) == 2  # the piece past the limit is the last one read
    assert (held.held, gauge()) == (0, 0)
    whole = Client(held, request(b"x" * 11))  # one message, no length declared
    assert refusal(lambda: read(whole)).status == 413


def test_read_body_refuses_a_body_that_does_not_finish_in_time_with_408() -> None:
    held, gauge = budget()
    client = Client(held, request(b"abc", True))  # then nothing

    async def main() -> None:
        await read_body(client.receive, None, 10, 0.05, held)

    error = refusal(lambda: asyncio.run(main()))
    assert error.status == 408
    assert error.detail == "the request body did not arrive within 0.05 s (NEWSAPI_BODY_TIMEOUT)"
    assert (held.held, gauge()) == (0, 0)  # the piece that came is given back
    silent = Client(held)  # not even a first message
    assert (
        refusal(lambda: asyncio.run(read_body(silent.receive, None, 10, 0.05, held))).status == 408
    )


def test_the_budget_refuses_a_piece_past_its_limit_and_gives_the_bytes_back() -> None:
    held, gauge = budget(limit=10)

    async def main() -> tuple[bytes, ApiError]:
        rest = asyncio.Event()
        first = Client(held, request(b"x" * 6, True), rest, request(b"x" * 2))
        second = Client(held, request(b"y" * 6, True), request(b"y"))
        reading = asyncio.create_task(read_body(first.receive, None, 100, 5.0, held))
        while held.held == 0:  # the first body holds its first piece, waiting for more
            await asyncio.sleep(0)
        assert held.held == 6
        with pytest.raises(ApiError) as refused:
            await read_body(second.receive, None, 100, 5.0, held)
        assert held.held == 6  # the refused body holds nothing
        rest.set()
        return await reading, refused.value

    body, error = asyncio.run(main())
    assert body == b"x" * 8  # the first body went on
    assert error.status == 503
    assert error.detail == (
        "too many request bodies are arriving at once (more than 10 bytes, "
        "NEWSAPI_BODY_BUFFER_BYTES); retry shortly"
    )
    assert list(error.headers) == [(b"retry-after", b"1"), (b"connection", b"close")]
    assert (held.held, gauge()) == (0, 0)
    again = Client(held, request(b"z" * 6, True), request(b"z" * 4))
    assert asyncio.run(read_body(again.receive, None, 100, 5.0, held)) == b"z" * 10


@pytest.mark.parametrize(
    "messages",
    [
        [{"type": "http.disconnect"}],
        [request(b"abc", True), {"type": "http.disconnect"}],
    ],
    ids=["before-the-body", "mid-body"],
)
def test_read_body_raises_client_disconnect_when_the_client_leaves(messages: list[Message]) -> None:
    held, gauge = budget()
    client = Client(held, *messages)
    with pytest.raises(ClientDisconnect):
        read(client)
    assert (held.held, gauge()) == (0, 0)


# -- hostile bodies over real HTTP --------------------------------------------------------------


@pytest.fixture(scope="module")
def server(tiny_model: Artifact, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("hostile")
    env = {
        "NEWSAPI_MODEL_PATH": str(tiny_model.path),
        "NEWSAPI_CACHE_DIR": str(folder / "cache"),
        "NEWSAPI_MAX_BODY_BYTES": str(LIMIT),
        "NEWSAPI_BODY_TIMEOUT": "1",
    }
    running = launch(folder, env, extra_path=str(ROOT))
    wait_ready(running)
    yield running
    running.stop()


def error_of(answer: httpx.Response) -> str:
    """The message of an error, in either protocol's shape."""
    body = answer.json()
    return str(body.get("detail", body.get("error")))


@pytest.mark.server
@pytest.mark.parametrize(
    "body",
    [
        b"[" * 100_000 + b"]" * 100_000,
        b'{"text": ' + b"[" * 5_000 + b"]" * 5_000 + b"}",
        # a lone surrogate first sends the body to the fallback parser, then the nesting
        b'{"text": "\\ud800", "x": ' + b"[" * 4_000 + b"]" * 4_000 + b"}",
        b'{"inputs": [{"name": "text", "datatype": "BYTES", "shape": [1], "data": '
        + b"[" * 3_000
        + b"]" * 3_000
        + b"}]}",
    ],
    ids=["array", "in-field", "surrogate-then-nested", "v2-data"],
)
def test_deeply_nested_json_is_a_4xx_and_no_log(server: Server, body: bytes) -> None:
    before = server.log()
    for path in PATHS:
        for _ in range(4):
            answer = httpx.post(f"{server.url}{path}", content=body,
                                headers={"content-type": "application/json"})  # fmt: skip
            assert answer.status_code in (400, 422), (path, answer.text[:200])
            assert error_of(answer)
    assert server.log() == before  # not one line, let alone a traceback


@pytest.mark.server
@pytest.mark.parametrize("path", PATHS)
def test_too_large_is_the_same_json_413_with_a_length_or_chunked(server: Server, path: str) -> None:
    body = b'{"text": "' + b"word " * LIMIT + b'"}'

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(body), 1000):
            yield body[start : start + 1000]

    for content in (body, chunks()):
        answer = httpx.post(f"{server.url}{path}", content=content,
                            headers={"content-type": "application/json"})  # fmt: skip
        assert answer.status_code == 413
        assert answer.headers["content-type"] == "application/json"
        assert f"larger than {LIMIT} bytes" in error_of(answer)


@pytest.mark.server
@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("content_type", ["application/jsonx", "application/json-seq",
                                          "application/problem+json", "text/json"])  # fmt: skip
def test_only_application_json_is_json(server: Server, path: str, content_type: str) -> None:
    for body in (b'{"text": "rocket"}', b"{not json"):
        answer = httpx.post(f"{server.url}{path}", content=body,
                            headers={"content-type": content_type})  # fmt: skip
        assert answer.status_code == 415, (content_type, body)
        assert "application/json" in error_of(answer)
    if not path.startswith("/v2"):  # parameters and case do not matter
        headers = {"content-type": "Application/JSON; charset=utf-8"}
        charset = httpx.post(f"{server.url}{path}", content=b'{"text": "r"}', headers=headers)
        assert charset.status_code == 200


def raw_request(server: Server, head: bytes, body_part: bytes) -> socket.socket:
    address = urlsplit(server.url)
    sock = socket.create_connection((address.hostname, address.port), timeout=10)
    sock.sendall(head + body_part)
    return sock


@pytest.mark.server
@pytest.mark.parametrize("path", PATHS)
def test_a_body_that_never_arrives_gets_408(server: Server, path: str) -> None:
    head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            "Content-Length: 100\r\n\r\n").encode()  # fmt: skip
    with raw_request(server, head, b'{"text": "slo') as sock:
        answer = b""
        while chunk := sock.recv(65536):  # the server answers, then closes
            answer += chunk
    status_line, _, rest = answer.partition(b"\r\n")
    assert status_line == b"HTTP/1.1 408 Request Timeout"
    assert b"did not arrive within 1 s" in rest
    assert b"connection: close" in rest.lower()


@pytest.mark.server
def test_a_client_that_leaves_is_counted_as_499(server: Server) -> None:
    def gone() -> float:
        text = httpx.get(f"{server.url}/metrics").text
        return sum(metric(text, "newsapi_http_requests_total", route=route, status="499")
                   for route in ("/prediction", "/v2/models/newsgroups/infer"))  # fmt: skip

    before = gone()
    for path in PATHS:
        head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                "application/json\r\nContent-Length: 100\r\n\r\n").encode()  # fmt: skip
        with raw_request(server, head, b'{"te'):
            # closed once the server is reading the body (a close that arrives with the
            # headers may end the connection before any request exists to count)
            time.sleep(0.3)
    wait_for(lambda: gone() - before == 3, what="three requests counted as 499")
    text = httpx.get(f"{server.url}/metrics").text
    assert metric(text, "newsapi_http_requests_total", route="/prediction", status="500") == 0
