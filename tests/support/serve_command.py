"""``newsapi serve`` as a user starts it: the console script, on a free port, as a
:class:`~tests.support.servers.Server`."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.support.commands import NEWSAPI
from tests.support.files import ROOT
from tests.support.servers import Server, free_port, wait_ready


def start_serve(
    tmp_path: Path, env: dict[str, str], *args: str, port: int | None = None, ready: bool = True
) -> Server:
    """Start ``newsapi serve --port <port> *args`` (a free port unless given) with ``env``
    added to the environment, its output in a log file; waits until ``/readyz`` answers
    unless ``ready`` is false. The caller stops it (:meth:`Server.stop`)."""
    port = port or free_port()
    log_path = tmp_path / f"serve-{port}.log"
    with log_path.open("w") as handle:
        process = subprocess.Popen(
            [NEWSAPI, "serve", "--port", str(port), *args], cwd=ROOT,
            env={**os.environ, **env}, stdout=handle, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
    server = Server(process, f"http://127.0.0.1:{port}", log_path, env)
    if ready:
        wait_ready(server)
    return server
