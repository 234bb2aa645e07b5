"""What a reviewer reads after ``newsapi train``: the executed notebooks of each run record what
happened (what was promoted, paths relative to the store), the HTML pages show results and
leave the code to the notebooks they link to, the runs page has one classifier column, and no
page or card names a folder of the machine that built it. Also: each notebook's progress bar
carries its name, and a calibrated run goes through both notebooks."""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import pytest

from newsapi.model.artifact import load_artifact
from newsapi.store.catalog import ModelStore
from tests.support import ROOT, newsapi, topic_sentences, write_csv


@dataclass(frozen=True)
class Reviewed:
    root: Path
    promoted: str  #: multinomial_nb, alpha 0.5, promoted (--no-index)
    candidate: str  #: linear_svc, C 0.5, calibrated, kept as a candidate (writes index.html)
    stderr: str  #: both runs' terminal output on stderr (the progress bars)


@pytest.fixture(scope="module")
def reviewed(tmp_path_factory: pytest.TempPathFactory) -> Reviewed:
    corpus = write_csv(tmp_path_factory.mktemp("corpus") / "own.csv", topic_sentences(30))
    root = tmp_path_factory.mktemp("artifacts")
    first = newsapi(
        "train", "--artifacts", str(root), "-p", "dataset", str(corpus), "-p", "alpha", "0.5",
        "--no-index",
    )  # fmt: skip
    assert first.returncode == 0, first.stderr[-3000:]
    second = newsapi(
        "train", "--artifacts", str(root), "-p", "dataset", str(corpus),
        "-p", "classifier", "linear_svc", "-p", "C", "0.5", "-p", "calibrate", "true",
        "--no-promote",
    )  # fmt: skip
    assert second.returncode == 0, second.stderr[-3000:]
    versions = [re.search(r"model ([0-9a-f]{12})", r.stdout).group(1) for r in (first, second)]  # type: ignore[union-attr]
    return Reviewed(root, versions[0], versions[1], first.stderr + second.stderr)


def notebook(reviewed: Reviewed, version: str, name: str) -> dict:  # type: ignore[type-arg]
    path = reviewed.root / "models" / version / "notebooks" / f"{name}.ipynb"
    return json.loads(path.read_text())  # type: ignore[no-any-return]


def injected(executed: dict) -> str:  # type: ignore[type-arg]
    (cell,) = [c for c in executed["cells"] if "injected-parameters" in c["metadata"]["tags"]]
    return "".join(cell["source"])


def printed(executed: dict) -> str:  # type: ignore[type-arg]
    return "".join(
        "".join(output.get("text", ""))
        for cell in executed["cells"]
        for output in cell.get("outputs", [])
    )


def pages(reviewed: Reviewed) -> dict[str, str]:
    """Every page and card the runs generated: relative path -> text."""
    found = sorted(reviewed.root.glob("**/*.html")) + sorted(reviewed.root.glob("**/card.md"))
    return {p.relative_to(reviewed.root).as_posix(): p.read_text() for p in found}


# -- the executed notebooks record the run as it was --------------------------------------------
def test_a_run_notebook_says_whether_the_run_was_promoted(reviewed: Reviewed) -> None:
    promoted = notebook(reviewed, reviewed.promoted, "01_train")
    assert "\npromote = True\n" in injected(promoted)
    assert f"model {reviewed.promoted} stored in models/{reviewed.promoted}/; promoted: yes" in (
        printed(promoted)
    )
    candidate = notebook(reviewed, reviewed.candidate, "01_train")
    assert "\npromote = False\n" in injected(candidate)
    assert "promoted: no" in printed(candidate)
    assert ModelStore(reviewed.root).served_version() == reviewed.promoted
    for page, wording in (
        (reviewed.promoted, "promoted: yes"),
        (reviewed.candidate, "promoted: no"),
    ):
        html = (reviewed.root / "models" / page / "notebooks" / "01_train.html").read_text()
        assert wording in html


def test_a_run_notebook_names_paths_relative_to_the_store(reviewed: Reviewed) -> None:
    for version in (reviewed.promoted, reviewed.candidate):
        train = notebook(reviewed, version, "01_train")
        assert '\nartifact_dir = "."\n' in injected(train)
        evaluate = notebook(reviewed, version, "02_evaluate")
        model_path = f"models/{version}/newsgroups_model.joblib"
        assert f'model_path = "{model_path}"' in injected(evaluate)
        assert (reviewed.root / model_path).is_file()  # true in the store it is filed in
        for name, executed in (("01_train", train), ("02_evaluate", evaluate)):
            record = executed["metadata"]["papermill"]
            assert record["input_path"] == f"notebooks/{name}.ipynb"
            assert record["output_path"] == f"{name}.ipynb"
            text = json.dumps(executed)
            assert ".incoming-" not in text
            assert str(reviewed.root) not in text
            assert str(ROOT) not in text


