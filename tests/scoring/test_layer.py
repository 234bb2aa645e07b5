"""The scoring layer's import contracts (pyproject.toml) hold, and each fails when broken: a
copy of the package gets one forbidden import and ``lint-imports`` must report that contract
broken."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import ROOT

LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
VIOLATIONS = [
    ("scoring never imports HTTP", "scoring/local.py", "import newsapi.http.app"),
    ("scoring never imports HTTP", "scoring/job.py", "import newsapi.training.pipeline"),
    (
        "scoring reaches serving only through",
        "scoring/batches.py",
        "import newsapi.serving.service",
    ),
    ("only the command line imports scoring", "store/runs.py", "import newsapi.scoring.job"),
]


def lint_imports(folder: Path) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "PYTHONPATH": str(folder)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=folder, env=environment,
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("layer")
    shutil.copytree(
        ROOT / "newsapi", folder / "newsapi", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copy(ROOT / "pyproject.toml", folder / "pyproject.toml")
    return folder


def test_the_scoring_layer_keeps_its_contracts(pristine: Path) -> None:
    done = lint_imports(pristine)
    report = " ".join(done.stdout.split())
    for name in {contract for contract, _, _ in VIOLATIONS}:
        assert name in report
    assert done.returncode == 0, done.stdout[-3000:]


@pytest.mark.parametrize(("contract", "module", "line"), VIOLATIONS)
def test_each_scoring_contract_fails_when_broken(
    pristine: Path, tmp_path: Path, contract: str, module: str, line: str
) -> None:
    folder = tmp_path / "tree"
    shutil.copytree(pristine, folder)
    target = folder / "newsapi" / module
    target.write_text(target.read_text() + f"\n{line}  # noqa\n")
    done = lint_imports(folder)
    assert done.returncode != 0
    broken = " ".join(done.stdout.split()).split("Broken contracts")[-1]
    assert contract in broken, done.stdout[-3000:]
