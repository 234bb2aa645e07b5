"""Hostile bodies against a real uvicorn over real HTTP: never a 5xx, never a log flood, the
same documented answer on every path (the fast lane, FastAPI's routes, the V2 protocol)."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest

from newsapi.model.artifact import Artifact
from tests.support import ROOT, Server, launch, metric, wait_for, wait_ready

pytestmark = pytest.mark.server
LIMIT = 250_000
# the lane, FastAPI's route (a query string sends it there), the V2 protocol
PATHS = ["/prediction", "/prediction?scores=false", "/v2/models/newsgroups/infer"]


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
