"""The caches under attack, with a real server over real HTTP: long unique texts keep the
worker's memory and the disk folder within their byte bounds; a read-only cache folder is
logged once. ``make attack`` runs the attack for 60 s; ``make test`` for 10 s."""

from __future__ import annotations

import itertools
import os
import random
import shlex
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from newsapi.model.artifact import Artifact
from newsapi.serving.cache.disk import ENTRY_DISK_BYTES
from tests.support import (
    ROOT,
    Server,
    disk_usage,
    free_port,
    metric,
    rss_bytes,
    wait_for,
    wait_ready,
)

pytestmark = pytest.mark.server
MiB = 2**20
WORDS = "rocket orbit launch recipe oven flour football goal match the of and".split()  # noqa: SIM905


def long_texts(seed: int) -> Callable[[int], str]:
    """The n-th attack text: ~90,000 characters, unique, ASCII words or emoji in turns."""
    rng = random.Random(seed)
    ascii_body = " ".join(rng.choice(WORDS) for _ in range(18_000))[:89_900]
    emoji_body = "".join(chr(0x1F600 + rng.randrange(80)) for _ in range(89_900))

    def text(n: int) -> str:
        return f"{seed}-{n} " + (ascii_body if n % 2 else emoji_body)

    return text


@pytest.mark.attack
def test_long_unique_texts_stay_within_the_byte_bounds(
    start_server: Callable[..., Server], tiny_model: Artifact, tmp_path: Path
) -> None:
    seconds = float(os.environ.get("NEWSAPI_ATTACK_SECONDS", "10"))
    memory, queue, disk, body = 256 * 2**10, 256 * 2**10, 1 * MiB, 1 * MiB
    server = start_server(
        tiny_model.path,
        NEWSAPI_MEMORY_CACHE_BYTES=str(memory),
        NEWSAPI_CACHE_WRITE_QUEUE_BYTES=str(queue),
        NEWSAPI_CACHE_BYTES_LIMIT=str(disk),
        NEWSAPI_MAX_BODY_BYTES=str(body),
        NEWSAPI_CACHE_WRITE_BUDGET="0.5",
    )
    pid = server.process.pid  # one worker: uvicorn's own process
    httpx.post(f"{server.url}/prediction", json={"text": "warm up"}).raise_for_status()
    started = rss_bytes(pid)
    # what the configuration allows on top of the start-up size: both cache tiers, and the
    # working memory of the request on each of the two connections: its body (at most the
    # body limit) as bytes, as a str, and what the model makes of it (tokens, features),
    # counted as four times the body limit
    bound = started + memory + queue + 2 * 4 * body
    cache = tmp_path / "cache"
    stop, sampled = threading.Event(), threading.Event()
    samples: list[tuple[int, int]] = []
    statuses: list[int] = []
    counter = itertools.count()

    def attack(seed: int) -> None:
        text = long_texts(seed)
        with httpx.Client(base_url=server.url, timeout=30) as http:
            while not stop.is_set():
                response = http.post("/prediction", json={"text": text(next(counter))})
                statuses.append(response.status_code)

    def sample() -> None:
        while not sampled.is_set():
            samples.append((rss_bytes(pid), disk_usage(cache)))
            time.sleep(0.1)

    def settled() -> bool:  # every answer written or dropped (the writer waits for quiet)
        text = httpx.get(f"{server.url}/metrics").text
        handled = metric(text, "newsapi_cache_disk_writes_total") + metric(
            text, "newsapi_cache_disk_writes_dropped_total"
        )
        return handled >= len(statuses)

    threads = [threading.Thread(target=attack, args=(seed,)) for seed in (1, 2)]
    sampler = threading.Thread(target=sample)
    for thread in [*threads, sampler]:
        thread.start()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join()
    wait_for(settled, timeout=60, what="the writer to drain its queue")  # still sampling
    sampled.set()
    sampler.join()
    peak_rss = max(rss for rss, _ in samples)
    peak_disk = max(size for _, size in samples)
    text = httpx.get(f"{server.url}/metrics").text
    written = metric(text, "newsapi_cache_disk_writes_total")
    print(
        f"{len(statuses)} requests in {seconds:.0f} s; RSS {started / MiB:.1f} MiB at start, "
        f"peak {peak_rss / MiB:.1f} MiB (bound {bound / MiB:.1f}); disk peak "
        f"{peak_disk / 2**10:.0f} KiB (limit {disk / 2**10:.0f}); {written:.0f} entries written"
    )
    assert set(statuses) == {200}
    assert len(statuses) > 5 * seconds  # the attack did arrive
    assert written * ENTRY_DISK_BYTES > disk  # more than fits: trimmed meanwhile
    assert peak_rss <= bound
    assert peak_disk <= 1.25 * disk
    assert "Traceback" not in server.log()


def launch_on_read_only_folder(tmp_path: Path, model: Path, folder: Path) -> Server:
    """uvicorn with its cache folder read-only: a read-only bind mount in a mount namespace
    of its own when run as root (root writes through permissions), else mode 0555."""
    # a store that exists (joblib opens it without complaint) and cannot take a new entry:
    # every write fails, each with joblib's own warning naming the entry
    (folder / "joblib" / "newsapi" / "predictions").mkdir(parents=True)
    (folder / "stale").write_text("an entry left from before")
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "newsapi.app:app", "--host", "127.0.0.1",
               "--port", str(port), "--no-access-log"]  # fmt: skip
    if os.geteuid() == 0:
        mount = shlex.quote(str(folder))
        script = (
            f"mount --bind {mount} {mount} && mount -o remount,bind,ro {mount} && "
            f"exec {shlex.join(command)}"
        )
        command = ["unshare", "-m", "sh", "-c", script]
    else:
        folder.chmod(0o555)
    env = {**os.environ, "NEWSAPI_MODEL_PATH": str(model), "NEWSAPI_CACHE_DIR": str(folder)}
    log_path = tmp_path / "server.log"
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=log_path.open("w"), stderr=subprocess.STDOUT, text=True
    )
    return Server(process, f"http://127.0.0.1:{port}", log_path)


def test_a_read_only_cache_folder_is_logged_once(tiny_model: Artifact, tmp_path: Path) -> None:
    folder = tmp_path / "cache"
    server = launch_on_read_only_folder(tmp_path, tiny_model.path, folder)
    try:
        wait_ready(server)
        with httpx.Client(base_url=server.url) as http:
            for i in range(200):
                response = http.post("/prediction", json={"text": f"rocket orbit {i}"})
                assert response.json() == {"category": "space"}
            time.sleep(1.5)  # the writer tries (and fails) meanwhile
            text = http.get("/metrics").text
    finally:
        server.stop()
    log = server.log()
    print(log)
    faults = sum(
        metric(text, "newsapi_cache_faults_total", kind=kind) for kind in ("write", "unavailable")
    )
    assert faults >= 2  # counted every time...
    assert log.count("disk cache fault") <= 2  # ...logged once per kind (at most two kinds)
    assert len(log.splitlines()) < 15  # no warning per entry
    assert "Unable to cache" not in log
    assert "Traceback" not in log
    assert (folder / "stale").exists()
