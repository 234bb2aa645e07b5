"""The container tests (marker ``image``) build and run images with podman: they run only when
asked for by ``-m image`` (``make image-test``), never as part of a plain run."""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if "image" in (config.getoption("markexpr") or ""):
        return
    kept = [item for item in items if item.get_closest_marker("image") is None]
    if len(kept) < len(items):
        config.hook.pytest_deselected(items=[i for i in items if i not in kept])
        items[:] = kept
