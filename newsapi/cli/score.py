"""``newsapi score``: a corpus bigger than a request, scored into a file, here or on Dask."""

from __future__ import annotations

from pathlib import Path

import click

from newsapi.cli import signals
from newsapi.cli.common import artifacts_option, fail, open_store

REPORT_NOTEBOOK = "05_score.ipynb"


@click.command()
@click.argument("input", type=click.Path(path_type=Path))
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(path_type=Path),
    help="where the answers go: a .parquet, .csv or .jsonl file, or a folder of part files "
    "(any other name)",
)
@click.option(
    "--model",
    "version",
    metavar="VERSION",
    help="a stored model (a unique version prefix, see `newsapi runs`); default: the promoted one",
)
@click.option("--text-column", default="text", show_default=True, help="the column to classify")
@click.option(
    "--id-column",
    metavar="COLUMN",
    help="a column copied to the output beside each answer (default: the row number, or the "
    "file name for a folder of text files)",
)
@click.option("--scores", is_flag=True, help="add each category's probability, one column each")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["parquet", "csv", "jsonl"]),
    help="the output's format (default: from its suffix, else parquet)",
)
@click.option(
    "--dask-scheduler",
    metavar="ADDRESS|local",
    help="score on a Dask cluster: a running scheduler's address, or `local` for a "
    "LocalCluster started for the run",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    help="worker processes of `--dask-scheduler local` (default: one per core)",
)
@click.option(
    "--jobs",
    metavar="N",
    default="1",
    show_default=True,
    help="local processes that score pieces at once, without Dask (e.g. one per core)",
)
@click.option("--resume", is_flag=True, help="finish an interrupted run, reusing its parts")
@click.option("--overwrite", is_flag=True, help="replace an existing output")
@click.option("--strict", is_flag=True, help="refuse rows without text instead of skipping them")
@click.option(
    "--part-rows",
    type=click.IntRange(min=1),
    default=50_000,
    show_default=True,
    help="rows per part file: the most an interrupted run redoes when resumed",
)
@click.option(
    "--report",
    is_flag=True,
    help=f"then execute {REPORT_NOTEBOOK} over a sample of INPUT into <OUTPUT name>.report/",
)
@click.option(
    "--sample",
    type=click.IntRange(min=1),
    default=2_000,
    show_default=True,
    help="rows of INPUT the report scores and shows",
)
@artifacts_option
@signals.stops_like_ctrl_c(end_processes_first=False)
def score(
    input: Path,
    output: Path,
    version: str | None,
    text_column: str,
    id_column: str | None,
    scores: bool,
    fmt: str | None,
    dask_scheduler: str | None,
    workers: int | None,
    jobs: str,
    resume: bool,
    overwrite: bool,
    strict: bool,
    part_rows: int,
    report: bool,
    sample: int,
    artifacts: Path,
) -> None:
    """Classify every text of INPUT (a CSV, Parquet or JSON Lines file, a folder of them, or
    a folder of text files) into OUTPUT, streaming, with memory bounded whatever its size."""
    from newsapi.jobs.processes import marked_processes
    from newsapi.scoring.job import ScoreOptions
    from newsapi.scoring.job import score as run

    if workers is not None and dask_scheduler != "local":
        raise fail("--workers sets the workers of --dask-scheduler local; drop it or add that")
    processes = int(jobs) if jobs.strip().isdigit() else 0
    if processes < 1:
        raise fail(f"--jobs {jobs!r}: give a number of processes, 1 or more")
    if processes > 1 and dask_scheduler:
        raise fail("--jobs runs local processes without Dask; drop it or --dask-scheduler")
    options = ScoreOptions(text_column, id_column, scores, fmt, strict, part_rows)
    # every process the run starts (a LocalCluster's workers, the report's kernel) ends with
    # it, however it ends: Ctrl-C, SIGTERM or SIGHUP (newsapi.cli.signals) included
    with marked_processes():
        try:
            summary = run(
                input,
                output,
                artifacts=artifacts,
                model=version,
                options=options,
                dask_scheduler=dask_scheduler,
                workers=workers,
                jobs=processes,
                resume=resume,
                overwrite=overwrite,
            )
        except KeyboardInterrupt as interrupt:
            left = interrupted_run(output)
            if isinstance(interrupt, signals.Stopped):
                interrupt.left = f"the run's processes are ended and {left}"
                raise
            raise fail(f"interrupted; {left}", code=130) from None
        click.echo(summary.line())
        if report:
            try:
                folder = write_report(
                    input, summary.model_version, sample, options, artifacts, output
                )
            except signals.Stopped as stop:
                stop.left = (
                    f"the run's processes are ended; the answers are whole in {output}, the "
                    "report unfinished"
                )
                raise
            click.echo(f"report: {folder / REPORT_NOTEBOOK.replace('.ipynb', '.html')}")


def interrupted_run(output: Path) -> str:
    """What an interrupted run left, in words: its finished parts, which ``--resume`` reuses,
    or nothing half-written (stopped before its staging folder, or after its output was
    whole)."""
    from newsapi.scoring.sinks import staging_path

    staging = staging_path(output)
    if staging.exists():
        return (
            f"the finished parts are kept in {staging}: run the same command with --resume to "
            "finish"
        )
    return "nothing was left half-written"


def write_report(
    input: Path,
    version: str,
    sample: int,
    options: object,
    artifacts: Path,
    output: Path,
) -> Path:
    """Execute the scoring notebook over a sample of ``input`` with the model that scored it,
    into ``<output name>.report/`` (the notebook and its HTML page)."""
    from newsapi.jobs.notebook import execute, export_html, notebooks_dir

    folder = output.with_name(output.name.removesuffix(output.suffix) + ".report")
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / REPORT_NOTEBOOK
    execute(
        open_store(artifacts),
        notebooks_dir() / REPORT_NOTEBOOK,
        target,
        {
            "input": str(input.resolve()),
            "model_version": version,
            "sample_size": sample,
            "artifact_dir": str(artifacts.resolve()),
            "text_column": getattr(options, "text_column", "text"),
            "id_column": getattr(options, "id_column", None),
        },
        progress=False,
    )
    export_html(target)
    return folder
