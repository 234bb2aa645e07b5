"""``newsapi train``: one set of parameters through ``01_train`` and ``02_evaluate`` into the
store, all or nothing.

A training run executes ``01_train.ipynb`` into a private staging store inside the real one,
then ``02_evaluate.ipynb`` over the staged model, exports both to HTML beside it, and only then
moves the finished entry into the store with one rename. A failure anywhere keeps the executed
notebook that failed in ``<artifacts>/failed/`` and leaves nothing else behind.

The notebooks run in the staging store's folder and are told its paths relative to it (the
store is ``.``, the model ``models/<version>/...``): once the entry is filed, the same paths
hold in the real store, so the executed notebooks read true there. ``01_train`` is told
whether the run is to be promoted, and promotes it in the staging store; the command
promotes it in the real store once the entry is filed.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from newsapi.errors import NewsapiError
from newsapi.jobs.notebook import (
    absolute_dataset,
    execute,
    export_html,
    notebooks_dir,
    refresh_index,
)
from newsapi.model.params import TrainingParameters
from newsapi.store.catalog import ModelStore, StoredModel
from newsapi.store.staging import staging_folder


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
        promote: bool = False,
    ) -> None:
        # the notebooks run in the staging folder: the paths of the user's files are absolute
        self.store = ModelStore(store.root.resolve())
        self.params = absolute_dataset(params)
        self.notebooks = notebooks_dir(notebooks)
        self.data_home = str(Path(data_home).resolve()) if data_home else None
        self.progress = progress
        self.promote = promote

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
                    "artifact_dir": ".",
                    "data_home": self.data_home,
                    "promote": self.promote,
                },
                progress=self.progress,
                cwd=staging,
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
                {
                    "model_path": staged.model_path.relative_to(staging).as_posix(),
                    "data_home": self.data_home,
                },
                progress=self.progress,
                cwd=staging,
            )
            for notebook in sorted(folder.glob("*.ipynb")):
                export_html(notebook)
            return self.store.import_entry(staged), False

    def refresh_index(self) -> Path:
        return refresh_index(self.store, self.notebooks, progress=self.progress)
