"""``newsapi score`` on a real Dask cluster: a ``dask scheduler`` and two single-threaded
``dask worker`` processes started here (the `dask_cluster` fixture, as for the sweep). The output is
the local run's, row for row, and each worker process unpickles the model once over a run of
many partitions (and not again in the next run)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from newsapi.store.catalog import ModelStore
from tests.scoring.helpers import add, metadata, read_output, score, sentences
from tests.support import DaskCluster, free_port

pytestmark = pytest.mark.dask

TEXTS = sentences(1_200)


def worker_state(address: str) -> dict[int, dict[str, Any]]:
    """Each worker process's model loads (by sha256) and tasks run, by process id."""
    from distributed import Client

    from newsapi.scoring.cluster import model_loads

    def tasks(dask_worker: Any) -> int:
        return int(dask_worker.state.executed_count)

    with Client(address, timeout="30s") as client:  # type: ignore[no-untyped-call]
        loads = client.run(model_loads)
        executed = client.run(tasks)
    return {
        state["pid"]: {"loads": state["loads"], "tasks": executed[worker]}
        for worker, state in loads.items()
    }


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    root = tmp_path_factory.mktemp("artifacts")
    models = ModelStore(root)
    version = add(models, alpha=1.0)
    models.promote(version)
    return root, version


def parquet_folder(root: Path) -> Path:
    """Eight Parquet files of 150 posts: eight partitions."""
    folder = root / "parquet"
    folder.mkdir()
    for i in range(8):
        rows = range(i * 150, (i + 1) * 150)
        table = pa.table(
            {"id": [f"post-{r:04d}" for r in rows], "text": TEXTS[rows[0] : rows[-1] + 1]}
        )
        pq.write_table(table, folder / f"part-{i}.parquet")
    return folder


def test_a_dask_cluster_writes_the_local_output_and_loads_the_model_once_per_worker(
    dask_cluster: DaskCluster, store: tuple[Path, str], tmp_path: Path
) -> None:
    root, version = store
    source = parquet_folder(tmp_path)
    local = tmp_path / "local.parquet"
    assert score(root, source, "-o", local, "--id-column", "id", "--scores").returncode == 0
    before = worker_state(dask_cluster.address)
    out = tmp_path / "on-dask"
    result = score(
        root, source, "-o", out, "--id-column", "id", "--scores",
        "--dask-scheduler", dask_cluster.address,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith(f"into {out} with model {version}")
    assert sorted(p.name for p in out.iterdir()) == [
        f"part-0000{i}-00000.parquet" for i in range(8)
    ]
    assert read_output(out).equals(pq.read_table(local))
    assert metadata(out) == metadata(local)
    after = worker_state(dask_cluster.address)
    sha = metadata(out)["model_sha256"]
    tasks = {pid: after[pid]["tasks"] - before[pid]["tasks"] for pid in after}
    assert set(after) == dask_cluster.worker_pids  # the workers started here
    assert sum(tasks.values()) >= 8, tasks  # eight partitions (and their reads) ran there
    assert all(count >= 2 for count in tasks.values()), tasks  # several on each worker
    assert {pid: state["loads"].get(sha) for pid, state in after.items()} == dict.fromkeys(after, 1)
    # the next run on the same cluster finds the model in every worker's cache
    again = tmp_path / "again"
    result = score(root, source, "-o", again, "--id-column", "id", "--scores",
                   "--dask-scheduler", dask_cluster.address)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert read_output(again).equals(read_output(out))
    assert {pid: s["loads"].get(sha) for pid, s in worker_state(dask_cluster.address).items()} == (
        dict.fromkeys(after, 1)
    )


def test_row_numbers_of_json_lines_are_counted_on_the_workers(
    dask_cluster: DaskCluster, store: tuple[Path, str], tmp_path: Path
) -> None:
    root, _ = store
    folder = tmp_path / "jsonl"
    folder.mkdir()
    for i in range(4):
        lines = [json.dumps({"text": t}) for t in TEXTS[i * 300 : (i + 1) * 300]]
        (folder / f"{i}.jsonl").write_text("\n".join(lines) + "\n")
    local = tmp_path / "local.csv"
    assert score(root, folder, "-o", local).returncode == 0
    out = tmp_path / "on-dask.csv"
    result = score(root, folder, "-o", out, "--dask-scheduler", dask_cluster.address)
    assert result.returncode == 0, result.stderr
    assert out.read_bytes() == local.read_bytes()
    assert read_output(out).column("row").to_pylist() == list(range(1_200))


@pytest.mark.slow  # the real-scheduler test covers Dask in make test
def test_a_local_cluster_started_for_the_run_gives_the_same_output(
    store: tuple[Path, str], tmp_path: Path
) -> None:
    root, _ = store
    source = parquet_folder(tmp_path)
    local = tmp_path / "local.parquet"
    assert score(root, source, "-o", local).returncode == 0
    out = tmp_path / "local-cluster.parquet"
    result = score(root, source, "-o", out, "--dask-scheduler", "local", "--workers", "2")
    assert result.returncode == 0, result.stderr
    assert pq.read_table(out).equals(pq.read_table(local))
    assert not any(p.name.startswith(".") for p in tmp_path.iterdir()), os.listdir(tmp_path)


def test_the_local_cluster_spawns_its_workers_without_a_malloc_trim_threshold() -> None:
    # Dask's nannies set MALLOC_TRIM_THRESHOLD_ in the workers they spawn, which also fixes
    # glibc's mmap threshold: the model's NumPy buffers were mapped anew at every batch
    from newsapi.scoring.cluster import connect

    def seen(dask_worker: Any) -> tuple[str | None, bool]:
        profiler = dask_worker.periodic_callbacks.get("profile")
        return os.environ.get("MALLOC_TRIM_THRESHOLD_"), bool(profiler and profiler.is_running())

    with connect("local", 1) as client:
        assert list(client.run(seen).values()) == [(None, False)]


@pytest.mark.slow  # waits out the client's 20 s connect timeout
def test_an_unreachable_scheduler_is_one_line(store: tuple[Path, str], tmp_path: Path) -> None:
    root, _ = store
    source = parquet_folder(tmp_path)
    address = f"tcp://127.0.0.1:{free_port()}"
    result = score(root, source, "-o", tmp_path / "out", "--dask-scheduler", address)
    assert result.returncode == 1
    assert (
        result.stderr.strip()
        .splitlines()[-1]
        .startswith(f"newsapi: cannot reach the Dask scheduler at {address}")
    )
    assert not (tmp_path / "out").exists()
