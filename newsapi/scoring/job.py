"""One scoring run, whatever runs the pieces: check everything before anything is written,
open (or resume) the staging folder, score the pieces here or on Dask, make the output appear.

A bad input, output or model is refused before the staging folder exists. A run stopped by
bad data (a file that does not parse, a row without text under ``--strict``) removes its
staging folder: resuming could not end otherwise. A run interrupted in any other way (Ctrl-C,
SIGTERM, a kill, a full disk, a lost cluster) keeps it for ``--resume``; once the parts are
being made the output, a stop waits for the output to be whole.
"""

from __future__ import annotations

import contextlib
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TextIO

import pyarrow as pa

from newsapi.scoring.batches import Scorer, Unread, check_scores, output_schema
from newsapi.scoring.local import PieceResult, run_local
from newsapi.scoring.model import ScoringModel, choose_model
from newsapi.scoring.progress import Progress, duration
from newsapi.scoring.readers import read_piece
from newsapi.scoring.sinks import (
    CHUNK_ROWS,
    SUFFIX,
    OutputError,
    Staging,
    staging_path,
)
from newsapi.scoring.sources import (
    BATCH_ROWS,
    PIECE_BYTES,
    PIECE_ROWS,
    InputError,
    Plan,
    RawBatch,
    plan_input,
)
from newsapi.store.staging import deferred_signals

OUTPUT_FORMATS = tuple(SUFFIX)


@dataclass(frozen=True)
class ScoreOptions:
    """What the output holds: which column is the text and which the id, whether the
    per-category probabilities are added, the format, whether rows without text are refused."""

    text_column: str = "text"
    id_column: str | None = None
    scores: bool = False
    format: str | None = None  #: None: from the output's suffix, else Parquet
    strict: bool = False
    part_rows: int = CHUNK_ROWS  #: rows per part file: what a resumed run may redo at most


@dataclass
class Summary:
    """What a run did: for the final line and the sidecar."""

    rows: int
    scored: int  #: rows scored by this run (the others were finished by an interrupted one)
    unread: Unread
    seconds: float
    output: Path
    model_version: str
    pieces: int
    engine: str
    extra: dict[str, Any] = field(default_factory=dict)

    def line(self) -> str:
        """The final line: rows, time, rows/s, output, model version, rows without text."""
        rate = self.scored / max(self.seconds, 1e-9)
        text = (
            f"scored {self.rows:,} rows in {duration(self.seconds)} ({rate:,.0f} rows/s) "
            f"into {self.output} with model {self.model_version}"
        )
        if self.rows > self.scored:
            text += f" ({self.rows - self.scored:,} rows from the interrupted run's parts)"
        if self.unread.total:
            text += (
                f"; {self.unread.total:,} rows without text got no category "
                f"({self.unread.describe()})"
            )
        return text


def output_layout(output: Path, fmt: str | None) -> tuple[str, bool]:
    """The output's format and whether it is a folder of part files: a path ending in
    ``.parquet``, ``.csv`` or ``.jsonl`` (``.json``: JSON Lines too) is one file, any other a
    folder of part files (Dask's layout)."""
    suffix = output.suffix.lower()
    named = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv", ".jsonl": "jsonl",
             ".ndjson": "jsonl", ".json": "jsonl"}.get(suffix)  # fmt: skip
    if fmt is not None and fmt not in OUTPUT_FORMATS:
        raise OutputError(f"--format {fmt!r}: choose one of {', '.join(OUTPUT_FORMATS)}")
    if named and fmt and named != fmt:
        raise OutputError(
            f"--output {output} names a .{named} file but --format is {fmt}; make them agree"
        )
    return (named or fmt or "parquet"), named is None


