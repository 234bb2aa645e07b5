"""``newsapi sweep`` says what a sweep will cost before it runs (its fits, and a rough time
from one fit timed first) and runs one of more than ``--max-fits`` fits only with ``--yes``."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from newsapi.store.catalog import ModelStore
from tests.support import newsapi, overlapping_sentences, write_csv

COST = re.compile(
    r"^sweep: (?P<fits>[\d,]+) fits \((?P<candidates>[\d,]+) candidates x (?P<folds>\d+) folds\) "
    r"and a refit of the winner; one fit took \d+\.\d\d s here, so roughly \d+(\.\d)? (s|min|h) "
    r"on \d+ parallel process\(es\)$"
)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_csv(tmp_path_factory.mktemp("corpus") / "own.csv", overlapping_sentences())


def test_a_sweep_past_the_threshold_is_refused_before_anything_runs(
    tmp_path: Path, corpus: Path
) -> None:
    artifacts = tmp_path / "artifacts"
    grid = json.dumps({"alpha": [round(0.01 * i, 2) for i in range(1, 701)]})
    refused = newsapi(
        "sweep", "--artifacts", str(artifacts), "-p", "dataset", str(corpus), "-p", "grid", grid,
    )  # fmt: skip
    assert refused.returncode == 1
    (line,) = refused.stdout.splitlines()
    cost = COST.match(line)
    assert cost, line
    assert (cost["fits"], cost["candidates"], cost["folds"]) == ("2,100", "700", "3")
    assert refused.stderr.count("\n") == 1, refused.stderr
    assert refused.stderr.startswith("newsapi: 2,100 fits is more than --max-fits 2,000 (roughly ")
    assert refused.stderr.rstrip().endswith(
        "pass --yes to run them, or use fewer values, fewer folds, or search: random with n_iter"
    )
    assert not artifacts.exists(), "nothing is written before the sweep runs"


@pytest.mark.slow  # a whole sweep past the limit; the refusal itself is tested above
def test_max_fits_is_a_parameter_and_yes_runs_past_it(tmp_path: Path, corpus: Path) -> None:
    artifacts = tmp_path / "artifacts"
    grid = json.dumps({"classifier": ["multinomial_nb", "complement_nb"], "alpha": [0.1, 1.0]})
    common = ["sweep", "--artifacts", str(artifacts), "-p", "dataset", str(corpus),
              "-p", "grid", grid, "-p", "n_jobs", "1", "--max-fits", "10"]  # fmt: skip
    refused = newsapi(*common)
    assert refused.returncode == 1
    assert refused.stderr.startswith("newsapi: 12 fits is more than --max-fits 10 (roughly ")
    done = newsapi(*common, "--yes")
    assert done.returncode == 0, done.stderr[-3000:]
    first = done.stdout.splitlines()[0]
    assert COST.match(first), first
    assert first.startswith("sweep: 12 fits (4 candidates x 3 folds)")
    assert first.endswith("on 1 parallel process(es)")
    assert len(ModelStore(artifacts).entries()) == 1


def test_a_corpus_that_does_not_load_leaves_the_count_untimed(tmp_path: Path) -> None:
    rows = overlapping_sentences(5)
    data = write_csv(tmp_path / "no-text.csv", rows, header=("body", "label"))
    refused = newsapi(
        "sweep", "--artifacts", str(tmp_path / "artifacts"), "-p", "dataset", str(data),
        "-p", "grid", "{alpha: [0.1, 1]}", "--max-fits", "1",
    )  # fmt: skip
    assert refused.returncode == 1
    assert refused.stdout.startswith(
        "sweep: 6 fits (2 candidates x 3 folds) and a refit of the winner; not timed (the "
        "corpus did not load: dataset: "
    )
    assert refused.stderr == (
        "newsapi: 6 fits is more than --max-fits 1; pass --yes to run them, or use fewer "
        "values, fewer folds, or search: random with n_iter\n"
    )
