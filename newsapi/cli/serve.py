"""``newsapi serve``: check the promoted model once, then run uvicorn's workers."""

from __future__ import annotations

import errno
import os
import shutil
import signal
import socket
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

import click

from newsapi.cli.common import fail, settings
from newsapi.errors import NewsapiError
from newsapi.serving.metrics_folder import MULTIPROCESS_ENV, server_folder
from newsapi.settings import ServerSettings, get_settings


def _default(name: str) -> Callable[[], Any]:
    """An option's default from the environment's settings (``NEWSAPI_<NAME>``)."""
    return lambda: getattr(settings().server, name)


def _shown(name: str) -> str:
    return f"NEWSAPI_{name.upper()}, else {ServerSettings.model_fields[name].default}"


@click.command()
@click.option("--host", default=_default("host"), show_default=_shown("host"))
@click.option("--port", default=_default("port"), show_default=_shown("port"), type=int)
@click.option(
    "--workers",
    default=_default("workers"),
    show_default=_shown("workers"),
    type=click.IntRange(min=1),
)
@click.option(
    "--graceful-timeout",
    default=_default("graceful_timeout"),
    show_default=_shown("graceful_timeout"),
    type=int,
    help="seconds SIGTERM waits for requests in flight before closing connections",
)
@click.option(
    "--keep-alive-timeout",
    default=_default("keep_alive_timeout"),
    show_default=_shown("keep_alive_timeout"),
    type=int,
    help="seconds an idle connection is kept open",
)
@click.option(
    "--limit-concurrency",
    default=_default("limit_concurrency"),
    show_default=_shown("limit_concurrency"),
    type=int,
    help="connections plus tasks at once per worker; beyond, 503",
)
@click.option(
    "--metrics-dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=_default("metrics_dir"),
    show_default=_shown("metrics_dir"),
    help="folder for the workers' shared metrics; this start gets its own folder <pid> in it",
)
@click.option(
    "--access-log/--no-access-log",
    default=_default("access_log"),
    show_default=_shown("access_log"),
    help="one log line per request: status, method, path, time, model version",
)
def serve(
    host: str,
    port: int,
    workers: int,
    graceful_timeout: int,
    keep_alive_timeout: int,
    limit_concurrency: int,
    metrics_dir: Path | None,
    access_log: bool,
) -> None:
    """Check the port and the promoted model, then serve the API with uvicorn.

    Both checks run once before any worker starts, so a port in use or a bad artifact fails
    the command (one line, exit 3) whatever the number of workers, before anything is
    loaded or written. Every option's default comes from the environment (see the
    configuration reference)."""
    import uvicorn

    from newsapi.store.served import load_served

    config = settings()
    problem = _cannot_listen(host, port)
    if problem:
        raise fail(f"cannot start: {problem}", code=3)
    # the workers (and, with one worker, this process) read these from the environment
    os.environ["NEWSAPI_ACCESS_LOG"] = "true" if access_log else "false"
    get_settings.cache_clear()
    own = None
    if metrics_dir is not None:
        own = metrics_dir / str(os.getpid())
        # set before anything imports prometheus_client, which picks its mode at import
        os.environ[MULTIPROCESS_ENV] = str(own)
        server_folder(metrics_dir, os.getpid())
        _remove_on_sigterm(own)
    try:
        try:
            _, note = load_served(
                config.model.model_path, allow_version_mismatch=config.model.allow_version_mismatch
            )
        except NewsapiError as exc:
            raise fail(f"cannot start: {exc}", code=3) from None
        if note:
            click.echo(f"newsapi: {note}", err=True)
        uvicorn.run(
            "newsapi.app:app",
            host=host,
            port=port,
            workers=workers,
            timeout_graceful_shutdown=graceful_timeout,
            timeout_keep_alive=keep_alive_timeout,
            limit_concurrency=limit_concurrency,
            http="newsapi.http.connections:HeaderTimeoutProtocol",  # 408: headers never end
            timeout_worker_healthcheck=config.server.worker_healthcheck_timeout,
            access_log=False,  # newsapi's own (--access-log) names the model version
        )
    finally:
        if own is not None:
            shutil.rmtree(own, ignore_errors=True)


def _cannot_listen(host: str, port: int) -> str | None:
    """Why uvicorn could not listen on ``host:port``, tried as it binds (SO_REUSEADDR), or
    None. Checked before the model loads: uvicorn binds after its start-up (with one
    worker), so a busy port failed only once everything was loaded."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return f"port {port} is in use; choose another with --port (make serve PORT=...)"
            return f"cannot listen on {host}:{port}: {exc.strerror or exc}"
    return None


def _remove_on_sigterm(folder: Path) -> None:
    """Remove this server's metrics folder when SIGTERM ends it.

    With one worker, uvicorn handles SIGTERM, shuts down, puts the previous handler back
    and raises the signal again: the process then ends without unwinding, so this handler
    removes the folder and ends it the same way (exit by SIGTERM)."""

    def remove_and_end(signum: int, frame: FrameType | None) -> None:
        shutil.rmtree(folder, ignore_errors=True)
        signal.signal(signum, signal.SIG_DFL)
        signal.raise_signal(signum)

    signal.signal(signal.SIGTERM, remove_and_end)
