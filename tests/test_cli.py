"""The ``newsapi`` command as a newcomer uses it: the real console script in a subprocess, real
notebooks under papermill, a real store on disk."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest

from newsapi.model.artifact import load_artifact
from newsapi.store.catalog import ModelStore
from tests.support import ROOT, topic_sentences, write_csv

NEWSAPI = str(Path(sys.executable).parent / "newsapi")


def newsapi(
    *args: str, env: dict[str, str] | None = None, cwd: Path = ROOT
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [NEWSAPI, *args], cwd=cwd, capture_output=True, text=True, timeout=300,
        env={**os.environ, **(env or {})}, check=False,
    )  # fmt: skip


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


@pytest.fixture(scope="module")
def corpus_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_csv(tmp_path_factory.mktemp("corpus") / "own.csv", topic_sentences(30))


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory: pytest.TempPathFactory, corpus_csv: Path) -> tuple[Path, str, str]:
    """A store that ``newsapi train`` filled with two runs; the second kept as a candidate.
    The first skips the runs page (--no-index), the second writes it with both."""
    root = tmp_path_factory.mktemp("artifacts")
    first = newsapi(
        "train", "--artifacts", str(root), "-p", "dataset", str(corpus_csv), "--no-index"
    )
    assert first.returncode == 0, first.stderr[-3000:]
    assert "`newsapi index` refreshes the page of all runs" in first.stdout
    assert not (root / "index.html").exists()
    second = newsapi(
        "train", "--artifacts", str(root), "-y", f"{{dataset: {corpus_csv}, alpha: 0.1}}",
        "-p", "classifier", "complement_nb", "--no-promote",
    )  # fmt: skip
    assert second.returncode == 0, second.stderr[-3000:]
    versions = [re.search(r"model ([0-9a-f]{12})", r.stdout).group(1) for r in (first, second)]  # type: ignore[union-attr]
    assert "is now promoted" in first.stdout
    assert "kept as a candidate" in second.stdout
    return root, versions[0], versions[1]


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


def test_runs_lists_every_model_and_marks_the_promoted_one(two_runs: tuple[Path, str, str]) -> None:
    root, first, second = two_runs
    table = newsapi("runs", "--artifacts", str(root))
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[0].split() == [
        "version", "created", "(UTC)", "classifier", "alpha", "accuracy", "macro-F1",
    ]  # fmt: skip
    assert lines[1].split()[0] == second  # newest first, not promoted
    assert lines[2].startswith("*")
    assert first in lines[2]
    rows = json.loads(newsapi("runs", "--json", "--artifacts", str(root)).stdout)
    assert [(row["version"], row["promoted"]) for row in rows] == [(second, False), (first, True)]
    assert rows[0]["parameters"] == {"classifier": "complement_nb", "alpha": 0.1}


def test_compare_shows_the_manifests_figures(two_runs: tuple[Path, str, str]) -> None:
    root, first, second = two_runs
    out = newsapi("compare", first[:5], second[:5], "--artifacts", str(root))
    assert out.returncode == 0, out.stderr
    a = ModelStore(root).get(first).manifest  # type: ignore[union-attr]
    b = ModelStore(root).get(second).manifest  # type: ignore[union-attr]
    assert "  alpha         1.0 -> 0.1" in out.stdout
    assert '  classifier    "multinomial_nb" -> "complement_nb"' in out.stdout
    for name in ("accuracy", "macro_f1"):
        va, vb = a["metrics"][name], b["metrics"][name]
        row = f"{name}".ljust(30) + f"{va:.4f}".rjust(8) + f"{vb:.4f}".rjust(8)
        assert row + f"{vb - va:+.4f}".rjust(9) in out.stdout.splitlines()
    for name, scores in a["metrics"]["per_class"].items():
        fb = b["metrics"]["per_class"][name]["f1"]
        row = f"F1 {name}".ljust(30) + f"{scores['f1']:.4f}".rjust(8) + f"{fb:.4f}".rjust(8)
        assert any(line.startswith(row) for line in out.stdout.splitlines())


def test_show_prints_the_manifest(two_runs: tuple[Path, str, str]) -> None:
    root, first, _ = two_runs
    out = newsapi("show", first[:4], "--artifacts", str(root))
    assert out.returncode == 0, out.stderr
    manifest = ModelStore(root).get(first).manifest  # type: ignore[union-attr]
    assert out.stdout.startswith(f"model {first}")
    assert f"sha256      {manifest['sha256']}" in out.stdout
    assert "promoted    yes" in out.stdout


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.hrefs += [value for name, value in attrs if name == "href" and value]


def test_index_links_every_run_to_pages_that_exist(two_runs: tuple[Path, str, str]) -> None:
    root, first, second = two_runs
    parser = Links()
    parser.feed((root / "index.html").read_text())
    local = [h for h in parser.hrefs if h.startswith("models/")]
    for version in (first, second):
        for page in ("card.html", "notebooks/01_train.html", "notebooks/02_evaluate.html"):
            assert f"models/{version}/{page}" in local
    assert all((root / href).is_file() for href in local)


def test_promote_and_rollback_from_the_command_line(
    two_runs: tuple[Path, str, str], tmp_path: Path
) -> None:
    root, first, second = two_runs
    copy = tmp_path / "artifacts"
    subprocess.run(["cp", "-a", str(root), str(copy)], check=True)
    out = newsapi("promote", second[:6], "--artifacts", str(copy))
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith(f"model {second} is now promoted (was {first})")
    assert "POST /admin/reload" in out.stdout
    assert load_artifact(copy / "newsgroups_model.joblib").model_version == second
    back = newsapi("rollback", env={"NEWSAPI_ARTIFACTS_DIR": str(copy)})
    assert back.returncode == 0, back.stderr
    assert back.stdout.startswith(f"rolled back to model {first} (was {second})")
    assert load_artifact(copy / "newsgroups_model.joblib").model_version == first


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["promote", "zzzz"], "newsapi: no stored model matches 'zzzz'; stored: "),
        (["promote", ""], "newsapi: no stored model matches ''"),
        (["show", "0123456789ab"], "newsapi: no stored model matches '0123456789ab'"),
        (["compare", "zz", "yy"], "newsapi: no stored model matches 'zz'"),
    ],
)
def test_unknown_versions_are_refused_in_one_line_and_change_nothing(
    two_runs: tuple[Path, str, str], args: list[str], message: str
) -> None:
    root, *_ = two_runs
    before = (root / "newsgroups_model.joblib").read_bytes()
    out = newsapi(*args, "--artifacts", str(root))
    assert out.returncode == 1
    assert out.stderr.startswith(message)
    assert out.stderr.count("\n") == 1
    assert (root / "newsgroups_model.joblib").read_bytes() == before


def test_an_empty_store_and_a_damaged_entry_are_refused(
    tmp_path: Path, two_runs: tuple[Path, str, str]
) -> None:
    for args in (["runs"], ["promote", "abc"], ["rollback"]):
        out = newsapi(*args, "--artifacts", str(tmp_path / "empty"))
        assert out.returncode == 1, args
        assert out.stderr.count("\n") == 1, out.stderr
        assert "newsapi train" in out.stderr or "newsapi promote" in out.stderr
    root, _, second = two_runs
    copy = tmp_path / "artifacts"
    subprocess.run(["cp", "-a", str(root), str(copy)], check=True)
    model = copy / "models" / second / "newsgroups_model.joblib"
    model.write_bytes(model.read_bytes() + b"tampered")
    before = (copy / "newsgroups_model.joblib").read_bytes()
    out = newsapi("promote", second, "--artifacts", str(copy))
    assert out.returncode == 1
    assert out.stderr == (
        f"newsapi: store entry {second} does not match its manifest's sha256 (damaged or "
        f"edited); delete {copy / 'models' / second} or retrain it with `newsapi train`\n"
    )
    assert (copy / "newsgroups_model.joblib").read_bytes() == before


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


def test_failed_runs_are_pruned_to_the_last_five(tmp_path: Path) -> None:
    store = ModelStore(tmp_path)
    notebook = tmp_path / "01_train.ipynb"
    notebook.write_text("{}")
    kept = [store.record_failure(notebook) for _ in range(8)]
    assert sorted(p.name for p in (tmp_path / "failed").iterdir()) == [p.name for p in kept[-5:]]


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


@pytest.mark.parametrize("workers", ["1", "2"])
def test_serve_refuses_a_bad_artifact_before_any_worker_starts(
    tmp_path: Path, model_copy: Path, workers: str
) -> None:
    model_copy.write_bytes(model_copy.read_bytes()[:-100])  # truncated after training
    out = newsapi(
        "serve", "--workers", workers, "--port", "1",
        env={"NEWSAPI_MODEL_PATH": str(model_copy)},
    )  # fmt: skip
    assert out.returncode == 3
    assert out.stderr.startswith(f"newsapi: cannot start: model file {model_copy} does not match")
    assert out.stderr.count("\n") == 1
    assert "Traceback" not in out.stderr + out.stdout
