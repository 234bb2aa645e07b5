"""What the commands say, checked against what happened: a rerun that changed nothing says so,
promoting the promoted model logs nothing, a rollback at the start of the history lists what
was promoted, hints name a command that runs from where the user stands, the help lists the
training parameters, ``runs`` shows a parameter only where the classifier uses it, and a run
refused for want of the corpus leaves nothing behind."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from newsapi.cli.train import promotion_line
from newsapi.model.data import load_csv
from newsapi.model.params import DEFAULTS, TrainingParameters
from newsapi.model.params_cli import parameter_help
from newsapi.store.catalog import ModelStore
from newsapi.training.run import train_and_store
from tests.support import NEWSAPI, ROOT, newsapi

VENV_BIN = str(Path(NEWSAPI).parent)


def copy_of(root: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "artifacts"
    subprocess.run(["cp", "-a", str(root), str(copy)], check=True)
    return copy


def without_venv() -> dict[str, str]:
    """PATH as a user has it who never activated the project's .venv."""
    kept = [p for p in os.environ["PATH"].split(os.pathsep) if p and Path(p) != Path(VENV_BIN)]
    return {"PATH": os.pathsep.join(kept)}


# -- a rerun, a promotion or a rollback that changes nothing says so ----------------------------
def test_train_no_promote_with_the_promoted_models_parameters_says_nothing_changed(
    two_runs: tuple[Path, str, str], corpus_csv: Path, tmp_path: Path
) -> None:
    root, first, _ = two_runs
    copy = copy_of(root, tmp_path)
    log = (copy / "models" / "promotions.jsonl").read_bytes()
    page = (copy / "index.html").read_bytes()
    out = newsapi(
        "train", "--artifacts", str(copy), "-p", "dataset", str(corpus_csv), "--no-promote"
    )
    assert out.returncode == 0, out.stderr[-3000:]
    last = out.stdout.strip().splitlines()[-1]
    assert last == f"already stored as {first}, which is the promoted model; nothing changed"
    assert "candidate" not in out.stdout
    assert ModelStore(copy).served_version() == first
    assert (copy / "models" / "promotions.jsonl").read_bytes() == log
    assert (copy / "index.html").read_bytes() == page  # nothing to refresh


def test_what_a_run_says_of_the_promoted_model() -> None:
    assert promotion_line("aaa", "aaa", promoted=False, reused=True) == (
        "already stored as aaa, which is the promoted model; nothing changed"
    )
    candidate = promotion_line("aaa", "bbb", promoted=False, reused=True)
    assert candidate.startswith("already stored as aaa, a candidate; nothing changed; `")
    assert candidate.endswith("newsapi promote aaa` serves it")
    assert promotion_line("aaa", "bbb", promoted=True, reused=True).startswith(
        "model aaa is now promoted (was bbb); "
    )
    assert promotion_line("aaa", None, promoted=True, reused=False).startswith(
        "model aaa is now promoted; "
    )
    fresh = promotion_line("aaa", "bbb", promoted=False, reused=False)
    assert fresh.startswith("model aaa kept as a candidate; `")


def test_promoting_the_promoted_model_changes_and_logs_nothing(
    two_runs: tuple[Path, str, str], tmp_path: Path
) -> None:
    root, first, _ = two_runs
    copy = copy_of(root, tmp_path)
    log = copy / "models" / "promotions.jsonl"
    before = (log.read_bytes(), (copy / "newsgroups_model.json").stat().st_mtime_ns)
    out = newsapi("promote", first[:6], "--artifacts", str(copy))
    assert out.returncode == 0, out.stderr
    assert out.stdout == f"model {first} is already the promoted model; nothing changed\n"
    assert (log.read_bytes(), (copy / "newsgroups_model.json").stat().st_mtime_ns) == before


def test_a_rollback_past_the_start_of_the_history_says_so_and_lists_the_promotions(
    two_runs: tuple[Path, str, str], tmp_path: Path
) -> None:
    root, first, second = two_runs
    copy = copy_of(root, tmp_path)
    assert newsapi("promote", second, "--artifacts", str(copy)).returncode == 0
    back = newsapi("rollback", "--artifacts", str(copy))
    assert back.returncode == 0, back.stderr
    assert back.stdout.startswith(f"rolled back to model {first} (was {second})")
    again = newsapi("rollback", "--artifacts", str(copy))
    assert again.returncode == 1
    assert again.stderr.count("\n") == 1
    assert "fewer than two" not in again.stderr
    assert again.stderr.startswith(
        "newsapi: nothing to roll back to: the start of the promotion history is reached "
        f"(model {first}); promoted so far, oldest first: {first}, {second}; serve one again "
        "with `"
    )
    assert again.stderr.endswith("newsapi promote VERSION`\n")
    assert ModelStore(copy).served_version() == first


def test_a_store_where_one_model_was_ever_promoted_still_says_so(
    two_runs: tuple[Path, str, str],
) -> None:
    root, *_ = two_runs
    out = newsapi("rollback", "--artifacts", str(root))
    assert out.returncode == 1
    assert "nothing to roll back to: fewer than two models were ever promoted" in out.stderr


