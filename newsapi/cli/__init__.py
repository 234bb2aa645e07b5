"""``newsapi``: train, sweep, list, compare, promote, roll back and serve models.

Every failure a user can act on ends with one line on stderr and a non-zero exit; nothing in the
store changes unless the command succeeded. One module per command group: :mod:`.train`
(notebook runs), :mod:`.store` (the store), :mod:`.serve` (the server), :mod:`.feedback`
(labels sent to the server, as training data).
"""

from __future__ import annotations

import os

import click

from newsapi.cli import feedback, score, serve, store, train
from newsapi.cli.common import Commands


@click.group(cls=Commands, context_settings={"help_option_names": ["-h", "--help"]})
def app() -> None:
    """Train, compare, promote and roll back the newsgroups classifier."""


for command in (
    train.train,
    train.sweep,
    store.runs,
    store.show,
    store.compare,
    store.promote,
    store.rollback,
    store.index,
    serve.serve,
    score.score,
    feedback.feedback,
):
    app.add_command(command)


def main() -> None:
    """Console-script entry point."""
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")  # quiet kernels under papermill
    app(prog_name="newsapi")
