"""Two replicas of the image behind HAProxy (deploy/haproxy/haproxy.cfg), under a steady load
through the balancer: a promotion on the shared store reaches both, a killed replica is
retried around, marked down and rejoins, and a rolling replacement drains what is in flight,
each with zero failed requests and every answer from the model its X-Model-Version names.

Marker ``image``: `make image-test` runs these with tests/deploy/test_image.py (HAProxy from
Debian's package, `make container-tools`)."""

from __future__ import annotations

import asyncio
import functools
import json
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from newsapi.store.catalog import ModelStore
from tests.support import Traffic, answered_by, newsapi, wait_for
from tests.support.balancer import Balancer, start_balancer
from tests.support.containers import exit_code, launch_container, podman, wait_container
from tests.support.renamed import store_renamed
from tests.support.servers import free_port
from tests.support.sockets import connect, parse, read_response

pytestmark = [pytest.mark.image, pytest.mark.timeout(900)]

# the replicas poll the promoted model's manifest this often (NEWSAPI_RELOAD_POLL_INTERVAL)
POLL_SECONDS = 0.5
# both replicas serve a promoted model within this bound: the poll, then loading a tiny model
# on a busy 2-core machine
PROMOTION_BOUND = 10.0
# `podman stop --time`: SIGTERM, then SIGKILL after this; above NEWSAPI_GRACEFUL_TIMEOUT (10 s)
STOP_SECONDS = 15


@dataclass
class Replicas:
    """Replicas ``a`` and ``b`` of the image on two host ports, sharing one store (mounted
    read-only, watched), behind HAProxy."""

    image: str
    store: ModelStore
    versions: dict[str, str]  # model version: the suffix of its categories
    ports: dict[str, int]
    names: dict[str, str] = field(default_factory=dict)  # the container now serving each
    every: list[str] = field(default_factory=list)  # every container started, to remove
    balancer: Balancer | None = None

    def url(self, server: str) -> str:
        return f"http://127.0.0.1:{self.ports[server]}"

    def launch(self, server: str) -> float:
        name = f"newsapi-replica-{os.getpid()}-{server}{len(self.every)}"
        self.names[server] = name
        self.every.append(name)
        return launch_container(
            self.image, name, self.ports[server], "--volume", f"{self.store.root}:/models:ro",
            "--env", "NEWSAPI_RELOAD_WATCH=true",
            "--env", f"NEWSAPI_RELOAD_POLL_INTERVAL={POLL_SECONDS}",
        )  # fmt: skip

    def start(self, server: str) -> None:
        started = self.launch(server)
        wait_container(self.names[server], self.ports[server], started)

    @property
    def lb(self) -> Balancer:
        assert self.balancer is not None
        return self.balancer


@pytest.fixture
def replicas(image: str, tmp_path: Path) -> Iterator[Replicas]:
    store = ModelStore(tmp_path / "store")
    old = store_renamed(store, "", 0.7)
    new = store_renamed(store, ".v2", 0.3)
    store.promote(old.version)
    found = Replicas(image, store, {old.version: "", new.version: ".v2"},
                     {"a": free_port(), "b": free_port()})  # fmt: skip
    try:
        started = {server: found.launch(server) for server in ("a", "b")}
        for server, at in started.items():
            wait_container(found.names[server], found.ports[server], at)
        found.balancer = start_balancer(
            f"127.0.0.1:{found.ports['a']}", f"127.0.0.1:{found.ports['b']}",
            tmp_path / "haproxy.log",
        )  # fmt: skip
        yield found
    finally:
        if found.balancer is not None:
            print(f"\nHAProxy's log:\n{found.balancer.log()[-3000:]}")
            found.balancer.stop()
        for name in found.every:
            podman("rm", "--force", "--time", "0", name, check=False)


def serves(url: str, version: str) -> bool:
    return bool(httpx.get(f"{url}/model", timeout=5).json()["model_version"] == version)


