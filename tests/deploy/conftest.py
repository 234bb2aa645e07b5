"""The container tests (marker ``image``) build and run images with podman: they run only when
asked for by ``-m image`` (``make image-test``), never as part of a plain run."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import pytest

from tests.support.containers import Container, launch_container, make_image, podman, wait_container
from tests.support.servers import free_port


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if "image" in (config.getoption("markexpr") or ""):
        return
    kept = [item for item in items if item.get_closest_marker("image") is None]
    if len(kept) < len(items):
        config.hook.pytest_deselected(items=[i for i in items if i not in kept])
        items[:] = kept


@pytest.fixture(scope="session")
def image(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The image of the working tree, built once for every container test of the run."""
    return make_image("localhost/newsapi:image-test", tmp_path_factory.mktemp("build") / "log")


@pytest.fixture
def run() -> Iterator[Callable[..., Container]]:
    """Start containers of an image (host network, a free port, read-only root) and wait until
    each is ready; each is removed at the end of the test."""
    names: list[str] = []

    def start(image: str, *options: str) -> Container:
        port = free_port()
        name = f"newsapi-test-{os.getpid()}-{port}"
        started = launch_container(image, name, port, "--rm", *options)
        names.append(name)
        return wait_container(name, port, started)

    yield start
    for name in names:
        podman("stop", "--time", "15", name, check=False)