def score(
    input: Path,
    output: Path,
    *,
    artifacts: Path,
    model: str | None = None,
    options: ScoreOptions | None = None,
    dask_scheduler: str | None = None,
    workers: int | None = None,
    jobs: int = 1,
    resume: bool = False,
    overwrite: bool = False,
    stream: TextIO | None = None,
    bar: bool | None = None,
) -> Summary:
    """Score ``input`` into ``output`` with the promoted model (or ``model``, a version
    prefix), in this process, in ``jobs`` local processes forked from it, or on the Dask
    cluster ``dask_scheduler`` ("local": one started for the run). Progress goes to
    ``stream`` (stderr): a bar on a terminal, else lines."""
    options = options or ScoreOptions()
    stream = stream or sys.stderr
    fmt, folder = output_layout(output, options.format)
    if input.exists() and output.exists() and output.resolve() == input.resolve():
        raise OutputError(f"--output {output} is the input; choose another path")
    if output.exists() and not overwrite:
        raise OutputError(f"{output} exists; choose another --output or add --overwrite")
    plan = plan_input(input, options.text_column, options.id_column)
    chosen = choose_model(artifacts, model)
    check_scores(chosen.pipeline, options.scores)
    description = describe(plan, chosen, options)
    schema = output_schema(plan, chosen.target_names, options.scores, description)
    scorer = Scorer(chosen.predictor, chosen.target_names, schema, options.scores, options.strict)
    record = {
        "input": str(input.resolve()),
        "files": [[s.name, s.size, s.mtime_ns] for s in plan.stamps],
        "model_sha256": chosen.sha256,
        "options": {
            **asdict(options),
            "format": fmt,
            "layout": [BATCH_ROWS, PIECE_BYTES, PIECE_ROWS],
        },
    }
    with contextlib.ExitStack() as stack:
        client = None
        if dask_scheduler:  # reached before anything is written: an unreachable one refuses
            from newsapi.scoring.cluster import connect

            client = stack.enter_context(connect(dask_scheduler, workers))
        if resume and not staging_path(output).exists():
            stream.write(f"newsapi score: no interrupted run for {output}; starting afresh\n")
        staging = Staging.open(output, fmt, options.part_rows, record, resume=resume)
        progress = Progress(plan.total_bytes, stream, bar=stream.isatty() if bar is None else bar)
        started = time.monotonic()
        try:
            if client is not None:
                from newsapi.scoring.cluster import ModelRef, run_on_dask

                ref = ModelRef(chosen.sha256, _written_by(chosen), tuple(chosen.target_names))
                results = run_on_dask(
                    client, plan, scorer, staging.parts, chosen.payload(), ref, progress.update
                )
            elif jobs > 1:
                from newsapi.scoring.pool import run_processes

                results = run_processes(plan, scorer, staging.parts, jobs, progress.update)
            else:
                results = run_local(plan, scorer, staging.parts, progress.update)
        except InputError:
            progress.close()
            staging.discard()
            raise
        except OSError as exc:
            progress.close()
            staging.release()
            raise OutputError(
                f"scoring stopped: {exc}; the finished parts are kept in {staging.root}: "
                "--resume continues"
            ) from None
        except BaseException:  # Ctrl-C, a stop signal: the finished parts stay for --resume
            progress.close()
            # a LocalCluster's workers are gone before their cut-short parts go (the processes
            # of --jobs are, before run_processes raises)
            stack.close()
            for scratch in staging.parts.folder.glob(".part-*.tmp"):
                scratch.unlink(missing_ok=True)
            staging.release()
            raise
    progress.close()
    summary = summarise(
        results, time.monotonic() - started, output, chosen, plan, dask_scheduler, jobs
    )
    if summary.rows == 0:
        staging.discard()
        raise InputError(f"{input}: holds no rows to score")
    sidecar = {**description, "rows": summary.rows, "rows_without_text": summary.unread.as_dict()}
    # a stop signal (or Ctrl-C) waits until the output is whole and the staging folder gone:
    # cut between the two, the output would exist and --resume refuse to replace it
    with deferred_signals():
        staging.finish(folder=folder, overwrite=overwrite, sidecar=sidecar)
    summary.seconds = time.monotonic() - started  # the output written whole included
    return summary


def _written_by(chosen: ScoringModel) -> str:
    return str(chosen.manifest.get("versions", {}).get("scikit-learn", "unknown"))


def describe(plan: Plan, chosen: ScoringModel, options: ScoreOptions) -> dict[str, Any]:
    """What a reader of the output needs to know of its run (Parquet key-value metadata
    ``newsapi``; the sidecar of CSV and JSON Lines)."""
    return {
        "model_version": chosen.version,
        "model_sha256": chosen.sha256,
        "categories": list(chosen.target_names),
        "input": plan.input,
        "text_column": plan.text_column,
        "id_column": plan.id_name,
        "scores": options.scores,
    }


def summarise(
    results: list[PieceResult],
    seconds: float,
    output: Path,
    chosen: ScoringModel,
    plan: Plan,
    scheduler: str | None,
    jobs: int = 1,
) -> Summary:
    unread = Unread()
    for result in results:
        unread.add(Unread(**result.unread))
    rows = sum(result.rows for result in results)
    scored = rows - sum(result.reused for result in results)
    engine = f"Dask ({scheduler})" if scheduler else "this process"
    if not scheduler and jobs > 1:
        engine = f"{jobs} local processes"
    return Summary(rows, scored, unread, seconds, output, chosen.version, len(plan.pieces), engine)


def score_sample(
    input: Path,
    *,
    artifacts: Path,
    rows: int,
    model: str | None = None,
    options: ScoreOptions | None = None,
) -> tuple[pa.Table, ScoringModel]:
    """The first ``rows`` rows of ``input`` scored with the per-category probabilities, in
    memory (what ``05_score.ipynb`` shows), with the same reading and scoring as a run."""
    options = options or ScoreOptions()
    plan = plan_input(input, options.text_column, options.id_column)
    chosen = choose_model(artifacts, model)
    check_scores(chosen.pipeline, True)
    schema = output_schema(plan, chosen.target_names, True, describe(plan, chosen, options))
    scorer = Scorer(chosen.predictor, chosen.target_names, schema, True, options.strict)
    batches: list[pa.RecordBatch] = []
    row = 0
    for piece in plan.pieces:
        for raw in read_piece(plan, piece):
            if row >= rows:
                break
            take = min(len(raw.texts), rows - row)
            ids = None if raw.ids is None else raw.ids.slice(0, take)
            batch, _ = scorer.score(plan, RawBatch(raw.texts.slice(0, take), ids, 0), row)
            batches.append(batch)
            row += take
        if row >= rows:
            break
    if not row:
        raise InputError(f"{input}: holds no rows to score")
    return pa.Table.from_batches(batches, schema), chosen
