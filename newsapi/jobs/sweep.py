"""``newsapi sweep``: one sweep through ``03_sweep.ipynb`` into the store, all or nothing.

Like :class:`newsapi.jobs.train.TrainingRun`, the notebook runs into a private staging
store inside the real one, in its folder (the store is ``.``); its winner's entry gets the
executed notebook and its HTML in ``notebooks/`` and only then moves into the store with one
rename. The staging store also holds the promoted pair (linked, not copied), so that the
notebook compares the winner with "the store's promoted model" as it does in the real store.
A failure keeps the executed notebook in ``<artifacts>/failed/`` and leaves nothing else
behind.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from newsapi.errors import NewsapiError
from newsapi.jobs.notebook import absolute_dataset, execute, export_html, notebooks_dir
from newsapi.model.artifact import manifest_path
from newsapi.model.params import ParameterError
from newsapi.model.params_cli import read_values as read_command_values
from newsapi.store.catalog import ModelStore, StoredModel
from newsapi.store.staging import staging_folder
from newsapi.training.sweep.report import gives_probabilities, shown_value
from newsapi.training.sweep.spec import SPEC_NAMES, SweepSpec

NOTEBOOK = "03_sweep.ipynb"
#: notebook parameters the command sets itself (with its options, not with -p)
COMMAND_OWNED = ("artifact_dir", "data_home", "store_best", "promote", "baseline_model", "top")


def read_sweep_values(pairs: list[tuple[str, str]], yaml_texts: list[str]) -> dict[str, Any]:
    """``-y`` mappings then ``-p`` pairs (read as YAML), refusing what the command sets itself."""
    values = read_command_values(pairs, yaml_texts)
    for name in values:
        if name in COMMAND_OWNED:
            raise ParameterError(
                f"{name}: set by `newsapi sweep` itself (see --help: --artifacts, --data-home, "
                "--promote)"
            )
    return values


def notebook_defaults(notebook: Path) -> dict[str, Any]:
    """The plain values assigned in the notebook's ``parameters`` cell (its defaults)."""
    import ast
    import json

    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    tagged = [c for c in cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    source = "".join(tagged[0]["source"]) if tagged else ""
    defaults: dict[str, Any] = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Name):
                defaults[target.id] = ast.literal_eval(node.value)
    return defaults


@dataclass(frozen=True)
class SweepResult:
    """The stored winner, whether its entry already existed, and the sweep that chose it."""

    entry: StoredModel
    reused: bool
    spec: SweepSpec
    manifest: dict[str, Any]  # as this sweep wrote it (a reused entry keeps its own)

    def summary(self) -> str:
        """The winner, its CV and test scores, in one line."""
        manifest = self.manifest
        params = manifest["parameters"]
        chosen = ", ".join(
            f"{name}={value}"
            for name in self.spec.varied()
            if (value := shown_value(params, name)) is not None
        )
        record = manifest.get("sweep") or {}
        cv = (
            f"CV {record['scoring']} {record['best_cv_score']:.4f} ± {record['best_cv_std']:.4f}, "
            if "best_cv_score" in record
            else ""
        )
        metrics = manifest["metrics"]
        scores = (
            ""
            if gives_probabilities(params)
            else " (it gives no probabilities; with calibrate: true it would)"
        )
        return (
            f"sweep winner: model {self.entry.version} ({chosen or 'the only candidate'}): {cv}"
            f"test accuracy {metrics['accuracy']:.4f}, macro-F1 {metrics['macro_f1']:.4f}"
            f"{scores}"
        )


class SweepRun:
    """A validated sweep, run through the notebook into ``store``."""

    def __init__(
        self,
        store: ModelStore,
        values: Mapping[str, Any],
        *,
        notebooks: Path | None = None,
        data_home: Path | None = None,
        progress: bool = True,
        promote: bool = False,
    ) -> None:
        self.notebooks = notebooks_dir(notebooks)
        if not (self.notebooks / NOTEBOOK).is_file():
            raise NewsapiError(f"no {NOTEBOOK} in {self.notebooks}")
        defaults = notebook_defaults(self.notebooks / NOTEBOOK)
        known = {name: value for name, value in defaults.items() if name in SPEC_NAMES}
        self.spec = SweepSpec.build({**known, **values})  # refused here before anything runs
        self.store = store
        self.values = {
            **values,
            "grid": self.spec.grid,
            "dataset": absolute_dataset(self.spec.base).dataset,
        }
        self.data_home = str(Path(data_home).resolve()) if data_home else None
        self.progress = progress
        self.promote = promote

    def execute(self) -> SweepResult:
        """Run the notebook; file its winner (and the executed notebook) in the store."""
        with staging_folder(self.store.models, "sweep") as staging:
            _link_promoted(self.store, staging)
            output = staging / NOTEBOOK
            execute(
                self.store,
                self.notebooks / NOTEBOOK,
                output,
                {
                    **self.values,
                    "artifact_dir": ".",
                    "data_home": self.data_home,
                    "store_best": True,
                    "promote": self.promote,
                    "baseline_model": None,  # the staging store's promoted pair, linked
                },
                progress=self.progress,
                stdout=sys.stdout if self.progress else None,
                cwd=staging.resolve(),
            )
            entries = ModelStore(staging).entries()
            if len(entries) != 1:
                raise NewsapiError(f"{NOTEBOOK} stored {len(entries)} models, expected 1")
            staged = entries[0]
            folder = staged.path / "notebooks"
            folder.mkdir(exist_ok=True)
            shutil.move(output, folder / NOTEBOOK)
            export_html(folder / NOTEBOOK)
            existing = self.store.get(staged.version)
            if existing is None:
                entry = self.store.import_entry(staged)
                return SweepResult(entry, False, self.spec, staged.manifest)
            _file_notebooks(folder, existing)
            return SweepResult(existing, True, self.spec, staged.manifest)


def _link_promoted(store: ModelStore, staging: Path) -> None:
    """Give the staging store the real store's promoted pair: hard links where the file
    system allows (promotion replaces the served files by rename, so a link keeps the bytes
    it was made with), copies elsewhere."""
    served = store.served_path
    for source in (served, manifest_path(served)):
        if source.is_file():
            try:
                os.link(source, staging / source.name)
            except OSError:
                shutil.copyfile(source, staging / source.name)


def _file_notebooks(source: Path, entry: StoredModel) -> None:
    """Put this sweep's notebook pages into an entry that was already stored (same model
    bytes from an earlier run): file by file, each replaced whole."""
    target = entry.path / "notebooks"
    target.mkdir(exist_ok=True)
    for page in sorted(source.iterdir()):
        scratch = target / f".{page.name}.{os.getpid()}.tmp"
        shutil.copyfile(page, scratch)
        scratch.replace(target / page.name)
