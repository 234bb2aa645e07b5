"""``newsapi sweep`` as a user runs it: the real command in a subprocess, the real notebook
under papermill, a real store; the winner is then promoted with ``newsapi promote``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import papermill
import pytest

from newsapi.jobs.sweep import notebook_defaults
from newsapi.model.artifact import load_artifact
from newsapi.model.data import load_csv
from newsapi.model.params import TrainingParameters
from newsapi.store.catalog import ModelStore
from newsapi.store.layout import FAILED
from newsapi.training.pipeline import fit
from newsapi.training.sweep.search import run_search
from newsapi.training.sweep.spec import SweepSpec
from tests.support import ROOT, newsapi, overlapping_sentences, topic_sentences, write_csv

GRID = {"classifier": ["multinomial_nb", "complement_nb"], "alpha": [0.1, 1.0]}


def leftovers(artifacts: Path) -> list[str]:
    """Hidden (staging) folders left in the store's models/ folder."""
    models = artifacts / "models"
    if not models.exists():
        return []
    return sorted(p.name for p in models.iterdir() if p.name.startswith(".") and p.is_dir())


def test_the_winner_lands_in_the_store_with_its_sweep_and_is_promotable(tmp_path: Path) -> None:
    data = write_csv(tmp_path / "own.csv", overlapping_sentences())
    artifacts = tmp_path / "artifacts"
    grid = json.dumps(GRID)
    done = newsapi(
        "sweep", "--artifacts", str(artifacts),
        "-p", "dataset", str(data), "-p", "grid", grid, "-p", "n_jobs", "1",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    store = ModelStore(artifacts)
    (entry,) = store.entries()
    version = entry.version
    last = done.stdout.strip().splitlines()[-1:]
    assert last[0].startswith(f"sweep winner: model {version} (")
    assert last[0].endswith(f"newsapi promote {version}`")  # as it runs from here
    assert store.served_version() is None, "a sweep promotes nothing unless asked"

    # the manifest records the sweep, and its figures are what the search and a refit give
    sweep = entry.manifest["sweep"]
    spec = SweepSpec.build({"grid": GRID, "dataset": str(data), "n_jobs": 1})
    assert {k: sweep[k] for k in ("grid", "search", "cv", "scoring")} == {
        "grid": spec.grid, "search": "grid", "cv": 3, "scoring": "f1_macro",
    }  # fmt: skip
    corpus = load_csv(data)
    outcome = run_search(spec, corpus, write=None)
    assert sweep["best_cv_score"] == round(outcome.best_score, 6)
    assert sweep["best_cv_std"] == round(outcome.best_std, 6)
    params = TrainingParameters.build(entry.manifest["parameters"])
    assert params == outcome.best_params
    _, metrics = fit(params, corpus)
    assert entry.manifest["metrics"] == metrics
    assert f"macro-F1 {metrics['macro_f1']:.4f}" in last[0]

    # the executed notebook and its page are filed in the entry, and the runs page links them
    pages = entry.path / "notebooks"
    assert sorted(p.name for p in pages.iterdir()) == ["03_sweep.html", "03_sweep.ipynb"]
    executed = (pages / "03_sweep.ipynb").read_text()
    assert f"model {version} stored, with the sweep in its manifest" in executed
    assert "candidates 4/4 (100%)" in executed
    assert f"models/{version}/notebooks/03_sweep.html" in (artifacts / "index.html").read_text()
    assert leftovers(artifacts) == []

    # the same sweep again: same winner, same bytes; the entry is reused, its page refreshed
    (pages / "03_sweep.html").unlink()
    again = newsapi(
        "sweep", "--artifacts", str(artifacts),
        "-p", "dataset", str(data), "-p", "grid", grid, "-p", "n_jobs", "1",
    )  # fmt: skip
    assert again.returncode == 0, again.stderr[-3000:]
    assert "already stored by an earlier run" in again.stdout
    assert [e.version for e in store.entries()] == [version]
    assert (pages / "03_sweep.html").is_file()
    assert leftovers(artifacts) == []

    promoted = newsapi("promote", version[:6], "--artifacts", str(artifacts))
    assert promoted.returncode == 0, promoted.stderr
    assert store.served_version() == version
    assert load_artifact(store.served_path).manifest["sweep"] == sweep
    shown = newsapi("show", version, "--artifacts", str(artifacts))
    assert '"best_cv_score"' in shown.stdout


def test_a_bad_grid_is_refused_before_anything_runs(tmp_path: Path) -> None:
    # the corpus is unusable too: had it been read, that would be the error
    data = write_csv(tmp_path / "no-text.csv", topic_sentences(5), header=("body", "label"))
    artifacts = tmp_path / "artifacts"
    done = newsapi(
        "sweep", "--artifacts", str(artifacts), "-p", "dataset", str(data),
        "-p", "grid", "{alfa: [0.1, 1]}",
    )  # fmt: skip
    assert done.returncode == 1
    assert done.stderr == "newsapi: alfa: unknown grid parameter; did you mean 'alpha'?\n"
    assert done.stdout == ""
    assert not artifacts.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-p", "grid", "{alpha: [-1]}"], "grid.alpha: Input should be greater than 0 (got -1)"),
        (["-p", "serch", "random"], "serch: unknown sweep parameter; did you mean 'search'?"),
        # the rest share the first two's path (a refusal before the notebook): make test-slow
        pytest.param(["-p", "artifact_dir", "x"], "newsapi sweep` itself", marks=pytest.mark.slow),
        pytest.param(["-y", "[1, 2]"], "must be a mapping", marks=pytest.mark.slow),
        pytest.param(
            ["-p", "dask_scheduler", "my laptop"],
            "dask_scheduler: 'my laptop' is neither None",
            marks=pytest.mark.slow,
        ),
    ],
)
def test_bad_parameters_are_refused_in_one_line(
    tmp_path: Path, args: list[str], message: str
) -> None:
    done = newsapi("sweep", "--artifacts", str(tmp_path / "artifacts"), *args)
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1
    assert message in done.stderr
    assert not (tmp_path / "artifacts").exists()


