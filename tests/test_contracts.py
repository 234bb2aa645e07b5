"""The layers' import contracts (pyproject.toml, import-linter): each fails when broken.

Each case copies the package beside the project's pyproject.toml into a temporary folder,
adds one forbidden import to one module, and runs ``lint-imports`` there: the contract that
forbids it must report BROKEN and the command must fail.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")

VIOLATIONS = [
    ("newsapi.model imports nothing else", "model/data.py", "import newsapi.serving.service"),
    ("training, jobs and the store never import", "store/runs.py", "import newsapi.http.app"),
    ("serving never imports HTTP", "serving/results.py", "import newsapi.http.pipeline"),
    ("serving reaches the store only through", "serving/watch.py", "import newsapi.store.catalog"),
    ("HTTP never imports jobs, training", "http/deps.py", "import newsapi.training.card"),
    ("only newsapi.http speaks HTTP", "serving/activity.py", "import fastapi"),
    ("only newsapi.jobs runs notebooks", "training/plots.py", "import papermill"),
    ("scoring never imports HTTP", "scoring/local.py", "import newsapi.http.app"),
    ("scoring never imports HTTP", "scoring/job.py", "import newsapi.training.pipeline"),
    (
        "scoring reaches serving only through",
        "scoring/batches.py",
        "import newsapi.serving.service",
    ),
    ("only the command line imports scoring", "store/runs.py", "import newsapi.scoring.job"),
    (
        "monitoring never imports HTTP, the command line",
        "monitoring/report.py",
        "import newsapi.cli",
    ),
    (
        "monitoring reaches serving only through",
        "monitoring/window.py",
        "import newsapi.serving.service",
    ),
    ("never import monitoring", "serving/predlog/files.py", "import newsapi.monitoring.report"),
    ("the client imports nothing of the project", "client/calls.py", "import newsapi.settings"),
    ("the client imports nothing of the project", "client/results.py", "import pydantic"),
]
#: a case's name: the module and what it imports (a module may break two contracts)
CASES = [f"{module}:{line.split()[-1]}" for _, module, line in VIOLATIONS]


def lint_imports(folder: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(folder)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=folder, env=env, capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("contracts")
    shutil.copytree(
        ROOT / "newsapi", folder / "newsapi", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copy(ROOT / "pyproject.toml", folder / "pyproject.toml")
    return folder


def test_the_package_keeps_every_contract(pristine: Path) -> None:
    done = lint_imports(pristine)
    assert done.returncode == 0, done.stdout[-3000:]
    assert " 0 broken." in done.stdout, done.stdout[-3000:]
    report = " ".join(done.stdout.split())  # the report wraps long contract names
    for contract in {contract for contract, _, _ in VIOLATIONS}:
        assert contract in report, f"no contract named {contract!r}"


@pytest.mark.parametrize(("contract", "module", "line"), VIOLATIONS, ids=CASES)
def test_each_contract_fails_when_broken(
    pristine: Path, tmp_path: Path, contract: str, module: str, line: str
) -> None:
    folder = tmp_path / "tree"
    shutil.copytree(pristine, folder)
    target = folder / "newsapi" / module
    target.write_text(target.read_text() + f"\n{line}  # noqa\n")
    done = lint_imports(folder)
    assert done.returncode != 0
    report = " ".join(done.stdout.split())  # the report wraps long contract names
    broken = report.split("Broken contracts")[-1]
    assert contract in broken, report[-3000:]
