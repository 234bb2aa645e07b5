"""Executing the project's notebooks with papermill: one notebook into the store's staging
folder, its HTML page, the runs page (``index.html``), and the failed runs kept for a look.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path
from typing import Any, TextIO

import newsapi
from newsapi.errors import NewsapiError
from newsapi.model.data import NEWSGROUPS
from newsapi.model.params import TrainingParameters
from newsapi.store.catalog import ModelStore

log = logging.getLogger(__name__)

INDEX = "index.html"


class NotebookFailed(NewsapiError):
    """A notebook stopped with an error; the message names it and where its copy is kept."""


def notebooks_dir(explicit: Path | None = None) -> Path:
    """The project's ``notebooks/`` folder: explicit, the checkout the package lives in, or
    ``./notebooks``."""
    if explicit is not None:
        found = Path(explicit)
    else:
        beside = Path(newsapi.__file__).resolve().parent.parent / "notebooks"
        found = beside if beside.is_dir() else Path("notebooks")
    if not (found / "01_train.ipynb").is_file():
        raise NewsapiError(
            f"no 01_train.ipynb in {found}; run from the project folder or pass --notebooks"
        )
    return found.resolve()


def execute(
    store: ModelStore,
    notebook: Path,
    output: Path,
    parameters: dict[str, Any],
    *,
    progress: bool,
    stdout: TextIO | None = None,
) -> None:
    """Execute ``notebook`` into ``output`` with papermill (cwd: the notebooks folder); on an
    error, keep the executed copy in the store's ``failed/`` and raise :class:`NotebookFailed`
    with the error's own one-line message. ``stdout`` also receives what the cells print,
    as they print it (a long run's progress lines)."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    try:
        papermill.execute_notebook(
            str(notebook),
            str(output),
            parameters=parameters,
            cwd=str(notebook.parent),
            progress_bar=progress,
            kernel_name="python3",
            config=_kernel_over_unix_sockets(),
            stdout_file=stdout,
        )
    except PapermillExecutionError as exc:
        kept = store.record_failure(output) if output.exists() else None
        where = f"; the executed notebook is kept in {kept}" if kept else ""
        message = str(exc.evalue).strip().rstrip(".")
        raise NotebookFailed(f"{notebook.name} failed: {exc.ename}: {message}{where}") from None


def export_html(notebook: Path) -> Path:
    """The notebook as a standalone HTML page beside it."""
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter().from_filename(str(notebook))  # type: ignore[no-untyped-call]
    page = notebook.with_suffix(".html")
    page.write_text(body, encoding="utf-8")
    return page


def refresh_index(
    store: ModelStore, notebooks: Path | None = None, *, progress: bool = False
) -> Path:
    """Execute ``04_compare.ipynb`` over ``store`` and export it to ``<artifacts>/index.html``."""
    folder = notebooks_dir(notebooks)
    with tempfile.TemporaryDirectory(prefix=".index-", dir=store.root) as scratch:
        output = Path(scratch) / "04_compare.ipynb"
        execute(
            store,
            folder / "04_compare.ipynb",
            output,
            {"artifact_dir": str(store.root.resolve()), "link_base": ""},
            progress=progress,
        )
        page = export_html(output)
        target = store.root / INDEX
        page.replace(target)
    return target


def absolute_dataset(params: TrainingParameters) -> TrainingParameters:
    """Own corpora are named relative to where the user stands, not to notebooks/."""
    if params.dataset != NEWSGROUPS and Path(params.dataset).exists():
        return params.replace(dataset=str(Path(params.dataset).resolve()))
    return params


def _kernel_over_unix_sockets() -> Any:
    """papermill's kernel talks to this process over Unix sockets in a private folder
    (removed when this process ends; the kernel's sockets go with the kernel): over TCP,
    ipykernel warns at every start that the traffic is not encrypted."""
    import atexit
    import shutil

    from traitlets.config import Config

    folder = tempfile.mkdtemp(prefix="newsapi-kernel-")
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return Config({"KernelManager": {"transport": "ipc", "ip": str(Path(folder, "kernel"))}})
