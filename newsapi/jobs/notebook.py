"""Executing the project's notebooks with papermill: one notebook into the store's staging
folder, its HTML page, the runs page (``index.html``), and the failed runs kept for a look.

The pages are for reviewers: they show what the notebooks found (markdown and outputs) and
leave the code to the executed ``.ipynb`` beside them. A notebook runs in the folder of the
store it writes, so the paths it records are relative to that store, never the building
machine's folders.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path
from typing import Any, TextIO

import newsapi
from newsapi.errors import NewsapiError
from newsapi.jobs.processes import ends_its_processes
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


@ends_its_processes
def execute(
    store: ModelStore,
    notebook: Path,
    output: Path,
    parameters: dict[str, Any],
    *,
    progress: bool,
    stdout: TextIO | None = None,
    cwd: Path | None = None,
) -> None:
    """Execute ``notebook`` into ``output`` with papermill in ``cwd`` (default: the notebooks
    folder), its progress bar named after it; on an error, keep the executed copy in the
    store's ``failed/`` and raise :class:`NotebookFailed` with the error's own one-line
    message. ``stdout`` also receives what the cells print, as they print it (a long run's
    progress lines), each line above the progress bar rather than on its line. The executed
    copy records the notebook and itself by name, not by the folders of this machine."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    lines = _AboveProgressBars(stdout) if stdout is not None and progress else stdout
    try:
        papermill.execute_notebook(
            str(notebook),
            str(output),
            parameters=parameters,
            cwd=str(cwd or notebook.parent),
            progress_bar={"desc": notebook.stem} if progress else False,
            kernel_name="python3",
            config=_kernel_over_unix_sockets(),
            stdout_file=lines,
        )
    except PapermillExecutionError as exc:
        kept = store.record_failure(output) if output.exists() else None
        where = f"; the executed notebook is kept in {kept}" if kept else ""
        message = str(exc.evalue).strip().rstrip(".")
        raise NotebookFailed(f"{notebook.name} failed: {exc.ename}: {message}{where}") from None
    finally:
        if isinstance(lines, _AboveProgressBars):
            lines.close()
    _record_by_name(output, notebook)


class _AboveProgressBars:
    """A text stream that writes whole lines above the progress bars drawn on the same
    terminal (what ``tqdm.write`` does), so that a cell's output never lands on a bar's line."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.partial = ""

    def write(self, text: str) -> int:
        lines, newline, self.partial = (self.partial + text).rpartition("\n")
        if newline:
            self._emit(lines + newline)
        return len(text)

    def flush(self) -> None:
        """Nothing to do: a line is written once it is whole."""

    def close(self) -> None:
        if self.partial:
            self._emit(self.partial + "\n")
            self.partial = ""

    def _emit(self, text: str) -> None:
        from tqdm import tqdm

        with tqdm.external_write_mode(file=self.stream):
            self.stream.write(text)
            self.stream.flush()


def _record_by_name(output: Path, notebook: Path) -> None:
    """papermill records the absolute paths of the notebook and of its executed copy; keep
    their names only (the input as ``notebooks/01_train.ipynb``)."""
    import nbformat

    executed = nbformat.read(output, as_version=nbformat.NO_CONVERT)  # type: ignore[no-untyped-call]
    record = executed.metadata.get("papermill")
    if record is None:
        return
    record["input_path"] = f"{notebook.parent.name}/{notebook.name}"
    record["output_path"] = output.name
    nbformat.write(executed, output)  # type: ignore[no-untyped-call]


def export_html(notebook: Path, code: str | None = None) -> Path:
    """The notebook as a standalone HTML page beside it, for a reviewer: the markdown and the
    outputs, without the code cells (which stay in the ``.ipynb``). A note under the title
    says where the code is: ``code`` (markdown), by default a link to the notebook itself."""
    import nbformat
    from nbconvert import HTMLExporter

    executed = nbformat.read(notebook, as_version=4)  # type: ignore[no-untyped-call]
    where = code or f"[{notebook.name}]({notebook.name}), executed as shown"
    note = nbformat.v4.new_markdown_cell(  # type: ignore[no-untyped-call]
        f"*This page shows the results; the code is in {where}.*"
    )
    executed.cells.insert(1 if executed.cells else 0, note)
    exporter = HTMLExporter(
        exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True
    )  # type: ignore[no-untyped-call]
    body, _ = exporter.from_notebook_node(executed)
    page = notebook.with_suffix(".html")
    page.write_text(body, encoding="utf-8")
    return page


def refresh_index(
    store: ModelStore, notebooks: Path | None = None, *, progress: bool = False
) -> Path:
    """Execute ``04_compare.ipynb`` over ``store`` (in the store's folder, so that it names
    the store ``.``) and export it to ``<artifacts>/index.html``."""
    folder = notebooks_dir(notebooks)
    with tempfile.TemporaryDirectory(prefix=".index-", dir=store.root) as scratch:
        output = Path(scratch) / "04_compare.ipynb"
        execute(
            store,
            folder / "04_compare.ipynb",
            output,
            {"artifact_dir": ".", "link_base": ""},
            progress=progress,
            cwd=store.root.resolve(),
        )
        page = export_html(
            output,
            code="the project's `notebooks/04_compare.ipynb`, which `newsapi index` executes "
            "over this folder",
        )
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
