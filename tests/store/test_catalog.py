"""The model store: entries whole or absent, failed runs pruned, promotion that readers never
catch half-done, crash safety at every step of a promotion, rollback, repair."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import joblib
import pytest

from newsapi.model.artifact import load_artifact, manifest_path, read_manifest, sha256_bytes
from newsapi.store.catalog import ModelStore, StoredModel, StoreError
from tests.support import ROOT, TINY_PARAMETERS, store_tiny


def test_round_trip_entry_is_complete_and_loads_like_the_book(tmp_path: Path) -> None:
    store = ModelStore(tmp_path)
    entry = store_tiny(store, 0.5)
    assert entry.path == tmp_path / "models" / entry.version
    names = {p.name for p in entry.path.iterdir()}
    assert names == {
        "newsgroups_model.joblib", "newsgroups_model.json", "confusion_matrix.png",
        "card.md", "card.html",
    }  # fmt: skip
    model, targets = joblib.load(entry.model_path)  # the book's loading code
    assert targets == ["cooking", "space", "sport"]
    assert model.predict(["rocket orbit launch nasa"])[0] == 1
    artifact = load_artifact(entry.model_path)
    assert artifact.model_version == entry.version
    assert artifact.manifest["parameters"] == TINY_PARAMETERS.replace(alpha=0.5).model_dump()
    assert store.entries() == [entry]
    assert store.get(entry.version) == entry
    # header artefacts are measured against stripped newsgroups posts: not for other corpora
    assert entry.manifest["artefact_terms"] is None
    assert [p.name for p in store.models.iterdir() if p.name.startswith(".incoming")] == []


def test_identical_parameters_reuse_the_entry(tmp_path: Path) -> None:
    store = ModelStore(tmp_path)
    first = store_tiny(store, 0.5)
    mtime = first.model_path.stat().st_mtime_ns
    again = store_tiny(store, 0.5)
    assert again.version == first.version
    assert again.model_path.stat().st_mtime_ns == mtime
    assert len(store.entries()) == 1


def test_a_failing_attachment_leaves_no_entry(tmp_path: Path) -> None:
    store = ModelStore(tmp_path)

    def broken(folder: Path, manifest: dict[str, object]) -> dict[str, bytes]:
        raise RuntimeError("plotting failed")

    pipeline = store_tiny(ModelStore(tmp_path / "other"), 0.3).model_path
    model, names = joblib.load(pipeline)
    with pytest.raises(RuntimeError, match="plotting failed"):
        store.add(model, names, parameters={}, metrics={}, dataset={}, attach=broken)
    assert store.entries() == []
    assert list(store.models.iterdir()) == []


def test_promote_and_rollback_walk_back_through_the_promotions(tmp_path: Path) -> None:
    store = ModelStore(tmp_path)
    a, b, c = (store_tiny(store, alpha) for alpha in (0.2, 0.5, 0.9))
    for entry in (a, b, c):
        store.promote(entry.version[:6])
        assert store.served_version() == entry.version
        assert load_artifact(store.served_path).model_version == entry.version
    assert store.rollback().version == b.version
    assert store.rollback().version == a.version
    with pytest.raises(StoreError, match="nothing to roll back to"):
        store.rollback()
    assert load_artifact(store.served_path).model_version == a.version
    events = [json.loads(line) for line in store.log_path.read_text().splitlines()]
    assert [(e["version"], e["previous"], e["how"]) for e in events] == [
        (a.version, None, "promote"),
        (b.version, a.version, "promote"),
        (c.version, b.version, "promote"),
        (b.version, c.version, "rollback"),
        (a.version, b.version, "rollback"),
    ]
    assert all(e["time"].endswith("+00:00") for e in events)


def test_resolve_refuses_unknown_ambiguous_empty_and_damaged(tmp_path: Path) -> None:
    store = ModelStore(tmp_path)
    with pytest.raises(StoreError, match="is empty; train a model first"):
        store.resolve("abc")
    entries: list[StoredModel] = []
    alpha = 0.05
    while len({e.version[0] for e in entries}) == len(entries):  # until two share a digit
        entries.append(store_tiny(store, alpha))
        alpha += 0.05
    first = entries[-1].version[0]
    with pytest.raises(StoreError, match=f"'{first}' is ambiguous"):
        store.resolve(first)
    with pytest.raises(StoreError, match="no stored model matches 'zzz'; stored: "):
        store.resolve("zzz")
    damaged = entries[0]
    damaged.model_path.write_bytes(damaged.model_path.read_bytes()[:-10])
    served_before = store.served_version()
    with pytest.raises(StoreError, match="does not match its manifest's sha256"):
        store.promote(damaged.version)
    assert store.served_version() == served_before


def test_failed_runs_are_pruned_to_the_last_five(tmp_path: Path) -> None:
    store = ModelStore(tmp_path)
    notebook = tmp_path / "01_train.ipynb"
    notebook.write_text("{}")
    kept = [store.record_failure(notebook) for _ in range(8)]
    assert sorted(p.name for p in (tmp_path / "failed").iterdir()) == [p.name for p in kept[-5:]]


# -- concurrency and crashes ---------------------------------------------------------------------


READER = textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path
    from newsapi.model.artifact import load_artifact

    served, seconds = Path(sys.argv[1]) / "newsgroups_model.joblib", float(sys.argv[2])
    loads, refusals, versions = 0, [], set()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            artifact = load_artifact(served)
        except Exception as exc:
            refusals.append(repr(exc))
            continue
        loads += 1
        versions.add(artifact.model_version)
        # the manifest handed back must describe the bytes that were loaded
        if artifact.manifest["model_version"] != artifact.model_version:
            refusals.append("mixed pair")
    print(json.dumps({"loads": loads, "refusals": refusals, "versions": sorted(versions)}))
    """
)


