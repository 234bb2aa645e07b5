"""``newsapi train`` and ``newsapi sweep``: notebooks run with papermill into the store."""

from __future__ import annotations

from pathlib import Path

import click

from newsapi.cli import signals
from newsapi.cli.common import RELOAD_HINT, fail, hint, open_store, run_options
from newsapi.model.params import TrainingParameters, check_names
from newsapi.model.params_cli import parameter_help, read_values
from newsapi.training.sweep.cost import CONFIRM_ABOVE_FITS


class TrainCommand(click.Command):
    """``newsapi train``, whose help also lists the training parameters, read off
    :class:`TrainingParameters` so that it cannot fall behind them."""

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Training parameters (-p NAME VALUE, or -y 'NAME: VALUE')"):
            formatter.write_dl(parameter_help())
        super().format_epilog(ctx, formatter)


def promotion_line(version: str, previous: str | None, promoted: bool, reused: bool) -> str:
    """What a run did to the promoted model, as it is: promoted, already promoted, kept as a
    candidate, or already stored (nothing changed)."""
    if version == previous and reused:
        return f"already stored as {version}, which is the promoted model; nothing changed"
    if version == previous:
        return f"model {version} is the promoted model already"
    if promoted:
        was = f" (was {previous})" if previous else ""
        return f"model {version} is now promoted{was}; {RELOAD_HINT}"
    if reused:
        return (
            f"already stored as {version}, a candidate; nothing changed; "
            f"{hint(f'promote {version}')} serves it"
        )
    return f"model {version} kept as a candidate; {hint(f'promote {version}')} serves it"


@click.command(cls=TrainCommand)
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
@signals.stops_like_ctrl_c
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
    run = TrainingRun(store, params, notebooks=notebooks, data_home=data_home, promote=promote)
    entry, reused = run.execute()
    previous = store.served_version()
    promoted = promote and previous != entry.version
    if promoted:
        store.promote(entry.version)
    unchanged = reused and not promoted
    if refresh and not (unchanged and (artifacts / "index.html").is_file()):
        run.refresh_index()
    where = entry.path / "notebooks"
    runs_page = (
        f"all runs in {artifacts / 'index.html'}"
        if refresh
        else f"{hint('index')} refreshes the page of all runs"
    )
    click.echo(
        f"{'reused the stored' if reused else 'stored'} model {entry.version} "
        f"(accuracy {entry.manifest['metrics']['accuracy']:.4f}, macro-F1 "
        f"{entry.manifest['metrics']['macro_f1']:.4f}); notebooks in {where}, "
        f"{runs_page} (`make lab` opens JupyterLab)"
    )
    click.echo(promotion_line(entry.version, previous, promoted, reused))


@click.command()
@run_options(
    "a sweep parameter (grid, search, n_iter, cv, scoring, n_jobs, dask_scheduler) or a "
    "fixed data parameter; VALUE is read as YAML, e.g. -p grid '{alpha: [0.01, 0.1]}'",
    promote=False,
    promote_help="serve the winner when done",
)
@click.option(
    "--max-fits", type=click.IntRange(min=1), default=CONFIRM_ABOVE_FITS, show_default=True,
    help="the most fits (candidates x folds) a sweep runs without --yes",
)  # fmt: skip
@click.option("--yes", is_flag=True, help="run a sweep of more than --max-fits fits")
@signals.stops_like_ctrl_c
def sweep(
    parameter: tuple[tuple[str, str], ...],
    yaml_text: tuple[str, ...],
    promote: bool,
    data_home: Path | None,
    notebooks: Path | None,
    artifacts: Path,
    max_fits: int,
    yes: bool,
) -> None:
    """Check the sweep, say its fits and a rough time from one fit timed first (more than
    --max-fits need --yes), cross-validate its grid in 03_sweep with papermill, store the
    winner with the executed notebook, promote it (with --promote) and refresh index.html."""
    from newsapi.jobs.notebook import refresh_index
    from newsapi.jobs.sweep import SweepRun, read_sweep_values
    from newsapi.training.sweep.cost import estimate

    store = open_store(artifacts)
    run = SweepRun(
        store,
        read_sweep_values(list(parameter), list(yaml_text)),
        notebooks=notebooks,
        data_home=data_home,
        promote=promote,
    )
    cost = estimate(run.spec, data_home)
    click.echo(cost.describe())
    if cost.fits > max_fits and not yes:
        rough = cost.rough_time()
        raise fail(
            f"{cost.fits:,} fits is more than --max-fits {max_fits:,}"
            f"{f' ({rough})' if rough else ''}; pass --yes to run them, or use fewer values, "
            "fewer folds, or search: random with n_iter"
        )
    result = run.execute()
    previous = store.served_version()
    version = result.entry.version
    if promote and previous != version:
        store.promote(version)
    refresh_index(store, run.notebooks, progress=True)
    where = result.entry.path / "notebooks" / "03_sweep.html"
    reused = " (already stored by an earlier run; this sweep's notebook is filed beside it)"
    if version == previous:
        then = "it is the promoted model already"
    elif promote:
        was = f" (was {previous})" if previous else ""
        then = f"model {version} is now promoted{was}; {RELOAD_HINT}"
    else:
        then = f"promote it with {hint(f'promote {version}')}"
    click.echo(f"{result.summary()}{reused if result.reused else ''}; report: {where}; {then}")
