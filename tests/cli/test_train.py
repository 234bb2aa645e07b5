"""``newsapi train`` as a newcomer uses it: the real console script in a subprocess, real
notebooks under papermill, a real store on disk; refusals in one line, kills that leave no
half entry."""

from __future__ import annotations

import re
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from newsapi.model.artifact import load_artifact
from newsapi.store.catalog import ModelStore
from tests.support import NEWSAPI, ROOT, newsapi


def debris(root: Path) -> list[str]:
    """Everything under ``root`` except complete store entries, the log, the lock."""
    found = []
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if re.match(r"models/[0-9a-f]{12}(/|$)", rel) or rel in {
            "models", "models/.lock", "models/promotions.jsonl",
        }:  # fmt: skip
            continue
        found.append(rel)
    return found


def test_train_files_both_notebooks_promotes_and_says_how_a_server_follows(
    two_runs: tuple[Path, str, str],
) -> None:
    root, first, second = two_runs
    store = ModelStore(root)
    assert store.served_version() == first
    for version in (first, second):
        folder = root / "models" / version
        assert {p.name for p in (folder / "notebooks").iterdir()} == {
            "01_train.ipynb", "01_train.html", "02_evaluate.ipynb", "02_evaluate.html",
        }  # fmt: skip
        assert (folder / "card.html").is_file()
        assert (folder / "confusion_matrix.png").stat().st_size > 5_000
    manifest = load_artifact(root / "newsgroups_model.joblib").manifest
    assert manifest["parameters"]["dataset"].endswith("own.csv")
    assert debris(root) == ["index.html", "newsgroups_model.joblib", "newsgroups_model.json"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-p", "classifer", "linear_svc"], "classifer: unknown parameter; did you mean 'classif"),
        (["-p", "alpha", "-1"], "alpha: Input should be greater than 0 (got -1)"),
        (["-p", "categories", "sci.space"], "categories: expected a list, got the single string"),
        (["-y", "min_df: 5\nmax_df: 2"], "min_df (5) is above max_df (2)"),
        (["-y", "[not, a, mapping]"], "must be a mapping"),
    ],
)  # fmt: skip
def test_bad_parameters_are_refused_before_anything_runs(
    tmp_path: Path, args: list[str], message: str
) -> None:
    out = newsapi("train", "--artifacts", str(tmp_path), *args)
    assert out.returncode == 1
    assert out.stderr.startswith("newsapi: ")
    assert message in out.stderr
    assert out.stderr.count("\n") == 1
    assert "Executing" not in out.stderr  # no notebook started
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow  # test_messages checks the missing corpus line in make test
def test_a_missing_corpus_is_one_line_naming_the_variable_and_leaves_no_entry(
    tmp_path: Path,
) -> None:
    env = {"NEWSAPI_DATA_HOME": str(tmp_path / "nowhere"), "SCIKIT_LEARN_DATA": ""}
    out = newsapi("train", "--artifacts", str(tmp_path / "a"), env=env)
    assert out.returncode == 1
    last = out.stderr.strip().splitlines()[-1]
    assert last.startswith("newsapi: 01_train.ipynb failed: DataNotFoundError: ")
    assert "Set NEWSAPI_DATA_HOME (or SCIKIT_LEARN_DATA)" in last
    kept = re.search(r"the executed notebook is kept in (\S+)$", last).group(1)  # type: ignore[union-attr]
    assert Path(kept).is_file()
    assert "Traceback" not in out.stderr
    assert debris(tmp_path / "a") == ["failed", f"failed/{Path(kept).name}"]
    assert ModelStore(tmp_path / "a").entries() == []


@pytest.fixture
def running_train(tmp_path: Path, corpus_csv: Path) -> Iterator[tuple[Path, subprocess.Popen[str]]]:
    root = tmp_path / "artifacts"
    process = subprocess.Popen(
        [NEWSAPI, "train", "--artifacts", str(root), "-p", "dataset", str(corpus_csv),
         "-p", "alpha", "0.3"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    yield root, process
    if process.poll() is None:
        process.kill()
        process.wait()


def staged(root: Path) -> list[Path]:
    return list((root / "models").glob(".incoming-*-run-*/models/[0-9a-f]*/newsgroups_model.json"))


@pytest.mark.parametrize(
    "when",
    [
        pytest.param("during 01_train", marks=pytest.mark.slow),
        "during 02_evaluate",
        pytest.param("after the entry landed", marks=pytest.mark.slow),
    ],
)
def test_a_killed_training_run_leaves_no_entry_or_a_complete_one(
    running_train: tuple[Path, subprocess.Popen[str]], when: str
) -> None:
    root, process = running_train
    conditions = {
        "during 01_train": lambda: bool(list((root / "models").glob(".incoming-*-run-*"))),
        "during 02_evaluate": lambda: bool(staged(root)),
        "after the entry landed": lambda: bool(ModelStore(root).entries()),
    }
    deadline = time.monotonic() + 180
    while not conditions[when]() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert process.poll() is None, "the run ended before the kill point"
    process.send_signal(signal.SIGKILL)
    process.wait()
    entries = ModelStore(root).entries()
    for entry in entries:  # whatever is listed is whole
        assert (entry.path / "notebooks" / "02_evaluate.html").is_file()
        load_artifact(entry.model_path)
    if when != "after the entry landed":
        assert entries == []
