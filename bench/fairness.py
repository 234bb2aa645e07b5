"""The fairness scenario: single texts while two clients send big batches.

newsapi (1 worker) is measured with ``wrk`` sending unique single texts to ``/prediction``,
first alone ("unloaded"), then while two clients keep sending ``/predictions`` batches of
2,000 unique texts of 4,000 characters each ("loaded"). Targets: under the batches, single
texts keep at least half their unloaded requests/s, their p50 stays within 5x the unloaded
p50, and every batch client still gets answers.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from bench import texts
from bench.load import Scenario, run_wrk
from bench.servers import HOST, Server

BATCH_TEXTS = 2000
TEXT_CHARS = 4000
CLIENTS = 2
BATCH_TIMEOUT = 120.0


def long_texts(nonce: str, client: int, count: int, size: int, chars: int) -> list[str]:
    """``size`` distinct texts of about ``chars`` characters: short messages joined."""
    pool = texts.batch(nonce, 200, stream=client)
    body = " ".join(pool)
    while len(body) < chars:
        body += " " + body
    return [f"(batch {nonce}-{client}-{count}-{i}) {body[i % 97 : i % 97 + chars]}"
            for i in range(size)]  # fmt: skip


@dataclass
class BatchClients:
    """``CLIENTS`` threads, each sending big batches back to back until stopped."""

    port: int
    size: int
    chars: int
    nonce: str = field(default_factory=texts.new_nonce)
    completed: list[int] = field(default_factory=lambda: [0] * CLIENTS)
    seconds: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    sent: threading.Event = field(default_factory=threading.Event)
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)

    def start(self) -> None:
        """Start sending; returns when both clients have a batch on its way."""
        ready = [threading.Event() for _ in range(CLIENTS)]
        for client in range(CLIENTS):
            thread = threading.Thread(target=self._send, args=(client, ready[client]))
            thread.start()
            self._threads.append(thread)
        for event in ready:
            event.wait(60)

    def stop(self) -> None:
        """Stop after the batches in flight (each client's last answer is waited for)."""
        self._stop.set()
        for thread in self._threads:
            thread.join(BATCH_TIMEOUT)

    def _send(self, client: int, ready: threading.Event) -> None:
        count = 0
        while not self._stop.is_set():
            count += 1
            body = json.dumps(
                {"texts": long_texts(self.nonce, client, count, self.size, self.chars)}
            ).encode()
            conn = http.client.HTTPConnection(HOST, self.port, timeout=BATCH_TIMEOUT)
            began = time.perf_counter()
            try:
                conn.request("POST", "/predictions", body, {"Content-Type": "application/json"})
                ready.set()
                response = conn.getresponse()
                answer = response.read()
                if response.status != 200 or len(json.loads(answer)["categories"]) != self.size:
                    self.errors.append(f"client {client}: {response.status} {answer[:200]!r}")
                else:
                    self.completed[client] += 1
                    self.seconds.append(time.perf_counter() - began)
            except (OSError, ValueError, KeyError) as exc:
                self.errors.append(f"client {client}: {exc!r}")
                ready.set()
            finally:
                conn.close()


def measure(
    wrk: str, server: Server, *, connections: int, seconds: int, warmup: int, threads: int,
    batch_texts: int = BATCH_TEXTS, text_chars: int = TEXT_CHARS,
) -> dict[str, Any]:  # fmt: skip
    """Unloaded, then loaded single-text runs against ``server``; JSON-ready figures."""
    singles = Scenario("unique", "unique.lua", "/prediction")

    def wrk_run(duration: int) -> Any:
        return run_wrk(wrk, server.port, singles, connections=connections, seconds=duration,
                       threads=threads, nonce=texts.new_nonce())  # fmt: skip

    if warmup:
        wrk_run(warmup)
    unloaded = wrk_run(seconds)
    clients = BatchClients(server.port, batch_texts, text_chars)
    clients.start()
    try:
        before = list(clients.completed)
        loaded = wrk_run(seconds)
        during = [after - b for after, b in zip(clients.completed, before, strict=True)]
    finally:
        clients.stop()
    return {
        "connections": connections,
        "batch_texts": batch_texts,
        "text_chars": text_chars,
        "unloaded": unloaded.as_dict(),
        "loaded": loaded.as_dict(),
        "batches_completed_during": during,
        "batches_completed": clients.completed,
        "batch_seconds_max": max(clients.seconds, default=None),
        "batch_errors": clients.errors,
    }
