"""The notebooks run under papermill with other parameters, and fail early on bad ones."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import papermill
import pytest

from newsapi.model.artifact import load_artifact, manifest_path
from newsapi.settings import MODEL_FILENAME
from newsapi.training.pipeline import weakest_category
from tests.support import ROOT, topic_sentences, train_tiny, write_csv, write_folder

NOTEBOOKS = ROOT / "notebooks"


def run(notebook: str, output: Path, **parameters: Any) -> Any:
    return papermill.execute_notebook(
        str(NOTEBOOKS / notebook),
        str(output),
        parameters=parameters,
        cwd=str(NOTEBOOKS),
        progress_bar=False,
        kernel_name="python3",
    )


def outputs(notebook: Any) -> str:
    return "\n".join(
        output.get("text", "") for cell in notebook.cells for output in cell.get("outputs", [])
    )


@pytest.mark.corpus
@pytest.mark.slow  # ~21 s; tests/model/test_data.py checks the 20-category corpus in-process
def test_all_twenty_categories_with_complement_nb(tmp_path: Path) -> None:
    trained = run(
        "01_train.ipynb", tmp_path / "01.ipynb",
        categories=None, classifier="complement_nb", artifact_dir=str(tmp_path),
    )  # fmt: skip
    artifact = load_artifact(tmp_path / MODEL_FILENAME)
    assert len(artifact.target_names) == 20
    assert type(artifact.pipeline[-1]).__name__ == "ComplementNB"
    manifest = artifact.manifest
    assert manifest["parameters"]["classifier"] == "complement_nb"
    assert manifest["parameters"]["categories"] is None
    assert manifest["metrics"]["accuracy"] > 0.8
    assert sum(manifest["dataset"]["counts"]["test"].values()) == 7532
    assert f"model {artifact.model_version} stored in models/{artifact.model_version}/" in outputs(
        trained
    )

    evaluated = run("02_evaluate.ipynb", tmp_path / "02.ipynb", model_path=str(artifact.path))
    entry = tmp_path / "models" / artifact.model_version
    assert (entry / "confusion_matrix.png").stat().st_size > 10_000
    assert (entry / "card.md").is_file()
    weakest, recall, _ = weakest_category(manifest["metrics"])
    assert f"The weakest category is {weakest}: the model finds {recall:.0%}" in outputs(evaluated)
    assert "20 categories, 7532 test documents" in outputs(evaluated)


def test_own_csv_corpus_through_the_notebooks(tmp_path: Path) -> None:
    data = write_csv(tmp_path / "own.csv", topic_sentences(30))
    run(
        "01_train.ipynb", tmp_path / "01.ipynb",
        dataset=str(data), classifier="logistic_regression", artifact_dir=str(tmp_path / "out"),
    )  # fmt: skip
    artifact = load_artifact(tmp_path / "out" / MODEL_FILENAME)
    assert artifact.target_names == ["cooking", "space", "sport"]
    assert artifact.manifest["dataset"]["source"] == "csv"
    assert artifact.manifest["metrics"]["accuracy"] >= 0.9
    evaluated = run("02_evaluate.ipynb", tmp_path / "02.ipynb", model_path=str(artifact.path))
    assert "3 categories, 23 test documents" in outputs(evaluated)


@pytest.mark.parametrize(
    ("parameters", "message"),
    [
        ({"classifier": "forest"}, "classifier: Input should be 'multinomial_nb'"),
        pytest.param(  # the other refusals share the first one's path: make test-slow
            {"categories": ["sci.crypt", "sci.cooking"]},
            "categories: unknown",
            marks=pytest.mark.slow,
        ),
        ({"dataset": "missing.csv"}, "dataset: CSV file missing.csv does not exist"),
        pytest.param(
            {"alpha": -1.0}, "alpha: Input should be greater than 0", marks=pytest.mark.slow
        ),
    ],
)
def test_bad_parameter_stops_early_and_keeps_the_old_model(
    tmp_path: Path, parameters: dict[str, Any], message: str
) -> None:
    assert_refused(tmp_path, parameters, message)


SPACE_ONLY = [(text, label) for text, label in topic_sentences(10) if label == "space"]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: write_csv(d / "no-text.csv", topic_sentences(5), header=("body", "label")),
         "has no ['text'] column"),
        pytest.param(lambda d: write_csv(d / "empty.csv", []), "holds no documents",
                     marks=pytest.mark.slow),
        pytest.param(lambda d: write_folder(d / "one-class", SPACE_ONLY),
                     "has 1 class(es) ['space']", marks=pytest.mark.slow),
    ],
)  # fmt: skip
def test_unusable_own_corpus_stops_early_and_keeps_the_old_model(
    tmp_path: Path, make: Callable[[Path], Path], message: str
) -> None:
    assert_refused(tmp_path, {"dataset": str(make(tmp_path))}, message)


def assert_refused(tmp_path: Path, parameters: dict[str, Any], message: str) -> None:
    previous = train_tiny(tmp_path / MODEL_FILENAME)
    before = (previous.path.read_bytes(), manifest_path(previous.path).read_bytes())
    with pytest.raises(papermill.PapermillExecutionError) as caught:
        run("01_train.ipynb", tmp_path / "01.ipynb", artifact_dir=str(tmp_path), **parameters)
    assert message in str(caught.value)
    assert (previous.path.read_bytes(), manifest_path(previous.path).read_bytes()) == before


@pytest.mark.slow  # make test runs nbval over 04_compare itself
def test_compare_notebook_under_nbval_over_a_store_of_two_runs(tmp_path: Path) -> None:
    """nbval over 04_compare.ipynb as committed, beside a store this test builds: the cells whose
    output depends on the store are the only ones excluded (nbval-ignore-output tags)."""
    import json
    import subprocess
    import sys

    from newsapi.model.params import DEFAULTS
    from newsapi.store.catalog import ModelStore
    from newsapi.training.run import train_and_store
    from tests.support import tiny_corpus

    store = ModelStore(tmp_path / "artifacts")
    first = train_and_store(store, DEFAULTS.replace(categories=None), tiny_corpus())
    train_and_store(store, DEFAULTS.replace(categories=None, alpha=0.2), tiny_corpus())
    store.promote(first.version)
    (tmp_path / "notebooks").mkdir()
    notebook = tmp_path / "notebooks" / "04_compare.ipynb"
    notebook.write_bytes((NOTEBOOKS / "04_compare.ipynb").read_bytes())
    cells = json.loads(notebook.read_text())["cells"]
    ignored = [c for c in cells if "nbval-ignore-output" in c["metadata"].get("tags", [])]
    assert all("store" in "".join(c["source"]) or "rows" in "".join(c["source"]) for c in ignored)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval",
         "--nbval-sanitize-with", str(NOTEBOOKS / "sanitize.cfg"), str(notebook)],
        cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:]
    assert f"{len(cells) - sum(c['cell_type'] == 'markdown' for c in cells)} passed" in done.stdout
