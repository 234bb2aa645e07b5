"""The running API follows the store: promotions and rollbacks reach a real uvicorn that
watches the promoted pair, with zero failed requests and every answer consistent with its
``X-Model-Version``."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from newsapi.store.catalog import ModelStore
from tests.support import Server, Traffic, answered_by, wait_for
from tests.support.renamed import store_renamed

pytestmark = pytest.mark.server


def test_promote_and_rollback_reach_a_watching_server_with_no_failed_request(
    start_server: Callable[..., Server], tmp_path: Path
) -> None:
    store = ModelStore(tmp_path / "artifacts")
    old = store_renamed(store, "", 0.7)
    new = store_renamed(store, ".v2", 0.3)
    store.promote(old.version)
    server = start_server(
        store.served_path, NEWSAPI_RELOAD_WATCH="true", NEWSAPI_RELOAD_POLL_INTERVAL="0.1"
    )

    def serving(version: str) -> Callable[[], bool]:
        return lambda: httpx.get(f"{server.url}/model").json()["model_version"] == version

    def promote_then_roll_back() -> None:
        store.promote(new.version)
        wait_for(serving(new.version), what="the promoted model")
        store.rollback()
        wait_for(serving(old.version), what="the rolled-back model")

    traffic = Traffic(server.url, clients=6)
    asyncio.run(traffic.run_while(promote_then_roll_back))
    seen = answered_by(traffic, {old.version: "", new.version: ".v2"})
    assert seen == {old.version, new.version}
    assert [e["how"] for e in store.history()] == ["promote", "promote", "rollback"]


def test_a_replacement_worker_starts_on_the_last_good_promoted_model(tmp_path: Path) -> None:
    """Two real workers; the promoted file is truncated under them, then one is killed with
    SIGKILL: its replacement starts on the store's last good promoted model, says so, and the
    server as a whole keeps answering."""
    import os
    import signal
    import subprocess
    import sys

    from tests.support import free_port, metric

    store = ModelStore(tmp_path / "artifacts")
    good = store_renamed(store, "", 0.7)
    store.promote(good.version)
    port = free_port()
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    env = {
        **os.environ,
        "NEWSAPI_MODEL_PATH": str(store.served_path),
        "NEWSAPI_CACHE_DIR": str(tmp_path / "cache"),
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
        # uvicorn's supervisor waits this long on a worker killed while it pinged it (the
        # default, 60 s, is the bound below)
        "NEWSAPI_WORKER_HEALTHCHECK_TIMEOUT": "15",
    }
    log_path = tmp_path / "server.log"
    with log_path.open("w") as log:
        server = subprocess.Popen(
            [str(Path(sys.executable).parent / "newsapi"), "serve", "--workers", "2",
             "--port", str(port)],
            env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _ready(url), timeout=60, what="two workers")
        wait_for(lambda: len(_children(server.pid)) == 2, timeout=30, what="both workers")
        workers = _children(server.pid)
        store.served_path.write_bytes(store.served_path.read_bytes()[:100])  # truncated
        os.kill(workers[0], signal.SIGKILL)
        wait_for(
            lambda: len(set(_children(server.pid)) - {workers[0]}) == 2,
            timeout=60,
            what="a replacement worker",
        )
        wait_for(lambda: _ready(url), timeout=60, what="the replacement ready")
        infos: list[dict[str, object]] = []

        def replacement_answered() -> bool:  # connections spread unevenly over the workers
            infos.append(httpx.get(f"{url}/model").json())
            return infos[-1]["fallback"] is not None

        wait_for(replacement_answered, timeout=30, what="an answer from the replacement")
        notes = {info["fallback"] for info in infos}
        assert {info["model_version"] for info in infos} == {good.version}
        assert {info["store_entry"] for info in infos} == {f"models/{good.version}"}
        answers = [httpx.post(f"{url}/prediction", json={"text": "rocket orbit nasa"})
                   for _ in range(40)]  # fmt: skip
        assert {a.status_code for a in answers} == {200}
        assert {a.json()["category"] for a in answers} == {"space"}
        wait_for(
            lambda: httpx.get(f"{url}/readyz").json()["detail"].startswith("ready, degraded: "),
            timeout=30,
            what="the replacement's readiness detail",
        )
        scrape = httpx.get(f"{url}/metrics").text
        assert metric(scrape, "newsapi_model_fallback") == 1.0
        assert server.poll() is None  # the healthy worker and the parent kept going
        # "restored ..." when the replacement repaired the promoted pair itself, "serving ..."
        # when the file was still unusable as it loaded (seen once, on a loaded CI machine,
        # cause not pinned down): the same model is served and named either way
        served = f"the last good promoted model {good.version} from the store"
        assert served in " ".join(str(note) for note in notes)
        assert served in log_path.read_text(), log_path.read_text()[-3000:]
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/readyz", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def _children(pid: int) -> list[int]:
    """The worker processes of a uvicorn parent: its children but multiprocessing's helpers."""
    import subprocess

    out = subprocess.run(
        ["pgrep", "-a", "-P", str(pid)], capture_output=True, text=True, check=False
    )
    return [
        int(line.split()[0])
        for line in out.stdout.splitlines()
        if "resource_tracker" not in line and "forkserver" not in line
    ]
