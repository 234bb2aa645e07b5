"""Start-up defers scipy.stats (newsapi.deferred): a served model never loads it, code that
uses it sees the real module. Each check runs in a fresh interpreter, since this one has long
imported scipy.stats."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from newsapi.artifacts import Artifact


def run(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_a_served_model_answers_without_loading_scipy_stats(
    tiny_model: Artifact, tmp_path: Path
) -> None:
    out = run(f"""
        import sys
        from fastapi.testclient import TestClient
        from newsapi.app import create_app
        from newsapi.settings import Settings

        settings = Settings(model_path={str(tiny_model.path)!r}, cache_dir={str(tmp_path)!r})
        with TestClient(create_app(settings)) as client:
            answer = client.post("/prediction", json={{"text": "the rocket reached orbit"}})
            scored = client.post("/predictions?scores=true", json={{"texts": ["a b", "c"]}})
        assert answer.status_code == 200 and scored.status_code == 200, (answer, scored)
        print(answer.json()["category"], "scipy.stats._stats_py" in sys.modules)
    """)
    category, loaded = out.split()
    assert category in tiny_model.target_names
    assert loaded == "False"


def test_the_first_use_loads_the_real_module() -> None:
    out = run("""
        import sys
        import newsapi
        import numpy as np
        from sklearn.utils.fixes import _mode  # holds the stand-in from its import
        stand_in = sys.modules["scipy.stats"]
        from scipy.stats import norm  # a from-import loads the real module
        import scipy.stats
        real = sys.modules["scipy.stats"]
        print(type(stand_in).__name__, real is not stand_in, scipy.stats is real,
              norm.cdf(0.0), stand_in.norm is norm, _mode(np.array([3, 3, 1])).mode[0])
    """)
    assert out == "DeferredModule True True 0.5 True 3"


def test_submodules_import_under_the_stand_in() -> None:
    out = run("""
        import sys
        import newsapi
        from scipy.stats.mstats import mquantiles  # a submodule first, the package after
        import scipy.stats
        print(type(sys.modules["scipy.stats"]).__name__, scipy.stats.norm.cdf(0.0),
              [float(q) for q in mquantiles([1, 2, 3], prob=[0.5])])
    """)
    assert out == "module 0.5 [2.0]"
