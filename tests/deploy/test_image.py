"""The container image (Containerfile), built with `make image` and run with podman as root
(deploy/podman/containers.conf): it serves a mounted store and a baked-in model, read-only,
as a non-root user, and answers byte for byte as `newsapi serve` does on the host.

Marker ``image``: `make image-test` runs these (podman, runc, debootstrap from Debian's
packages; the base image is Debian bookworm's python3, `make image-base`). The fixtures
``image`` (built once a run) and ``run`` are in tests/deploy/conftest.py."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from newsapi.store.catalog import ModelStore
from tests.support import store_tiny
from tests.support.containers import (
    Container,
    launch_container,
    make_image,
    podman,
    wait_container,
)
from tests.support.serve_command import start_serve
from tests.support.servers import free_port

pytestmark = [pytest.mark.image, pytest.mark.timeout(1800)]

TEXTS = [
    "The shuttle launch was delayed by the weather at the Kennedy Space Center.",
    "My graphics card cannot render this image format; which driver should I use?",
    "",
]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> ModelStore:
    """A store holding one promoted tiny model."""
    found = ModelStore(tmp_path_factory.mktemp("image") / "store")
    found.promote(store_tiny(found, 0.5).version)
    return found


@pytest.fixture(scope="module")
def baked(store: ModelStore, tmp_path_factory: pytest.TempPathFactory) -> str:
    version = store.served_version()
    assert version is not None
    log = tmp_path_factory.mktemp("build") / "log"
    return make_image(
        "localhost/newsapi:image-test-baked", log, MODEL_VERSION=version, STORE=str(store.root)
    )


def answers(url: str) -> list[tuple[int, str | None, bytes]]:
    """Status, X-Model-Version and body of a few requests of each kind."""
    requests = [
        *(("/prediction", {"text": text}) for text in TEXTS),
        ("/prediction?scores=true", {"text": TEXTS[0]}),
        ("/predictions", {"texts": TEXTS[:2]}),
        ("/explanation", {"text": TEXTS[1]}),
        ("/v2/models/newsgroups/infer",
         {"inputs": [{"name": "text", "shape": [2], "datatype": "BYTES", "data": TEXTS[:2]}]}),
    ]  # fmt: skip
    found = []
    with httpx.Client(base_url=url, timeout=30) as client:
        for path, body in requests:
            response = client.post(path, json=body)
            found.append((response.status_code, response.headers.get("x-model-version"),
                          response.content))  # fmt: skip
    return found


def test_a_mounted_store_serves_as_newsapi_serve_does(
    image: str, store: ModelStore, run: Callable[..., Container], tmp_path: Path
) -> None:
    container = run(image, "--volume", f"{store.root}:/models:ro")
    print(f"\nmounted store: /readyz 200 {container.ready_after:.2f} s after podman run")
    host = start_serve(tmp_path, {
        "NEWSAPI_MODEL_PATH": str(store.root / "newsgroups_model.joblib"),
        "NEWSAPI_CACHE_DIR": str(tmp_path / "cache"),
    })  # fmt: skip
    try:
        expected = answers(host.url)
    finally:
        host.stop()
    # the empty text is refused (422): errors are compared too
    assert [status for status, _, _ in expected].count(200) == len(expected) - 1
    assert {version for status, version, _ in expected if status == 200} == {store.served_version()}
    assert answers(container.url) == expected


def test_a_baked_model_serves_without_a_volume(
    baked: str, store: ModelStore, run: Callable[..., Container]
) -> None:
    container = run(baked)
    print(f"\nbaked model: /readyz 200 {container.ready_after:.2f} s after podman run")
    response = httpx.post(f"{container.url}/prediction", json={"text": TEXTS[0]})
    assert response.status_code == 200
    assert response.headers["x-model-version"] == store.served_version()
    labels = json.loads(podman("image", "inspect", baked).stdout)[0]["Labels"]
    assert labels["io.newsapi.model.version"] == store.served_version()


def test_the_image_runs_as_a_non_root_user_with_a_healthcheck(
    image: str, store: ModelStore, run: Callable[..., Container]
) -> None:
    (config,) = json.loads(podman("image", "inspect", image).stdout)
    assert config["Config"]["User"] == "10001:10001"
    assert config["Config"]["Entrypoint"] == ["newsapi", "serve", "--host", "0.0.0.0"]  # noqa: S104 (a container)
    assert "8000/tcp" in config["Config"]["ExposedPorts"]
    assert config["Labels"]["org.opencontainers.image.version"]
    size = config["Size"]
    print(f"\nimage size: {size / 1e6:.0f} MB")
    # the target (docs/deploy.md says what the image holds), with the local base
    assert size <= 350e6
    container = run(image, "--volume", f"{store.root}:/models:ro")
    # the HEALTHCHECK (Python asking /readyz, no curl) passes on a ready server
    check = podman("healthcheck", "run", container.name, check=False)
    assert check.returncode == 0, check.stdout + check.stderr
    whoami = podman("exec", container.name, "id", "-u")
    assert whoami.stdout.strip() == "10001"


def test_the_plain_image_refuses_a_prediction_log_in_one_line(
    image: str, store: ModelStore
) -> None:
    # the image installs the serving and tracing extras (IMAGE_EXTRAS): no pyarrow, so a server
    # asked to log refuses to start, saying why, rather than serving without its log
    (config,) = json.loads(podman("image", "inspect", image).stdout)
    assert config["Labels"]["io.newsapi.extras"] == "serving,tracing"
    done = podman("run", "--rm", "--network", "none", "--read-only",
                  "--volume", f"{store.root}:/models:ro",
                  "--env", "NEWSAPI_PREDICTION_LOG_DIR=/tmp/predictions", image,
                  check=False)  # fmt: skip
    assert done.returncode != 0
    errors = [line for line in done.stderr.splitlines() if line.startswith("ERROR:    newsapi")]
    assert errors == [
        "ERROR:    newsapi cannot start: NEWSAPI_PREDICTION_LOG_DIR is set but pyarrow is not "
        "installed: pip install 'newsapi[scoring]', or unset it"
    ]
    assert "Traceback" not in done.stderr


def test_the_image_traces_requests_when_told_to(image: str, store: ModelStore) -> None:
    # the console exporter writes each span to the container's output: the image has the SDK
    port, version = free_port(), store.served_version()
    name = f"newsapi-test-{os.getpid()}-traced"
    started = launch_container(image, name, port, "--volume", f"{store.root}:/models:ro",
                               "--env", "OTEL_TRACES_EXPORTER=console",
                               "--env", "OTEL_BSP_SCHEDULE_DELAY=100")  # fmt: skip
    try:
        container = wait_container(name, port, started)
        response = httpx.post(f"{container.url}/prediction", json={"text": TEXTS[0]})
        assert response.status_code == 200
        podman("stop", "--time", "15", name)  # the last spans leave as the worker stops
        logs = podman("logs", name).stdout
    finally:
        podman("rm", "--force", "--time", "0", name, check=False)
    assert '"name": "POST /prediction"' in logs
    assert f'"newsapi.model.version": "{version}"' in logs
