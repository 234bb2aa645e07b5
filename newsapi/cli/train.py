"""``newsapi train`` and ``newsapi sweep``: notebooks run with papermill into the store."""

from __future__ import annotations

from pathlib import Path

import click

from newsapi.cli.common import RELOAD_HINT, open_store, run_options
from newsapi.model.params import TrainingParameters, check_names, read_values


@click.command()
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
    from newsapi.jobs.train import TrainingRun

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


@click.command()
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
    from newsapi.jobs.notebook import refresh_index
    from newsapi.jobs.sweep import SweepRun, read_sweep_values

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
