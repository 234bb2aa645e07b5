"""Reliability under load with real servers: model reload without failed requests, cache
faults while serving, and the soak run (marked ``soak``; ``make soak`` runs it for 60 s)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from newsapi.model.artifact import Artifact, save_artifact
from newsapi.model.params import DEFAULTS
from newsapi.settings import MODEL_FILENAME
from newsapi.training.pipeline import build_pipeline
from tests.support import (
    Server,
    Traffic,
    answered_by,
    folder_bytes,
    metric,
    rss_bytes,
    tiny_corpus,
    wait_for,
    worker_pids,
)

pytestmark = pytest.mark.server
TOKEN = "reload-token-0123"


def renamed_model(path: Path, suffix: str) -> Artifact:
    """The tiny model with every category renamed, so an answer tells which model gave it."""
    corpus = tiny_corpus()
    pipeline = build_pipeline(DEFAULTS.replace(alpha=0.7)).fit(
        corpus.train_texts, corpus.train_labels
    )
    return save_artifact(pipeline, [f"{name}{suffix}" for name in corpus.target_names], path)


def test_reload_under_load_fails_no_request(
    start_server: Callable[..., Server], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "model" / MODEL_FILENAME
    old = renamed_model(path, "")
    server = start_server(path, NEWSAPI_ADMIN_TOKEN=TOKEN)
    auth = {"Authorization": f"Bearer {TOKEN}"}
    new: list[Artifact] = []
    reloads: list[httpx.Response] = []

    def retrain_and_reload() -> None:
        new.append(renamed_model(path, ".v2"))
        reloads.append(httpx.post(f"{server.url}/admin/reload", headers=auth))

    traffic = Traffic(server.url)
    asyncio.run(traffic.run_while(retrain_and_reload))
    assert reloads[0].status_code == 200
    assert reloads[0].json() == {
        "previous_version": old.model_version,
        "model_version": new[0].model_version,
        "changed": True,
    }
    seen = answered_by(traffic, {old.model_version: "", new[0].model_version: ".v2"})
    assert seen == {old.model_version, new[0].model_version}
    assert len(traffic.answers) > 100

    # a bad artifact is refused; the current model keeps serving
    path.write_bytes(b"not a model at all")
    refused = httpx.post(f"{server.url}/admin/reload", headers=auth)
    assert refused.status_code == 409
    assert new[0].model_version in refused.json()["detail"]
    assert str(tmp_path) not in refused.text  # no internal paths in answers
    after = httpx.post(f"{server.url}/prediction", json={"text": "rocket orbit"})
    assert after.headers["x-model-version"] == new[0].model_version
    assert TOKEN not in server.log()


def test_file_watch_reloads_by_itself(start_server: Callable[..., Server], tmp_path: Path) -> None:
    path = tmp_path / "model" / MODEL_FILENAME
    old = renamed_model(path, "")
    server = start_server(path, NEWSAPI_RELOAD_WATCH="true", NEWSAPI_RELOAD_POLL_INTERVAL="0.1")
    new: list[Artifact] = []
    traffic = Traffic(server.url, clients=6)

    def retrain() -> None:
        new.append(renamed_model(path, ".v2"))
        wait_for(
            lambda: (
                httpx.get(f"{server.url}/model").json()["model_version"] == new[0].model_version
            ),
            what="the watched reload",
        )

    asyncio.run(traffic.run_while(retrain))
    seen = answered_by(traffic, {old.model_version: "", new[0].model_version: ".v2"})
    assert seen == {old.model_version, new[0].model_version}


def test_cache_faults_under_load(
    start_server: Callable[..., Server], tiny_model: Artifact, tmp_path: Path
) -> None:
    # no memory tier and nothing computed on the event loop (which never reads the disk
    # tier): every request goes to the disk tier, where the faults are; and the writer
    # writes while requests run (by default it waits for a pause in the traffic)
    server = start_server(
        tiny_model.path,
        NEWSAPI_CACHE_WRITE_BUDGET="1.0",
        NEWSAPI_MEMORY_CACHE_SIZE="0",
        NEWSAPI_CACHE_WRITE_QUIET_MS="0",
        NEWSAPI_INLINE_MAX_CHARS="0",
    )
    cache = tmp_path / "cache"
    versions = {tiny_model.model_version: ""}

    def remove_folder() -> None:
        # renamed away first: the server may be writing into it at this very moment
        if cache.is_dir():
            gone = cache.with_name(f"gone-{time.monotonic_ns()}")
            cache.rename(gone)
            shutil.rmtree(gone)

    def pickles() -> list[Path]:
        # os.walk shrugs off folders the server removes while we look (rglob does not)
        return [Path(d, "output.pkl") for d, _, files in os.walk(cache) if "output.pkl" in files]

    def inject() -> None:
        wait_for(lambda: len(pickles()) > 20, what="disk entries")
        for entry in pickles():  # corrupt entries
            with contextlib.suppress(FileNotFoundError):
                entry.write_bytes(b"\x80\x04 not a pickle")
        time.sleep(0.3)
        remove_folder()  # the folder deleted
        time.sleep(0.3)
        while True:  # a file where the folder was: nothing can be written
            remove_folder()
            try:
                with cache.open("x") as handle:
                    handle.write("in the way")
                break
            except (FileExistsError, IsADirectoryError):
                continue
        time.sleep(0.3)
        cache.unlink()  # and back

    for _ in range(2):  # twice: each fault is logged once, counted every time
        traffic = Traffic(server.url, clients=4)
        asyncio.run(traffic.run_while(inject))
        answered_by(traffic, versions)
    text = httpx.get(f"{server.url}/metrics").text
    assert metric(text, "newsapi_cache_faults_total", kind="read") >= 1
    assert metric(text, "newsapi_cache_faults_total", kind="write") >= 2
    log = server.log()
    for kind in ("read", "write"):
        assert log.count(f"disk cache fault ({kind})") == 1
    assert "Traceback" not in log


# -- soak ---------------------------------------------------------------------------------------
def wrk(url: str, seconds: float, connections: int) -> str:
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{round(seconds)}s", "--timeout", "10s",
         "-s", str(Path(__file__).with_name("soak.lua")), url],
        capture_output=True, text=True, check=True,
        env={**os.environ, "SOAK_PREFIX": str(time.time_ns())},
    )  # fmt: skip
    return out.stdout


@pytest.mark.soak
def test_soak_two_workers_mixed_traffic(
    start_server: Callable[..., Server], tiny_model: Artifact, tmp_path: Path
) -> None:
    seconds = float(os.environ.get("NEWSAPI_SOAK_SECONDS", "10"))
    limit = 2 * 2**20
    server = start_server(
        tiny_model.path,
        workers=2,
        NEWSAPI_CACHE_BYTES_LIMIT=str(limit),
        NEWSAPI_CACHE_REDUCE_INTERVAL="1",
        NEWSAPI_CACHE_WRITE_BUDGET="0.5",
        # a memory tier that fills up during the warm-up: growth after it would be a leak,
        # not the (bounded) cache doing its job
        NEWSAPI_MEMORY_CACHE_SIZE="5000",
    )
    wrk(server.url, 3, 64)  # warm-up
    pids = worker_pids(server.process.pid)
    assert len(pids) == 2
    before = {pid: rss_bytes(pid) // 1024 for pid in pids}
    report = wrk(server.url, seconds, 64)
    after = {pid: rss_bytes(pid) // 1024 for pid in pids}
    print(report, "\nRSS KiB before/after:", before, after)
    assert "Non-2xx" not in report, report
    assert "Socket errors" not in report, report
    requests = int(re.search(r"(\d+) requests in", report).group(1))  # type: ignore[union-attr]
    assert requests > 1000
    for pid in pids:
        assert after[pid] < before[pid] * 1.2, (before, after)
    cache = tmp_path / "cache"
    wait_for(
        lambda: folder_bytes(cache) <= limit,
        timeout=10,
        what="the disk cache back within its limit",
    )
    assert server.stop() in {0, -15}
    assert "Traceback" not in server.log()
