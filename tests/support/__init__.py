"""What the tests share that is not a fixture: small corpora and models, stores filled with
them, real servers and the load sent to them, processes, folder sizes, the ``newsapi``
command, and the pipeline steps test models pickle. Import from here (``from tests.support
import ...``); conftest.py files hold only fixtures.

The names load on first use: a server process that unpickles a test model imports
:mod:`tests.support.steps`, and with it this package, which must not pull pytest, httpx and
the training stack into the server.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.support.clusters import DaskCluster, dask_cluster
    from tests.support.commands import NEWSAPI, newsapi
    from tests.support.corpora import (
        FILLER,
        TOPICS,
        mixed_sentences,
        overlapping_sentences,
        predicted_names,
        tiny_corpus,
        topic_sentences,
        train_behind,
        train_slow,
        train_tiny,
        write_csv,
        write_folder,
    )
    from tests.support.files import ROOT, disk_usage, folder_bytes
    from tests.support.processes import children, exited, process_state, rss_bytes, worker_pids
    from tests.support.servers import (
        CLEAN_EXIT,
        Server,
        computed,
        free_port,
        launch,
        metric,
        wait_for,
        wait_ready,
    )
    from tests.support.steps import HOLDING, RELEASE, explode_on_marker, hold_slow_texts
    from tests.support.stores import TINY_PARAMETERS, store_tiny
    from tests.support.sweeps import SWEEP_GRID, assert_same_results, overlapping_corpus
    from tests.support.traffic import Traffic, answered_by

# where a name is looked for, lightest first
SUBMODULES = ("files", "steps", "processes", "corpora", "servers", "traffic", "stores", "sweeps",
              "commands", "clusters")  # fmt: skip

__all__ = [
    "CLEAN_EXIT",
    "FILLER",
    "HOLDING",
    "NEWSAPI",
    "RELEASE",
    "ROOT",
    "SWEEP_GRID",
    "TINY_PARAMETERS",
    "TOPICS",
    "DaskCluster",
    "Server",
    "Traffic",
    "answered_by",
    "assert_same_results",
    "children",
    "computed",
    "dask_cluster",
    "disk_usage",
    "exited",
    "explode_on_marker",
    "folder_bytes",
    "free_port",
    "hold_slow_texts",
    "launch",
    "metric",
    "mixed_sentences",
    "newsapi",
    "overlapping_corpus",
    "overlapping_sentences",
    "predicted_names",
    "process_state",
    "rss_bytes",
    "store_tiny",
    "tiny_corpus",
    "topic_sentences",
    "train_behind",
    "train_slow",
    "train_tiny",
    "wait_for",
    "wait_ready",
    "worker_pids",
    "write_csv",
    "write_folder",
]


def __getattr__(name: str) -> Any:
    if name in __all__:
        for submodule in SUBMODULES:
            module = importlib.import_module(f"{__name__}.{submodule}")
            if name in vars(module):
                return vars(module)[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
