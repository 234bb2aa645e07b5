"""``newsapi runs``, ``show``, ``compare``, ``index``, ``promote`` and ``rollback`` as a user runs
them: the real console script in a subprocess over a store that ``newsapi train`` filled."""

from __future__ import annotations

import json
import os
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from newsapi.model.artifact import load_artifact
from newsapi.store.catalog import ModelStore
from tests.support import NEWSAPI, newsapi


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
    models = tmp_path / "empty" / "models"
    refusals = {
        "runs": f"no stored models in {models}; train one with `newsapi train`",
        "promote abc": f"the store in {models} is empty; train a model first with `newsapi train`",
        "rollback": "nothing to roll back to: fewer than two models were ever promoted "
        "(see `newsapi runs`, then `newsapi promote VERSION`)",
    }
    # the project's script first on PATH: the hints name it plainly
    on_path = {"PATH": os.pathsep.join([str(Path(NEWSAPI).parent), os.environ["PATH"]])}
    for command, message in refusals.items():
        out = newsapi(*command.split(), "--artifacts", str(tmp_path / "empty"), env=on_path)
        assert out.returncode == 1, command
        assert out.stderr == f"newsapi: {message}\n"
    root, _, second = two_runs
    copy = tmp_path / "artifacts"
    subprocess.run(["cp", "-a", str(root), str(copy)], check=True)
    model = copy / "models" / second / "newsgroups_model.joblib"
    model.write_bytes(model.read_bytes() + b"tampered")
    before = (copy / "newsgroups_model.joblib").read_bytes()
    out = newsapi("promote", second, "--artifacts", str(copy))
    assert out.returncode == 1
    assert out.stderr.startswith(
        f"newsapi: store entry {second} does not match its manifest's sha256 (damaged or "
        f"edited); delete {copy / 'models' / second} or retrain it with `"
    )
    assert out.stderr.endswith("newsapi train`\n")  # the command as it runs from here
    assert (copy / "newsgroups_model.joblib").read_bytes() == before
