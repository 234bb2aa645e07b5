"""What every ``newsapi`` command shares: the command group, its options and its output."""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from pydantic import ValidationError

from newsapi.errors import NewsapiError
from newsapi.settings import Settings, get_settings
from newsapi.store.catalog import ModelStore, StoredModel

RELOAD_HINT = (
    "a running server picks it up with `POST /admin/reload` or by itself when started with "
    "NEWSAPI_RELOAD_WATCH=true"
)


class Commands(click.Group):
    """The ``newsapi`` group: any failure a user can act on is one line and exit 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except NewsapiError as exc:
            click.echo(f"newsapi: {runnable(str(exc))}", err=True)
            ctx.exit(1)


def invoked_as() -> str:
    """The command to type for ``newsapi`` from where the user stands: ``newsapi`` when that
    name on PATH is this very script (an activated ``.venv``, an installed tool), else the path
    it was started by, e.g. ``.venv/bin/newsapi`` (as ``make`` starts it), relative when it
    lies below the current folder."""
    script = Path(sys.argv[0])
    if script.name != "newsapi" or not script.is_file():  # python -c or -m, or in-process
        return "newsapi"
    found = shutil.which(script.name)
    if found and Path(found).resolve() == script.resolve():
        return script.name
    absolute = script.absolute()
    try:
        below = absolute.relative_to(Path.cwd()).as_posix()
    except ValueError:
        return str(absolute)
    return below if "/" in below else f"./{below}"  # a bare name would be looked up on PATH


def hint(arguments: str) -> str:
    """A command to run next, quoted, in the form that works here: ``hint("promote 1a2b")``."""
    return f"`{invoked_as()} {arguments}`"


def runnable(message: str) -> str:
    """``message`` with every quoted ``newsapi ...`` command in the form that works here
    (the layers below the command line name their commands plainly)."""
    prefix = invoked_as()
    return message if prefix == "newsapi" else message.replace("`newsapi ", f"`{prefix} ")


def settings() -> Settings:
    """The environment's settings; a bad ``NEWSAPI_*`` value is one line and exit 2."""
    try:
        return get_settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        name = "NEWSAPI_" + str(first["loc"][-1]).upper() if first["loc"] else "NEWSAPI_*"
        raise fail(f"{name}: {first['msg']}", code=2) from None


def artifacts_option(command: Callable[..., Any]) -> Callable[..., Any]:
    """``--artifacts DIR`` (default: NEWSAPI_ARTIFACTS_DIR, else ``artifacts/``)."""
    return click.option(
        "--artifacts",
        type=click.Path(path_type=Path, file_okay=False),
        default=lambda: settings().training.artifacts_dir,
        show_default="NEWSAPI_ARTIFACTS_DIR, else artifacts",
        help="the artifacts folder: promoted model, store (models/), index.html",
    )(command)


def fail(message: str, code: int = 1) -> click.exceptions.Exit:
    """Print one line on stderr; the caller raises the returned exit."""
    click.echo(f"newsapi: {runnable(message)}", err=True)
    return click.exceptions.Exit(code)


def open_store(artifacts: Path) -> ModelStore:
    return ModelStore(artifacts)


def run_options(
    parameter_help: str, *, promote: bool, promote_help: str
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The options of a command that runs notebooks: ``-p``, ``-y``, ``--promote``,
    ``--data-home``, ``--notebooks`` and ``--artifacts``."""
    options: list[Any] = [
        click.option(
            "-p", "--parameter", "parameter", nargs=2, multiple=True, metavar="NAME VALUE",
            help=parameter_help,
        ),
        click.option(
            "-y", "--yaml", "yaml_text", multiple=True, metavar="YAML",
            help="parameters as a YAML mapping",
        ),
        click.option(
            "--promote/--no-promote", default=promote, show_default=True, help=promote_help
        ),
        click.option(
            "--data-home", type=click.Path(path_type=Path),
            default=lambda: settings().training.data_home,
            help="folder of scikit-learn's corpus cache "
            "(default: NEWSAPI_DATA_HOME, then SCIKIT_LEARN_DATA)",
        ),
        click.option(
            "--notebooks", type=click.Path(path_type=Path),
            default=lambda: settings().training.notebooks_dir,
            help="the project's notebooks folder (default: NEWSAPI_NOTEBOOKS_DIR, else the "
            "clone's notebooks/)",
        ),
        artifacts_option,
    ]  # fmt: skip

    def apply(command: Callable[..., Any]) -> Callable[..., Any]:
        for option in reversed(options):
            command = option(command)
        return command

    return apply


def resolve(artifacts: Path, version: str) -> StoredModel:
    entry = open_store(artifacts).resolve(version)
    entry.verify()
    return entry


def score(value: Any) -> str:
    return f"{value:.4f}" if isinstance(value, int | float) else "-"


def signed(value: Any) -> str:
    return f"{value:+.4f}" if isinstance(value, int | float) else "-"


def short(value: Any) -> str:
    text = json.dumps(value)
    return text if len(text) <= 24 else text[:21] + "..."
