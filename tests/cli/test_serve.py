"""``newsapi serve`` refuses a model it cannot serve before any worker starts: one line, no
traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import newsapi


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