def test_a_concurrent_reader_never_sees_a_mixed_pair(tmp_path: Path) -> None:
    store = ModelStore(tmp_path)
    a, b = store_tiny(store, 0.2), store_tiny(store, 0.9)
    store.promote(a.version)
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(tmp_path), "5"],
        cwd=ROOT, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    time.sleep(1.0)  # let the reader start loading
    promotions = 0
    while reader.poll() is None and promotions < 2000:
        store.promote(b.version if promotions % 2 == 0 else a.version)
        promotions += 1
        if promotions % 3 == 0:
            store.rollback()
    out, _ = reader.communicate(timeout=60)
    result = json.loads(out)
    print(f"{promotions} promotions, {result['loads']} loads by the reader")
    assert reader.returncode == 0
    assert result["refusals"] == []
    assert result["loads"] > 10
    assert set(result["versions"]) == {a.version, b.version}


KILLER = textwrap.dedent(
    """
    import os, signal, sys
    from newsapi.store.catalog import ModelStore

    root, version, step = sys.argv[1], sys.argv[2], int(sys.argv[3])
    real_replace, real_fsync, calls = os.replace, os.fsync, [0]

    def count() -> None:
        calls[0] += 1
        if calls[0] == step:
            os.kill(os.getpid(), signal.SIGKILL)

    def replace(a, b):  # steps 3, 5: right after a rename
        real_replace(a, b)
        count()

    def fsync(fd):  # step 1: after the log line (written first); 2, 4: a file not yet renamed
        real_fsync(fd)
        count()

    os.replace, os.fsync = replace, fsync
    ModelStore(root).promote(version)
    """
)


@pytest.mark.parametrize("step", [1, 2, 3, 4, 5])
def test_a_promotion_killed_at_any_step_leaves_a_pair_that_loads(tmp_path: Path, step: int) -> None:
    store = ModelStore(tmp_path)
    old, new = store_tiny(store, 0.2), store_tiny(store, 0.9)
    store.promote(old.version)
    done = subprocess.run(
        [sys.executable, "-c", KILLER, str(tmp_path), new.version, str(step)],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == -signal.SIGKILL, done.stderr
    loaded = load_artifact(store.served_path)  # old or new, never refused
    assert loaded.model_version in {old.version, new.version}
    store.repair()  # what the next start does
    served = store.served_version()
    assert read_manifest(store.served_path)["sha256"] == sha256_bytes(
        store.served_path.read_bytes()
    )
    assert store.promotion_stack()[-1] == served
    assert load_artifact(store.served_path).model_version == served
    if step >= 3:  # the model file was renamed: the new model serves
        assert served == new.version


def test_repair_restores_an_unreadable_served_pair_from_the_store(tmp_path: Path) -> None:
    store = ModelStore(tmp_path)
    good = store_tiny(store, 0.2)
    store.promote(good.version)
    store.served_path.write_bytes(b"truncated")
    message = store.repair()
    assert message is not None
    assert good.version in message
    assert load_artifact(store.served_path).model_version == good.version
    assert (
        manifest_path(store.served_path).read_bytes() == manifest_path(good.model_path).read_bytes()
    )


def test_a_writer_killed_half_way_leaves_no_entry_and_its_debris_is_swept(tmp_path: Path) -> None:
    store = ModelStore(tmp_path)
    script = textwrap.dedent(
        f"""
        import os, signal
        from newsapi.model import artifact as artifacts
        from newsapi.training.run import train_and_store
        from newsapi.model.params import DEFAULTS
        from newsapi.store.catalog import ModelStore
        from tests.support import tiny_corpus

        real = artifacts.atomic_write
        def write(path, data):
            real(path, data)
            if path.name == "card.md":  # model, manifest and plot are written: die
                os.kill(os.getpid(), signal.SIGKILL)
        import newsapi.store.catalog
        newsapi.store.catalog.atomic_write = write
        train_and_store(ModelStore({str(tmp_path)!r}), DEFAULTS.replace(categories=None),
                        tiny_corpus())
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60,
        check=False,
    )  # fmt: skip
    assert done.returncode == -signal.SIGKILL, done.stderr
    assert store.entries() == []
    debris = [p for p in store.models.iterdir() if p.name.startswith(".incoming")]
    assert len(debris) == 1  # the dead writer's staging folder, not an entry
    entry = store_tiny(store, 0.5)  # the next write sweeps it
    assert [p.name for p in store.models.iterdir() if not p.name.startswith(".")] == [entry.version]
    assert [p for p in store.models.iterdir() if p.name.startswith(".incoming")] == []
    assert os.listdir(entry.path)