# -- hints name a command that runs -------------------------------------------------------------
@pytest.mark.parametrize("where", ["project folder", "elsewhere", "activated .venv"])
def test_hints_name_the_command_in_the_form_that_runs_here(tmp_path: Path, where: str) -> None:
    cwd = tmp_path if where == "elsewhere" else ROOT
    env = without_venv()
    if where == "activated .venv":
        env["PATH"] = os.pathsep.join([VENV_BIN, env["PATH"]])
    out = newsapi("runs", "--artifacts", str(tmp_path / "empty"), env=env, cwd=cwd)
    assert out.returncode == 1
    hinted = re.search(r"train one with `([^`]+) train`", out.stderr)
    assert hinted, out.stderr
    command = hinted.group(1)
    expected = {
        "project folder": os.path.relpath(NEWSAPI, ROOT),
        "elsewhere": NEWSAPI,
        "activated .venv": "newsapi",
    }[where]
    assert command == expected
    # and it does run from there, as the user would type it
    lookup = shutil.which(command, path=env["PATH"]) if "/" not in command else None
    runnable = lookup or str(cwd / command)
    assert Path(runnable).resolve() == Path(NEWSAPI).resolve()


# -- discoverability ----------------------------------------------------------------------------
def test_train_help_lists_the_training_parameters_read_off_the_parameter_object() -> None:
    out = newsapi("train", "--help")
    assert out.returncode == 0, out.stderr
    assert "Training parameters (-p NAME VALUE, or -y 'NAME: VALUE'):" in out.stdout
    listed = " ".join(out.stdout.split("Training parameters", 1)[1].split())
    for name, text in parameter_help():
        assert f"{name} {' '.join(text.split())}" in listed, name
    assert len(parameter_help()) == len(TrainingParameters.model_fields)
    assert "alpha float, default 1.0, in (0, 100]:" in listed
    assert "calibrate bool, default false:" in listed


def test_a_misspelled_category_is_refused_with_the_closest_name(tmp_path: Path) -> None:
    out = newsapi(
        "train", "--artifacts", str(tmp_path / "a"), "-y", "categories: [sci.spaec, rec.autos]"
    )
    assert out.returncode == 1
    assert out.stderr == (
        "newsapi: categories: unknown category 'sci.spaec'; did you mean 'sci.space'?\n"
    )
    assert not (tmp_path / "a").exists()


def test_runs_shows_a_parameter_only_where_the_classifier_uses_it(
    two_runs: tuple[Path, str, str], corpus_csv: Path, tmp_path: Path
) -> None:
    root, first, second = two_runs
    copy = copy_of(root, tmp_path)
    svc = train_and_store(
        ModelStore(copy),
        DEFAULTS.replace(dataset=str(corpus_csv), classifier="linear_svc", C=0.5),
        load_csv(corpus_csv),
    )
    out = newsapi("runs", "--artifacts", str(copy))
    assert out.returncode == 0, out.stderr
    header, *lines = out.stdout.splitlines()
    names = header.split()
    assert names == [
        "version", "created", "(UTC)", "classifier", "alpha", "C", "accuracy", "macro-F1",
    ]  # fmt: skip
    cells = {line.lstrip("* ").split()[0]: line.lstrip("* ").split() for line in lines}
    # version, date, time, classifier, alpha, C, accuracy, macro-F1
    assert cells[svc.version][3:6] == ["linear_svc", "-", "0.5"]
    assert cells[first][3:6] == ["multinomial_nb", "1.0", "-"]
    assert cells[second][3:6] == ["complement_nb", "0.1", "-"]
    rows = {
        row["version"]: row
        for row in json.loads(newsapi("runs", "--json", "--artifacts", str(copy)).stdout)
    }
    assert rows[svc.version]["parameters"] == {"classifier": "linear_svc", "C": 0.5}
    assert rows[first]["parameters"] == {"classifier": "multinomial_nb", "alpha": 1.0}


# -- a run refused for want of the corpus leaves nothing ----------------------------------------
def test_a_run_without_the_corpus_leaves_no_folder_and_names_both_variables(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    unset = ("NEWSAPI_DATA_HOME", "SCIKIT_LEARN_DATA", "NEWSAPI_ARTIFACTS_DIR")
    env = {
        **{name: value for name, value in os.environ.items() if name not in unset},
        "HOME": str(home),
        # a network that refuses (a proxy on a closed local port), as offline
        **{name: "http://127.0.0.1:9" for name in ("https_proxy", "HTTPS_PROXY", "http_proxy")},
        "no_proxy": "",
        "NO_PROXY": "",
    }
    out = subprocess.run(
        [NEWSAPI, "train", "--artifacts", str(tmp_path / "a"), "--no-index"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert out.returncode == 1
    last = out.stderr.strip().splitlines()[-1]
    assert "DataNotFoundError: the 20 newsgroups corpus is not cached in " in last
    assert f"{home / 'scikit_learn_data'} (no 20news-bydate_py3.pkz there)" in last
    assert "NEWSAPI_DATA_HOME (or SCIKIT_LEARN_DATA)" in last
    assert not (home / "scikit_learn_data").exists()