def test_a_promotion_reaches_both_replicas_with_no_failed_request(replicas: Replicas) -> None:
    old, new = replicas.versions
    took: list[float] = []

    def promote() -> None:
        done = newsapi("promote", new, "--artifacts", str(replicas.store.root))
        assert done.returncode == 0, done.stderr
        promoted = time.monotonic()
        for url in (replicas.url("a"), replicas.url("b")):
            wait_for(functools.partial(serves, url, new), timeout=PROMOTION_BOUND,
                     what=f"{url} serving {new}")  # fmt: skip
        took.append(time.monotonic() - promoted)

    traffic = Traffic(replicas.lb.url, clients=6)
    asyncio.run(traffic.run_while(promote))
    print(f"both replicas serve {new} {took[0]:.2f} s after `newsapi promote` returned")
    assert answered_by(traffic, replicas.versions) == {old, new}


def test_a_killed_replica_is_retried_around_marked_down_and_rejoins(replicas: Replicas) -> None:
    lb = replicas.lb
    answered_when_back: list[int] = []

    def kill_then_start_again() -> None:
        podman("kill", replicas.names["a"])
        lb.wait_status("a", "DOWN")
        started = time.monotonic()
        podman("start", replicas.names["a"])
        wait_container(replicas.names["a"], replicas.ports["a"], started)
        lb.wait_status("a", "UP")
        answered_when_back.append(int(lb.stats()["a"]["hrsp_2xx"]))

    traffic = Traffic(lb.url, clients=6)
    asyncio.run(traffic.run_while(kill_then_start_again))
    answered_by(traffic, replicas.versions)
    stats = lb.stats()
    retried = int(stats["BACKEND"]["wretr"]) + int(stats["BACKEND"]["wredis"])
    print(f"HAProxy: {retried} retries and redispatches; a answered "
          f"{stats['a']['hrsp_2xx']}, b {stats['b']['hrsp_2xx']}")  # fmt: skip
    # the requests sent to the killed replica were sent again, to the other one
    assert retried > 0
    # once back, a answers its share again
    assert int(stats["a"]["hrsp_2xx"]) > answered_when_back[0]


def refused(url: str) -> bool:
    try:
        connect(url, timeout=1).close()
    except ConnectionRefusedError:
        return True
    return False


def stop_with_a_request_in_flight(replicas: Replicas, server: str) -> tuple[int, str]:
    """`podman stop` (SIGTERM) replica ``server`` while a request to it, sent directly, has
    only half its body sent; the rest is sent once the replica has closed its port (it is
    stopping). Returns that request's status and category."""
    body = json.dumps({"text": "rocket orbit launch nasa astronaut"}).encode()
    head = (f"POST /prediction HTTP/1.1\r\nHost: replica\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode()  # fmt: skip
    url = replicas.url(server)
    with connect(url) as held:
        held.sendall(head + body[:10])
        stopping = threading.Thread(
            target=podman, args=("stop", "--time", str(STOP_SECONDS), replicas.names[server])
        )
        stopping.start()
        try:
            wait_for(lambda: refused(url), timeout=30, what=f"replica {server} closing its port")
            held.sendall(body[10:])
            status, _, answer = parse(read_response(held))
        finally:
            stopping.join()
    return status, json.loads(answer).get("category", "")


def test_a_rolling_replacement_drains_requests_in_flight(replicas: Replicas) -> None:
    lb = replicas.lb
    drained: dict[str, tuple[int, str]] = {}
    stopped: dict[str, int] = {}

    def replace_one_then_the_other() -> None:
        for server in ("a", "b"):
            name = replicas.names[server]
            drained[server] = stop_with_a_request_in_flight(replicas, server)
            stopped[server] = exit_code(name)
            lb.wait_status(server, "DOWN")
            replicas.start(server)
            lb.wait_status(server, "UP")

    traffic = Traffic(lb.url, clients=6)
    asyncio.run(traffic.run_while(replace_one_then_the_other))
    print(f"in flight at SIGTERM: {drained}; exit codes {stopped}")
    answered_by(traffic, replicas.versions)
    # the request in flight when SIGTERM came was answered, and rightly
    assert drained == {"a": (200, "space"), "b": (200, "space")}
    # each ended on its own within the grace period (newsapi serve is the container's process
    # 1: it exits 0 once drained, or 143 where the SIGTERM it raises again ends it), not
    # killed by `podman stop` at the end of it (137)
    assert set(stopped.values()) <= {0, 143}, stopped
    stats = lb.stats()
    assert (stats["a"]["status"], stats["b"]["status"]) == ("UP", "UP")