def test_a_failing_sweep_leaves_only_its_executed_notebook(tmp_path: Path) -> None:
    data = write_csv(tmp_path / "no-text.csv", topic_sentences(5), header=("body", "label"))
    artifacts = tmp_path / "artifacts"
    done = newsapi(
        "sweep", "--artifacts", str(artifacts), "-p", "dataset", str(data),
        "-p", "grid", "{alpha: [0.1, 1]}",
    )  # fmt: skip
    assert done.returncode == 1
    # papermill's progress bar shares stderr; the command's own message is one line
    (line,) = [text for text in done.stderr.splitlines() if text.startswith("newsapi:")]
    assert done.stderr.rstrip("\n").endswith(line)
    assert line.startswith("newsapi: 03_sweep.ipynb failed: DatasetError: dataset: ")
    assert "has no ['text'] column(s)" in line
    (kept,) = (artifacts / FAILED).glob("*.ipynb")
    assert line.endswith(f"the executed notebook is kept in {kept}")
    assert ModelStore(artifacts).entries() == []
    assert leftovers(artifacts) == []


def test_the_notebook_refuses_a_bad_grid_before_reading_data(tmp_path: Path) -> None:
    data = write_csv(tmp_path / "no-text.csv", topic_sentences(5), header=("body", "label"))
    with pytest.raises(papermill.PapermillExecutionError) as caught:
        run_notebook(tmp_path, dataset=str(data), grid={"alpha": [0.1], "ngram": [2]})
    assert "ngram: unknown grid parameter; did you mean 'ngram_max'?" in str(caught.value)


def test_the_notebooks_defaults_are_the_committed_sweep() -> None:
    defaults = notebook_defaults(ROOT / "notebooks" / "03_sweep.ipynb")
    spec = SweepSpec.from_namespace(defaults)
    assert spec.search == "grid"
    assert spec.scoring == "f1_macro"
    assert spec.base.remove == []
    assert (defaults["store_best"], defaults["promote"]) == (True, False)
    assert defaults["artifact_dir"] == "../artifacts"


def run_notebook(tmp_path: Path, **parameters: Any) -> Any:
    return papermill.execute_notebook(
        str(ROOT / "notebooks" / "03_sweep.ipynb"),
        str(tmp_path / "03.ipynb"),
        parameters={"artifact_dir": str(tmp_path / "artifacts"), **parameters},
        cwd=str(ROOT / "notebooks"),
        progress_bar=False,
        kernel_name="python3",
    )
