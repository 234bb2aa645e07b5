"""Running the project's notebooks with papermill for the command line, all or nothing.

A training run executes ``01_train.ipynb`` into a private staging store inside the real one,
then ``02_evaluate.ipynb`` over the staged model, exports both to HTML beside it, and only then
moves the finished entry into the store with one rename. A failure anywhere keeps the executed
notebook that failed in ``<artifacts>/failed/`` and leaves nothing else behind.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from pathlib import Path
from typing import Any, TextIO

import newsapi
from newsapi.errors import NewsapiError
from newsapi.model.data import NEWSGROUPS
from newsapi.model.params import TrainingParameters
from newsapi.store.catalog import ModelStore, StoredModel
from newsapi.store.staging import staging_folder

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


class TrainingRun:
    """``newsapi train``: one set of parameters through both notebooks into the store."""

    def __init__(
        self,
        store: ModelStore,
        params: TrainingParameters,
        *,
        notebooks: Path | None = None,
        data_home: Path | None = None,
        progress: bool = True,
    ) -> None:
        # papermill runs the notebooks in notebooks/: every path handed to them is absolute
        self.store = ModelStore(store.root.resolve())
        self.params = _absolute_dataset(params)
        self.notebooks = notebooks_dir(notebooks)
        self.data_home = str(Path(data_home).resolve()) if data_home else None
        self.progress = progress

    def execute(self) -> tuple[StoredModel, bool]:
        """Run both notebooks; return the store entry and whether it already existed."""
        with staging_folder(self.store.models, "run") as staging:
            staged_store = ModelStore(staging)
            output = staging / "01_train.ipynb"
            execute(
                self.store,
                self.notebooks / "01_train.ipynb",
                output,
                {
                    **self.params.model_dump(),
                    "artifact_dir": str(staging),
                    "data_home": self.data_home,
                    "promote": False,
                },
                progress=self.progress,
            )
            entries = staged_store.entries()
            if len(entries) != 1:
                raise NewsapiError(f"01_train.ipynb stored {len(entries)} models, expected 1")
            staged = entries[0]
            existing = self.store.get(staged.version)
            if existing is not None:
                return existing, True
            folder = staged.path / "notebooks"
            folder.mkdir()
            shutil.move(output, folder / output.name)
            execute(
                self.store,
                self.notebooks / "02_evaluate.ipynb",
                folder / "02_evaluate.ipynb",
                {"model_path": str(staged.model_path), "data_home": self.data_home},
                progress=self.progress,
            )
            for notebook in sorted(folder.glob("*.ipynb")):
                export_html(notebook)
            return self.store.import_entry(staged), False

    def refresh_index(self) -> Path:
        return refresh_index(self.store, self.notebooks, progress=self.progress)


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


def _absolute_dataset(params: TrainingParameters) -> TrainingParameters:
    """Own corpora are named relative to where the user stands, not to notebooks/."""
    if params.dataset != NEWSGROUPS and Path(params.dataset).exists():
        return params.replace(dataset=str(Path(params.dataset).resolve()))
    return params
