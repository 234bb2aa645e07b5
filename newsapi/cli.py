"""``newsapi``: train, list, compare, promote and roll back models from the command line.

Every failure a user can act on ends with one line on stderr and a non-zero exit; nothing in the
store changes unless the command succeeded.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from newsapi.errors import NewsapiError
from newsapi.params import TrainingParameters, check_names, read_values
from newsapi.store import ModelStore, StoredModel

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
            click.echo(f"newsapi: {exc}", err=True)
            ctx.exit(1)


@click.group(cls=Commands, context_settings={"help_option_names": ["-h", "--help"]})
def app() -> None:
    """Train, compare, promote and roll back the newsgroups classifier."""


def artifacts_option(command: Callable[..., Any]) -> Callable[..., Any]:
    """``--artifacts DIR`` (default ``artifacts/``, or NEWSAPI_ARTIFACTS_DIR) on a command."""
    return click.option(
        "--artifacts",
        type=click.Path(path_type=Path, file_okay=False),
        default=Path("artifacts"),
        envvar="NEWSAPI_ARTIFACTS_DIR",
        show_default=True,
        help="the artifacts folder: promoted model, store (models/), index.html",
    )(command)


def fail(message: str, code: int = 1) -> click.exceptions.Exit:
    """Print one line on stderr; the caller raises the returned exit."""
    click.echo(f"newsapi: {message}", err=True)
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
            "--data-home", type=click.Path(path_type=Path), default=None,
            help="folder of scikit-learn's corpus cache "
            "(default: NEWSAPI_DATA_HOME, then SCIKIT_LEARN_DATA)",
        ),
        click.option(
            "--notebooks", type=click.Path(path_type=Path), default=None,
            envvar="NEWSAPI_NOTEBOOKS_DIR", help="the project's notebooks folder",
        ),
        artifacts_option,
    ]  # fmt: skip

    def apply(command: Callable[..., Any]) -> Callable[..., Any]:
        for option in reversed(options):
            command = option(command)
        return command

    return apply


# training ------------------------------------------------------------------------------------


@app.command()
@run_options(
    "a training parameter; VALUE is read as YAML (1e-2, true, null, [a, b])",
    promote=True,
    promote_help="serve the new model when done",
)
@click.option(
    "--index/--no-index", "refresh", default=True, show_default=True,
    help="refresh index.html when done (--no-index skips executing 04_compare, several "
    "seconds; `newsapi index` refreshes it later)",
)  # fmt: skip
def train(
    parameter: tuple[tuple[str, str], ...],
    yaml_text: tuple[str, ...],
    promote: bool,
    data_home: Path | None,
    notebooks: Path | None,
    artifacts: Path,
    refresh: bool,
) -> None:
    """Check the parameters, run 01_train and 02_evaluate with papermill, store the run,
    promote it (unless --no-promote) and refresh index.html (unless --no-index)."""
    from newsapi.notebook_runs import TrainingRun

    values = read_values(parameter, yaml_text)
    check_names(values)
    params = TrainingParameters.build(values)
    store = open_store(artifacts)
    run = TrainingRun(store, params, notebooks=notebooks, data_home=data_home)
    entry, reused = run.execute()
    previous = store.served_version()
    if promote:
        store.promote(entry.version)
    if refresh:
        run.refresh_index()
    where = entry.path / "notebooks"
    runs_page = (
        f"all runs in {artifacts / 'index.html'}"
        if refresh
        else "`newsapi index` refreshes the page of all runs"
    )
    click.echo(
        f"{'reused the stored' if reused else 'stored'} model {entry.version} "
        f"(accuracy {entry.manifest['metrics']['accuracy']:.4f}, macro-F1 "
        f"{entry.manifest['metrics']['macro_f1']:.4f}); notebooks in {where}, "
        f"{runs_page} (`make lab` opens JupyterLab)"
    )
    if promote:
        was = f" (was {previous})" if previous and previous != entry.version else ""
        click.echo(f"model {entry.version} is now promoted{was}; {RELOAD_HINT}")
    else:
        click.echo(f"model {entry.version} kept as a candidate; `newsapi promote {entry.version}`")


# the store -----------------------------------------------------------------------------------


@app.command()
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
@click.option(
    "--sort",
    type=click.Choice(["created_at", "accuracy", "macro_f1"]),
    default="created_at",
    show_default=True,
)
@artifacts_option
def runs(as_json: bool, sort: str, artifacts: Path) -> None:
    """One line per stored model, newest first; * marks the promoted one."""
    from newsapi.runs import runs_table

    rows = runs_table(open_store(artifacts), sort_by=sort)
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        raise fail(f"no stored models in {artifacts / 'models'}; train one with `newsapi train`")
    varying = [name for name in rows[0]["parameters"] if name != "classifier"]
    header = ["", "version", "created (UTC)", "classifier", *varying, "accuracy", "macro-F1"]
    table = [header]
    for row in rows:
        table.append(
            [
                "*" if row["promoted"] else "",
                row["version"],
                row["created_at"][:19].replace("T", " "),
                str(row["classifier"]),
                *(_short(row["parameters"][name]) for name in varying),
                _score(row["accuracy"]),
                _score(row["macro_f1"]),
            ]
        )
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    for line in table:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)))


@app.command()
@click.argument("version")
@artifacts_option
def show(version: str, artifacts: Path) -> None:
    """The manifest of one stored model, readable."""
    entry = _resolve(artifacts, version)
    manifest = entry.manifest
    metrics = manifest.get("metrics", {})
    lines = [
        f"model {entry.version}  ({entry.path})",
        f"created     {manifest.get('created_at')}",
        f"sha256      {manifest['sha256']}",
        f"promoted    {'yes' if entry.version == open_store(artifacts).served_version() else 'no'}",
        f"accuracy    {_score(metrics.get('accuracy'))}",
        f"macro-F1    {_score(metrics.get('macro_f1'))}",
        "parameters",
        *(f"  {k:<14}{json.dumps(v)}" for k, v in manifest.get("parameters", {}).items()),
        "per category (precision recall f1 support)",
        *(
            f"  {name:<28}{s['precision']:.4f} {s['recall']:.4f} {s['f1']:.4f} {s['support']}"
            for name, s in metrics.get("per_class", {}).items()
        ),
        "versions    " + ", ".join(f"{k} {v}" for k, v in manifest.get("versions", {}).items()),
        f"git commit  {manifest.get('git_commit')}",
    ]
    if "sweep" in manifest:
        sweep = manifest["sweep"]
        lines.append(f"sweep       {json.dumps(sweep, sort_keys=True)[:300]}")
    click.echo("\n".join(lines))


@app.command()
@click.argument("a")
@click.argument("b")
@artifacts_option
def compare(a: str, b: str, artifacts: Path) -> None:
    """Parameters that differ between A and B, and the change in the scores (B minus A)."""
    from newsapi.runs import compare as compare_entries

    first, second = _resolve(artifacts, a), _resolve(artifacts, b)
    result = compare_entries(first, second)
    click.echo(f"A = {result['a']}   B = {result['b']}")
    if result["parameters"]:
        click.echo("parameters that differ")
        for name, (va, vb) in result["parameters"].items():
            click.echo(f"  {name:<14}{json.dumps(va)} -> {json.dumps(vb)}")
    else:
        click.echo("same parameters")
    click.echo(f"{'':<30}{'A':>8}{'B':>8}{'B - A':>9}")
    for name, (va, vb, delta) in result["metrics"].items():
        click.echo(f"{name:<30}{_score(va):>8}{_score(vb):>8}{_signed(delta):>9}")
    for name, (va, vb, delta) in result["per_class_f1"].items():
        click.echo(f"{'F1 ' + name:<30}{_score(va):>8}{_score(vb):>8}{_signed(delta):>9}")


@app.command()
@click.argument("version")
@artifacts_option
def promote(version: str, artifacts: Path) -> None:
    """Serve a stored model (the served pair is replaced, the event logged)."""
    store = open_store(artifacts)
    previous = store.served_version()
    entry = store.promote(version)
    click.echo(f"model {entry.version} is now promoted (was {previous}); {RELOAD_HINT}")


@app.command()
@artifacts_option
def rollback(artifacts: Path) -> None:
    """Serve again the model promoted before the current one."""
    store = open_store(artifacts)
    previous = store.served_version()
    entry = store.rollback()
    click.echo(f"rolled back to model {entry.version} (was {previous}); {RELOAD_HINT}")


@app.command()
@artifacts_option
def index(artifacts: Path) -> None:
    """Execute 04_compare.ipynb over the store into <artifacts>/index.html."""
    from newsapi.notebook_runs import refresh_index

    page = refresh_index(open_store(artifacts))
    click.echo(f"runs page: {page}")


@app.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=click.IntRange(min=1))
@click.option(
    "--graceful-timeout",
    default=10,
    show_default=True,
    type=int,
    help="seconds SIGTERM waits for requests in flight before closing connections",
)
@click.option(
    "--keep-alive-timeout",
    default=5,
    show_default=True,
    type=int,
    help="seconds an idle connection is kept open",
)
@click.option(
    "--limit-concurrency",
    default=1000,
    show_default=True,
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
    line, exit 3) whatever the number of workers."""
    import uvicorn

    from newsapi.settings import get_settings
    from newsapi.store import load_served

    settings = get_settings()
    try:
        _, note = load_served(
            settings.model_path, allow_version_mismatch=settings.allow_version_mismatch
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
        http="newsapi.connections:HeaderTimeoutProtocol",  # 408 for headers that never end
        # uvicorn restarts a worker that is not ready within this time; its default (5 s) is
        # shorter than importing the stack and loading a model on a busy 2-core machine,
        # which made workers restart in a loop
        timeout_worker_healthcheck=60,
        access_log=False,
    )


