"""deploy/image/serving_lock.py: the image installs the serving extra's part of the lock, each
entry exactly as locked (versions, markers and hashes), and nothing of the other extras."""

from __future__ import annotations

import re
import subprocess
import sys

from tests.support.files import ROOT

LOCK = ROOT / "requirements.lock"


def test_the_image_gets_the_serving_extra_exactly_as_locked() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "deploy" / "image" / "serving_lock.py"), str(LOCK)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    entries = re.split(r"\n(?=\S)", done.stdout.strip())
    names = {entry.split("==")[0] for entry in entries}
    assert {"scikit-learn", "fastapi", "uvicorn", "uvloop", "orjson", "prometheus-client"} <= names
    for other in ("jupyterlab", "papermill", "dask", "distributed", "pyarrow", "pytest", "mkdocs",
                  "ruff", "httpx", "kubernetes-validate"):  # fmt: skip
        assert other not in names, other
    lock = LOCK.read_text()
    for entry in entries:
        assert entry + "\n" in lock, entry.split(" ")[0]
        # pip's --require-hashes then checks every file the image installs
        assert "    --hash=sha256:" in entry, entry.split(" ")[0]


def test_more_extras_add_their_packages_and_an_unknown_one_is_refused_in_one_line() -> None:
    script = str(ROOT / "deploy" / "image" / "serving_lock.py")
    done = subprocess.run([sys.executable, script, str(LOCK), "serving,tracing,scoring"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    names = {entry.split("==")[0] for entry in re.split(r"\n(?=\S)", done.stdout.strip())}
    assert {"scikit-learn", "fastapi", "pyarrow", "opentelemetry-sdk"} <= names
    assert not {"jupyterlab", "dask"} & names
    refused = subprocess.run([sys.executable, script, str(LOCK), "serving,gpu"],
                             capture_output=True, text=True, check=False)  # fmt: skip
    assert refused.returncode == 1
    assert refused.stdout == ""
    (line,) = refused.stderr.strip().splitlines()
    assert line.startswith("newsapi has no extra gpu; it has ")
    assert "tracing" in line
