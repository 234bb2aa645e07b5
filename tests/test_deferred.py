"""Start-up defers scipy.stats (newsapi.deferred): a served naive Bayes model never loads it,
code that uses it sees the real module. Each check runs in a fresh interpreter, since this one
has long imported scipy.stats."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from newsapi.model.artifact import Artifact


def run(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_a_served_naive_bayes_model_answers_without_loading_scipy_stats(
    tiny_model: Artifact, tmp_path: Path
) -> None:
    out = run(f"""
        import sys
        from fastapi.testclient import TestClient
        from newsapi.http.app import create_app
        from newsapi.settings import Settings

        settings = Settings.of(model_path={str(tiny_model.path)!r}, cache_dir={str(tmp_path)!r})
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
        import sklearn.preprocessing._data as data  # `from scipy import stats`: the stand-in
        stand_in = sys.modules["scipy.stats"]
        held = data.stats
        print(type(held).__name__, held is stand_in, "scipy.stats._stats_py" in sys.modules)
        from scipy.stats import norm  # a from-import loads the real module
        import scipy.stats
        real = sys.modules["scipy.stats"]
        from sklearn.utils.fixes import _mode
        print(real is not stand_in, scipy.stats is real, norm.cdf(0.0), held.norm is norm,
              _mode(np.array([3, 3, 1])).mode[0])
    """)
    assert out.splitlines() == ["DeferredModule True False", "True True 0.5 True 3"]


def test_threads_reading_it_at_once_all_get_the_real_module() -> None:
    out = run("""
        import sys, threading
        import newsapi
        stand_in = sys.modules["scipy.stats"]
        start, got = threading.Barrier(8), []
        def read():
            start.wait()
            got.append(float(stand_in.norm.cdf(0.0)))
        threads = [threading.Thread(target=read) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        print(got, type(sys.modules["scipy.stats"]).__name__)
    """)
    assert out == f"{[0.5] * 8} module"


def test_metadata_probes_import_nothing() -> None:
    out = run("""
        import sys
        import newsapi
        stand_in = sys.modules["scipy.stats"]
        print(hasattr(stand_in, "__warningregistry__"), stand_in.__cached__ is not None,
              "scipy.stats._stats_py" in sys.modules)
    """)
    assert out == "False True False"


def test_a_submodule_imported_first_loads_the_package_properly() -> None:
    out = run("""
        import sys
        import newsapi
        from scipy.stats.mstats import mquantiles  # a submodule first, the package after
        import scipy.stats
        print(type(sys.modules["scipy.stats"]).__name__, scipy.stats.norm.cdf(0.0),
              [float(q) for q in mquantiles([1, 2, 3], prob=[0.5])])
    """)
    assert out == "module 0.5 [2.0]"
