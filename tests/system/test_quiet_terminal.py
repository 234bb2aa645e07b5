"""What a notebook run prints: a real ``newsapi index`` executes 04_compare.ipynb in a real
kernel, and prints no warning a user cannot act on (ipykernel's "running over TCP without
encryption", printed at every kernel start before the kernel talked over Unix sockets)."""

from __future__ import annotations

from pathlib import Path

from newsapi.store.catalog import ModelStore
from tests.support import newsapi, store_tiny


def test_a_notebook_run_prints_no_kernel_transport_warning(tmp_path: Path) -> None:
    store = ModelStore(tmp_path / "artifacts")
    store_tiny(store, alpha=0.1)

    out = newsapi("index", "--artifacts", str(store.root))

    assert out.returncode == 0, out.stderr
    assert (store.root / "index.html").is_file()
    printed = out.stdout + out.stderr
    assert "without encryption" not in printed
    assert "WARNING" not in printed
    assert out.stdout == f"runs page: {store.root / 'index.html'}\n"
