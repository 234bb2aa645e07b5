"""``newsapi feedback export``: the labels sent to ``POST /feedback`` as a training CSV.

The CSV is what ``newsapi train -p dataset FILE`` reads (``text`` and ``label`` columns,
:func:`newsapi.model.data.load_csv`), and what ``-p extra_train FILE`` adds to a corpus's
training split.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import click

from newsapi.errors import NewsapiError
from newsapi.settings import get_settings


class ExportError(NewsapiError):
    """Nothing to export, or nowhere to read it from; the message says which."""


@click.group()
def feedback() -> None:
    """Labels sent to POST /feedback: export them as training data."""


@feedback.command()
@click.option(
    "--output", "-o", type=click.Path(dir_okay=False, path_type=Path), required=True,
    help="the CSV to write (text,label columns)",
)  # fmt: skip
@click.option(
    "--log-dir", type=click.Path(path_type=Path), default=None,
    help="the prediction log's folder  [default: NEWSAPI_PREDICTION_LOG_DIR]",
)  # fmt: skip
def export(output: Path, log_dir: Path | None) -> None:
    """Join the feedback with the logged texts into a CSV that `newsapi train` reads: one row
    per labelled text, its latest label. Feedback naming a request logged without its text
    (NEWSAPI_PREDICTION_LOG_TEXT off) cannot be exported and is counted."""
    from newsapi.monitoring.feedback import labelled_texts

    folder = log_dir or get_settings().prediction_log.prediction_log_dir
    if folder is None:
        raise ExportError("feedback export needs --log-dir or NEWSAPI_PREDICTION_LOG_DIR")
    if not folder.is_dir():
        raise ExportError(f"--log-dir: {folder} is not a folder")
    try:
        found = labelled_texts(folder)
    except OSError as exc:  # pyarrow's errors on a damaged file are OSErrors too
        raise ExportError(f"cannot read the feedback in {folder}: {exc}") from None
    why = _left_out(found.without_text, found.not_logged)
    if not found.texts:
        if not found.feedback:
            raise ExportError(f"no feedback in {folder} (nothing sent to POST /feedback yet)")
        raise ExportError(f"nothing to export from {folder}: {why}")
    partial = output.with_name(f".{output.name}.partial")
    try:
        with partial.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["text", "label"])
            writer.writerows(found.texts.items())
        os.replace(partial, output)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise ExportError(f"--output: cannot write {output}: {exc.strerror or exc}") from None
    line = f"wrote {len(found.texts)} labelled texts to {output} ({found.feedback} feedback records"
    click.echo(f"{line}; {why})" if found.left_out else f"{line})")


def _left_out(without_text: int, not_logged: int) -> str:
    parts = []
    if without_text:
        parts.append(
            f"{without_text} name requests logged without their text "
            "(NEWSAPI_PREDICTION_LOG_TEXT was off), which cannot be exported"
        )
    if not_logged:
        parts.append(
            f"{not_logged} name requests not in the log's files (removed as the oldest, or "
            "still held by a running server, which writes a file every "
            "NEWSAPI_PREDICTION_LOG_FILE_SECONDS)"
        )
    return "; ".join(parts) or "no labelled text"
