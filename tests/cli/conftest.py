"""Fixtures of the command-line tests: a corpus file, and a store that ``newsapi train`` filled
with two runs (trained once for the whole package: each run executes two notebooks)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.support import newsapi, topic_sentences, write_csv


@pytest.fixture(scope="package")
def corpus_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_csv(tmp_path_factory.mktemp("corpus") / "own.csv", topic_sentences(30))


@pytest.fixture(scope="package")
def two_runs(tmp_path_factory: pytest.TempPathFactory, corpus_csv: Path) -> tuple[Path, str, str]:
    """A store that ``newsapi train`` filled with two runs; the second kept as a candidate.
    The first skips the runs page (--no-index), the second writes it with both."""
    root = tmp_path_factory.mktemp("artifacts")
    first = newsapi(
        "train", "--artifacts", str(root), "-p", "dataset", str(corpus_csv), "--no-index"
    )
    assert first.returncode == 0, first.stderr[-3000:]
    assert "newsapi index` refreshes the page of all runs" in first.stdout
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
