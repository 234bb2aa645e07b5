"""Slow and heavy clients against a real server over real sockets: headers that never end get
408, bodies trickled by a crowd hold at most the worker's body budget, and SIGTERM waits at
most the graceful timeout for clients that never finish (issue 12)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack
from functools import partial
from pathlib import Path

import httpx
import pytest

from newsapi.model.artifact import Artifact
from tests.support import CLEAN_EXIT, Server, free_port, metric, rss_bytes, wait_for
from tests.support.sockets import connect, parse, read_response, read_to_end

pytestmark = pytest.mark.server
MiB = 2**20
BOOK = {"text": "the rocket will launch a satellite into orbit"}


def status_and_body(raw: bytes) -> tuple[int, dict[str, str], object]:
    status, headers, body = parse(raw)
    return status, headers, json.loads(body)


def request_head(length: int, path: str = "/prediction") -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nhost: test\r\ncontent-type: application/json\r\n"
        f"content-length: {length}\r\n\r\n"
    ).encode()


def test_headers_that_never_end_get_408_and_the_connection_closes(
    start_server: Callable[..., Server], tiny_model: Artifact
) -> None:
    server = start_server(tiny_model.path, NEWSAPI_HEADER_TIMEOUT="1")
    with ExitStack() as stack:
        silent = stack.enter_context(connect(server.url))  # connects, sends nothing
        trickling = stack.enter_context(connect(server.url))
        stop = threading.Event()

        def trickle() -> None:  # one byte of the request line every 0.2 s, forever
            for byte in b"POST /prediction HTTP/1.1\r\nhost: test\r\nx-slow: " + b"a" * 10_000:
                if stop.wait(0.2):
                    return
                try:
                    trickling.send(bytes([byte]))
                except OSError:  # closed by the server, as it should be
                    return

        thread = threading.Thread(target=trickle, daemon=True)
        thread.start()
        # a client on a keep-alive connection: one request, then headers that never end
        kept = stack.enter_context(connect(server.url))
        body = json.dumps(BOOK).encode()
        kept.sendall(request_head(len(body)) + body)
        first = read_response(kept)
        kept.sendall(b"POST /prediction HTTP/1.1\r\nhost: te")
        answers = {"silent": silent, "trickling": trickling}
        refused = {name: status_and_body(read_to_end(sock)) for name, sock in answers.items()}
        refused["keep-alive"] = status_and_body(read_to_end(kept))
        stop.set()
        thread.join(5)
    assert first.startswith(b"HTTP/1.1 200 ")
    for status, headers, detail in refused.values():
        assert status == 408
        assert headers["connection"] == "close"
        assert detail == {
            "detail": "the request headers did not arrive within 1 s (NEWSAPI_HEADER_TIMEOUT)"
        }
    ordinary = httpx.post(f"{server.url}/prediction", json=BOOK)  # the server goes on
    assert ordinary.status_code == 200
    assert server.log().count("\n") < 10  # no line per refused connection
    scrape = httpx.get(f"{server.url}/metrics").text
    assert metric(scrape, "newsapi_header_timeouts_total") == 3  # counted, each once


def test_a_crowd_trickling_large_bodies_holds_at_most_the_body_budget(
    start_server: Callable[..., Server], tiny_model: Artifact
) -> None:
    """40 clients each send an 8 MiB body but its last byte (the issue's attack, smaller):
    without a budget the worker would hold 320 MiB for as long as they like. With a 16 MiB
    budget, two of them fill it, every other body is refused, and small requests go on."""
    budget = 16 * MiB
    server = start_server(
        tiny_model.path, NEWSAPI_BODY_BUFFER_BYTES=str(budget), NEWSAPI_BODY_TIMEOUT="600"
    )
    pid = server.process.pid
    httpx.post(f"{server.url}/prediction", json=BOOK)  # warm
    before = rss_bytes(pid)
    length = 8 * MiB - 1
    payload = b"x" * (length - 1)

    def held() -> float:
        return metric(httpx.get(f"{server.url}/metrics").text, "newsapi_request_body_bytes_held")

    def holding(bodies: int) -> bool:
        return held() == bodies * (length - 1)

    def attack(sock: socket.socket) -> None:
        # blocks while the server holds it; fails when it refuses and closes
        with contextlib.suppress(OSError):
            sock.sendall(request_head(length) + payload)

    with ExitStack() as stack:
        threads = []
        for holders in (1, 2):  # two bodies fill the budget, one after the other
            sock = stack.enter_context(connect(server.url))
            threads.append(threading.Thread(target=attack, args=(sock,), daemon=True))
            threads[-1].start()
            wait_for(partial(holding, holders), what=f"{holders} bodies held")
        # a client sends the start of a large body, then listens: refused at once
        probe = stack.enter_context(connect(server.url))
        probe.sendall(request_head(length) + b"x" * 1024)
        status, headers, detail = status_and_body(read_to_end(probe))
        crowd = [stack.enter_context(connect(server.url)) for _ in range(38)]
        threads += [threading.Thread(target=attack, args=(s,), daemon=True) for s in crowd]
        for thread in threads[2:]:
            thread.start()
        peak = before
        for _ in range(20):  # while they try: memory, and ordinary clients
            peak = max(peak, rss_bytes(pid))
            assert httpx.post(f"{server.url}/prediction", json=BOOK).status_code == 200
            time.sleep(0.1)
        for thread in threads[2:]:
            thread.join(30)
            assert not thread.is_alive(), "an attacker was neither refused nor held"
        peak = max(peak, rss_bytes(pid))
        scrape = httpx.get(f"{server.url}/metrics").text
        assert held() == 2 * (length - 1)  # the two holders still hold theirs
    assert (status, headers["retry-after"], headers["connection"]) == (503, "1", "close")
    assert detail == {
        "detail": f"too many request bodies are arriving at once (more than {budget} bytes, "
        "NEWSAPI_BODY_BUFFER_BYTES); retry shortly"
    }
    assert metric(scrape, "newsapi_http_requests_total", status="503") == 1 + 38
    # at most the budget, plus uvicorn's read buffer (64 KiB) and one socket read per client
    assert peak - before <= budget + 40 * 512 * 2**10, (before, peak)
    # the holders gone, the budget comes back: a large body sent in 64 KiB pieces is read
    wait_for(lambda: held() == 0, what="the holders' bytes given back")
    texts = [f"rocket orbit {i} " + "satellite " * 2_000 for i in range(100)]
    content = json.dumps({"texts": texts}).encode()
    pieces = (content[i : i + 2**16] for i in range(0, len(content), 2**16))
    answer = httpx.post(
        f"{server.url}/predictions",
        content=pieces,
        headers={"content-type": "application/json"},
        timeout=60,
    )
    assert answer.status_code == 200
    assert len(answer.json()["categories"]) == 100
    assert "Traceback" not in server.log()


def test_a_request_held_open_delays_the_disk_writer_but_not_answers(
    start_server: Callable[..., Server], tiny_model: Artifact
) -> None:
    """The disk writer waits for a pause in the traffic (no request in flight, as the
    request layer counts them); a client that holds a request open delays it by at most
    LONGEST_WAIT, and answers never wait for it."""
    server = start_server(tiny_model.path, NEWSAPI_BODY_TIMEOUT="600")

    def written() -> float:
        scrape = httpx.get(f"{server.url}/metrics").text
        return metric(scrape, "newsapi_cache_disk_writes_total")

    with connect(server.url) as holder:
        holder.sendall(request_head(1_000) + b'{"text": ')  # in flight from now on
        answer = httpx.post(f"{server.url}/prediction", json={"text": "a new rocket orbit"})
        assert answer.status_code == 200
        time.sleep(0.5)
        assert written() == 0  # the answer waits in the queue: a request is in flight
        # the request is still open: the writer writes after LONGEST_WAIT (5 s) all the same
        wait_for(lambda: written() == 1, timeout=30, what="a write despite the held request")


def test_sigterm_waits_at_most_the_graceful_timeout_for_trickling_clients(
    tiny_model: Artifact, tmp_path: Path
) -> None:
    """Clients trickling a body a byte at a time would keep a server from stopping for as
    long as they like (here the body limit is 600 s); ``newsapi serve`` stops after its
    graceful timeout, with one line about the requests it gave up on."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "NEWSAPI_MODEL_PATH": str(tiny_model.path),
        "NEWSAPI_CACHE_DIR": str(tmp_path / "cache"),
        "NEWSAPI_BODY_TIMEOUT": "600",
    }
    log_path = tmp_path / "server.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [str(Path(sys.executable).parent / "newsapi"), "serve", "--port", str(port),
             "--graceful-timeout", "2"],
            env=env, stdout=log, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
    stop = threading.Event()
    try:
        wait_for(lambda: _ready(url), timeout=60, what="the server")
        trickling = [connect(url) for _ in range(5)]

        def trickle(sock: socket.socket) -> None:
            sock.sendall(request_head(1_000))
            while not stop.wait(0.3):
                try:
                    sock.send(b" ")
                except OSError:  # the server closed the connection
                    return

        threads = [threading.Thread(target=trickle, args=(s,), daemon=True) for s in trickling]
        for thread in threads:
            thread.start()
        holder = connect(url)  # sends the start of its body, then listens
        holder.sendall(request_head(1_000) + b'{"text": ')
        assert httpx.post(f"{url}/prediction", json=BOOK).status_code == 200
        time.sleep(1)  # every trickling body is being read
        process.send_signal(signal.SIGTERM)
        try:
            code = process.wait(timeout=30)  # a bound: unbounded, this is 600 s
        except subprocess.TimeoutExpired:
            pytest.fail("newsapi serve did not stop within 30 s of SIGTERM")
        told = status_and_body(read_to_end(holder))
    finally:
        stop.set()
        if process.poll() is None:
            process.kill()
            process.wait()
    text = log_path.read_text()
    assert code in CLEAN_EXIT, text[-3000:]
    assert "Cancel 6 running task(s), timeout graceful shutdown exceeded" in text, text[-3000:]
    status, headers, detail = told
    assert (status, headers["connection"]) == (503, "close")
    assert detail == {"detail": "the server is shutting down"}
    assert "Traceback" not in text, text[-3000:]


def _ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/readyz", timeout=1).status_code == 200
    except httpx.TransportError:
        return False