def _resolve(artifacts: Path, version: str) -> StoredModel:
    entry = open_store(artifacts).resolve(version)
    entry.verify()
    return entry


def _score(value: Any) -> str:
    return f"{value:.4f}" if isinstance(value, int | float) else "-"


def _signed(value: Any) -> str:
    return f"{value:+.4f}" if isinstance(value, int | float) else "-"


def _short(value: Any) -> str:
    text = json.dumps(value)
    return text if len(text) <= 24 else text[:21] + "..."


def main() -> None:
    """Console-script entry point."""
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")  # quiet kernels under papermill
    app(prog_name="newsapi")


# sweeps --------------------------------------------------------------------------------------


@app.command()
@run_options(
    "a sweep parameter (grid, search, n_iter, cv, scoring, n_jobs, dask_scheduler) or a "
    "fixed data parameter; VALUE is read as YAML, e.g. -p grid '{alpha: [0.01, 0.1]}'",
    promote=False,
    promote_help="serve the winner when done",
)
def sweep(
    parameter: tuple[tuple[str, str], ...],
    yaml_text: tuple[str, ...],
    promote: bool,
    data_home: Path | None,
    notebooks: Path | None,
    artifacts: Path,
) -> None:
    """Check the sweep, cross-validate its grid in 03_sweep with papermill, store the winner
    with the executed notebook, promote it (with --promote) and refresh index.html."""
    from newsapi.notebook_runs import refresh_index
    from newsapi.sweep_run import SweepRun
    from newsapi.sweep_run import read_values as read_sweep_values

    store = open_store(artifacts)
    run = SweepRun(
        store,
        read_sweep_values(list(parameter), list(yaml_text)),
        notebooks=notebooks,
        data_home=data_home,
    )
    result = run.execute()
    previous = store.served_version()
    if promote:
        store.promote(result.entry.version)
    refresh_index(store, run.notebooks, progress=True)
    version = result.entry.version
    where = result.entry.path / "notebooks" / "03_sweep.html"
    reused = " (already stored by an earlier run; this sweep's notebook is filed beside it)"
    if promote:
        was = f" (was {previous})" if previous and previous != version else ""
        then = f"model {version} is now promoted{was}; {RELOAD_HINT}"
    else:
        then = f"promote it with `newsapi promote {version}`"
    click.echo(f"{result.summary()}{reused if result.reused else ''}; report: {where}; {then}")