# -- the pages show results; the code stays in the notebooks ------------------------------------
class Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.headers: list[str] = []
        self.cells: list[str] = []
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.hrefs += [value for name, value in attrs if name == "href" and value]
        if tag in ("th", "td"):
            self._in = tag
            (self.headers if tag == "th" else self.cells).append("")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("th", "td"):
            self._in = None

    def handle_data(self, data: str) -> None:
        if self._in == "th":
            self.headers[-1] += data
        elif self._in == "td":
            self.cells[-1] += data


def read(path: Path) -> Page:
    page = Page()
    page.feed(path.read_text())
    return page


def test_the_runs_page_has_one_classifier_column_and_plain_values(reviewed: Reviewed) -> None:
    page = read(reviewed.root / "index.html")
    head = page.headers[: page.headers.index("pages") + 1]
    assert head == [
        "", "version", "created (UTC)", "classifier", "alpha", "C", "calibrate", "accuracy",
        "macro-F1", "pages",
    ]  # fmt: skip
    rows = [page.cells[i : i + len(head)] for i in range(0, 2 * len(head), len(head))]
    by_version = {row[1]: row for row in rows}
    assert by_version[reviewed.candidate][3:7] == ["linear_svc", "-", "0.5", "true"]
    assert by_version[reviewed.promoted][3:7] == ["multinomial_nb", "0.5", "-", "false"]
    assert by_version[reviewed.promoted][0] == "★"
    assert by_version[reviewed.candidate][0] == ""
    text = (reviewed.root / "index.html").read_text()
    assert "★ marks the promoted model" in text
    assert "`*`" not in text
    assert "<code>*</code>" not in text
    assert "&quot;linear_svc&quot;" not in text
    assert '"linear_svc"' not in text


def test_the_pages_show_results_and_link_the_notebooks_that_hold_the_code(
    reviewed: Reviewed,
) -> None:
    code = ("from newsapi", "# Parameters", "TrainingParameters.from_namespace", "runs_html(")
    for version in (reviewed.promoted, reviewed.candidate):
        folder = reviewed.root / "models" / version / "notebooks"
        for name, result in (("01_train", "accuracy 1.0000"), ("02_evaluate", "precision")):
            html = (folder / f"{name}.html").read_text()
            assert result in html  # the outputs are there
            assert not [line for line in code if line in html], name  # the code is not
            assert f"{name}.ipynb" in read(folder / f"{name}.html").hrefs
            assert (folder / f"{name}.ipynb").is_file()
    index = (reviewed.root / "index.html").read_text()
    assert not [line for line in code if line in index]
    assert "runs shown; the best macro-F1 is" in index
    assert "notebooks/04_compare.ipynb" in index


def test_no_page_or_card_names_a_folder_of_the_building_machine(reviewed: Reviewed) -> None:
    found = pages(reviewed)
    assert "index.html" in found
    assert f"models/{reviewed.candidate}/card.html" in found
    for name, text in found.items():
        for folder in (str(reviewed.root), str(reviewed.root.resolve()), str(ROOT), ".incoming-"):
            assert folder not in text, (name, folder)


# -- the terminal, and a calibrated run ---------------------------------------------------------
def test_each_notebook_run_has_a_progress_bar_named_after_it(reviewed: Reviewed) -> None:
    bars = set(re.findall(r"(\w+): +\d+%\|", reviewed.stderr))
    assert bars == {"01_train", "02_evaluate", "04_compare"}
    assert "Executing" not in reviewed.stderr


def test_a_calibrated_run_goes_through_both_notebooks_with_probabilities(
    reviewed: Reviewed,
) -> None:
    entry = ModelStore(reviewed.root).get(reviewed.candidate)
    assert entry is not None
    assert entry.manifest["parameters"]["calibrate"] is True
    pipeline = load_artifact(entry.model_path).pipeline
    assert type(pipeline[-1]).__name__ == "CalibratedClassifierCV"
    assert pipeline.predict_proba(["rocket orbit moon"]).shape == (1, 3)
    evaluated = printed(notebook(reviewed, reviewed.candidate, "02_evaluate"))
    assert f"model {reviewed.candidate}: CalibratedClassifierCV, 3 categories" in evaluated
    assert "-p calibrate True" in (entry.path / "card.md").read_text()


def test_the_store_holds_nothing_but_its_files(reviewed: Reviewed) -> None:
    hidden = subprocess.run(
        ["find", str(reviewed.root), "-name", ".*", "-not", "-name", ".lock"],
        capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    assert hidden == []
