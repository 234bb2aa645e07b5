"""``newsapi serve``: check the promoted model once, then run uvicorn's workers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from newsapi.cli.common import fail, settings
from newsapi.errors import NewsapiError
from newsapi.settings import ServerSettings


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
def serve(
    host: str,
    port: int,
    workers: int,
    graceful_timeout: int,
    keep_alive_timeout: int,
    limit_concurrency: int,
) -> None:
    """Check the promoted model, then serve the API with uvicorn.

    The check runs once before any worker starts, so a bad artifact fails the command (one
    line, exit 3) whatever the number of workers. Every option's default comes from the
    environment (see the configuration reference)."""
    import uvicorn

    from newsapi.store.served import load_served

    config = settings()
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
        http="newsapi.http.connections:HeaderTimeoutProtocol",  # 408 for headers that never end
        timeout_worker_healthcheck=config.server.worker_healthcheck_timeout,
        access_log=False,
    )
