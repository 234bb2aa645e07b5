"""``newsapi score``: a corpus bigger than a request, scored into a file, here or on Dask."""

from __future__ import annotations

from pathlib import Path

import click

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
    from newsapi.scoring.job import ScoreOptions
    from newsapi.scoring.job import score as run
    from newsapi.scoring.sinks import staging_path

    if workers is not None and dask_scheduler != "local":
        raise fail("--workers sets the workers of --dask-scheduler local; drop it or add that")
    options = ScoreOptions(text_column, id_column, scores, fmt, strict, part_rows)
    try:
        summary = run(
            input,
            output,
            artifacts=artifacts,
            model=version,
            options=options,
            dask_scheduler=dask_scheduler,
            workers=workers,
            resume=resume,
            overwrite=overwrite,
        )
    except KeyboardInterrupt:
        raise fail(
            f"interrupted; the finished parts are kept in {staging_path(output)}: run the same "
            "command with --resume to finish",
            code=130,
        ) from None
    click.echo(summary.line())
    if report:
        folder = write_report(input, summary.model_version, sample, options, artifacts, output)
        click.echo(f"report: {folder / REPORT_NOTEBOOK.replace('.ipynb', '.html')}")


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
