"""Fixtures of the system tests: a real Dask cluster for the modules that score or sweep on one."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support import DaskCluster
from tests.support import dask_cluster as start_dask_cluster


@pytest.fixture(scope="module")
def dask_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DaskCluster]:
    """A ``dask scheduler`` and two single-threaded ``dask worker`` processes, one cluster per
    test module (:func:`tests.support.clusters.dask_cluster`)."""
    with start_dask_cluster(tmp_path_factory.mktemp("dask")) as cluster:
        yield cluster
