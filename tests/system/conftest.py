"""Fixtures of the system tests: ``newsapi serve`` as a user starts it, a real Dask cluster for
the modules that score or sweep on one, and a real browser that reaches only this machine."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from newsapi.model.artifact import Artifact
from tests.support import DaskCluster, Server
from tests.support import dask_cluster as start_dask_cluster
from tests.support.serve_command import start_serve

if TYPE_CHECKING:
    from tests.support.browsers import Browser


@pytest.fixture
def serve(tmp_path: Path, tiny_model: Artifact) -> Iterator[Callable[..., Server]]:
    """Start ``newsapi serve *args`` on the tiny model (``env``: more variables); every server
    stopped at the end."""
    started: list[Server] = []

    def start(*args: str, **env: str) -> Server:
        values = {
            "NEWSAPI_MODEL_PATH": str(tiny_model.path),
            "NEWSAPI_CACHE_DIR": str(tmp_path / "cache"),
            **env,
        }
        server = start_serve(tmp_path, values, *args)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture(scope="module")
def dask_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DaskCluster]:
    """A ``dask scheduler`` and two single-threaded ``dask worker`` processes, one cluster per
    test module (:func:`tests.support.clusters.dask_cluster`)."""
    with start_dask_cluster(tmp_path_factory.mktemp("dask")) as cluster:
        yield cluster


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Browser]:
    """Debian's Chromium, a fresh profile, reaching 127.0.0.1 only
    (:func:`tests.support.browsers.local_browser`)."""
    from tests.support.browsers import local_browser

    with local_browser(tmp_path / "chromium-profile") as seen:
        yield seen
