"""Containers of the project's image (the top-level Containerfile), built with `make image`
and run with podman as root with deploy/podman/containers.conf, on the host network."""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.support.files import ROOT

CONF = {"CONTAINERS_CONF": str(ROOT / "deploy" / "podman" / "containers.conf")}
# a bound, not a measurement: a container starts in seconds, slower on a busy 2-core machine
READY_TIMEOUT = 120.0


def podman(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["podman", *args], capture_output=True, text=True, check=check, env={**os.environ, **CONF}
    )


def make_image(tag: str, log: Path, **variables: str) -> str:
    """`make image IMAGE=<tag> ...`; fails with the end of its output."""
    arguments = [f"{name}={value}" for name, value in {"IMAGE": tag, **variables}.items()]
    started = time.monotonic()
    with log.open("w") as handle:
        done = subprocess.run(["make", "image", *arguments], cwd=ROOT, stdout=handle,
                              stderr=subprocess.STDOUT)  # fmt: skip
    if done.returncode != 0:
        pytest.fail(f"make image failed:\n{log.read_text()[-4000:]}")
    print(f"\n{tag}: built in {time.monotonic() - started:.0f} s")
    return tag


@dataclass
class Container:
    name: str
    url: str
    ready_after: float  # seconds from `podman run` (or `podman start`) to the first /readyz 200


def launch_container(image: str, name: str, port: int, *options: str) -> float:
    """`podman run --detach` a container of ``image`` serving on ``port`` of the host network,
    with a read-only root; returns when it was started (time.monotonic()), without waiting."""
    started = time.monotonic()
    podman("run", "--detach", "--name", name, "--network", "host", "--read-only",
           "--env", f"NEWSAPI_PORT={port}", *options, image)  # fmt: skip
    return started


def wait_container(name: str, port: int, started: float) -> Container:
    """Wait for the first /readyz 200 of container ``name`` on ``port``; fails with its log."""
    url = f"http://127.0.0.1:{port}"
    deadline = started + READY_TIMEOUT
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                return Container(name, url, time.monotonic() - started)
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    logs = podman("logs", name, check=False)
    pytest.fail(
        f"{name} not ready within {READY_TIMEOUT:.0f} s:\n{(logs.stdout + logs.stderr)[-3000:]}"
    )


def exit_code(name: str) -> int:
    """The exit code of a stopped container (not removed): 143 after SIGTERM, 137 after
    SIGKILL."""
    return int(podman("inspect", "--format", "{{.State.ExitCode}}", name).stdout.strip())
