"""The ``newsapi`` console script of this environment, run as a user runs it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.support.files import ROOT

NEWSAPI = str(Path(sys.executable).parent / "newsapi")


def newsapi(
    *args: str, env: dict[str, str] | None = None, cwd: Path = ROOT
) -> subprocess.CompletedProcess[str]:
    """Run ``newsapi *args`` to the end; the caller's NEWSAPI_ARTIFACTS_DIR is not inherited
    (a test names its store), ``env`` is added to the environment."""
    inherited = {k: v for k, v in os.environ.items() if k != "NEWSAPI_ARTIFACTS_DIR"}
    return subprocess.run(
        [NEWSAPI, *args], cwd=cwd, capture_output=True, text=True, timeout=600,
        env={**inherited, **(env or {})}, check=False,
    )  # fmt: skip
