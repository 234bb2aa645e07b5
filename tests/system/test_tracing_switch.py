"""The switch of OpenTelemetry traces in real servers (docs/monitor-traces.md): without
``OTEL_*`` variables nothing of the SDK is imported and no tracing layer is installed; with
them, spans reach an OTLP/HTTP collector, and a collector that goes away fails no request; a
configuration the server cannot honour is one log line, and the server answers."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest

from newsapi.http.app import create_app
from newsapi.model.artifact import Artifact
from newsapi.settings import Settings
from tests.support import ROOT, wait_for
from tests.support.inprocess import ThreadServer

pytestmark = pytest.mark.server

BAD = [
    ({"OTEL_TRACES_EXPORTER": "zipkin"}, "OTEL_TRACES_EXPORTER names 'zipkin'"),
    ({"OTEL_EXPORTER_OTLP_ENDPOINT": "localhost:4318"}, "is not an http(s) URL"),
    ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://[::1"}, "is not an http(s) URL"),
    (
        {
            "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4317",
            "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
        },
        "the OTLP protocol 'grpc' is not installed",
    ),
]


@pytest.mark.parametrize(("env", "said"), BAD)
def test_a_bad_configuration_is_one_line_and_the_server_answers(
    settings_for: Callable[..., Settings],
    tiny_model: Artifact,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    env: dict[str, str],
    said: str,
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with caplog.at_level(logging.WARNING, logger="newsapi"):
        app = create_app(settings_for(tiny_model.path))
    lines = [r.getMessage() for r in caplog.records if "traces" in r.getMessage()]
    assert len(lines) == 1, lines
    assert said in lines[0]
    with ThreadServer(app) as server:
        assert httpx.post(f"{server.url}/prediction", json={"text": "a"}).status_code == 200


def test_a_missing_exporter_package_is_one_line(
    settings_for: Callable[..., Settings],
    tiny_model: Artifact,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "otlp")
    # what Python does for a package that is not installed
    monkeypatch.setitem(sys.modules, "opentelemetry.exporter.otlp.proto.http.trace_exporter", None)
    with caplog.at_level(logging.WARNING, logger="newsapi"):
        app = create_app(settings_for(tiny_model.path))
    lines = [r.getMessage() for r in caplog.records if "traces" in r.getMessage()]
    assert len(lines) == 1, lines
    assert "OTLP/HTTP exporter is not installed (pip install 'newsapi[tracing]')" in lines[0]
    with ThreadServer(app) as server:
        assert httpx.post(f"{server.url}/prediction", json={"text": "a"}).status_code == 200


OFF = """
import json, sys, threading, httpx, uvicorn
from newsapi.http.app import create_app
from tests.support import free_port, wait_for
app = create_app()
port = free_port()
server = uvicorn.Server(uvicorn.Config(app, port=port, log_level="warning"))
thread = threading.Thread(target=server.run, daemon=True)
thread.start()
wait_for(lambda: server.started)
url = f"http://127.0.0.1:{port}"
status = [httpx.post(f"{url}/prediction", json={"text": t}).status_code for t in ("a", "b")]
status.append(httpx.post(f"{url}/predictions", json={"texts": ["c", "d"]}).status_code)
layers, layer = [], app.front
while layer is not None:
    layers.append(type(layer).__name__)
    layer = getattr(layer, "app", None)
hooks_off = app.state.classifier.tracing is None
server.should_exit = True
thread.join(30)
loaded = [m for m in sys.modules if m.startswith(("opentelemetry.sdk", "newsapi.serving.tracing.",
                                                  "newsapi.http.tracing"))]
print(json.dumps({"status": status, "layers": layers, "loaded": loaded,
                  "hooks_off": hooks_off}))
"""


def test_without_otel_variables_nothing_of_the_sdk_is_imported_or_installed(
    tiny_model: Artifact, tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    env |= {"NEWSAPI_MODEL_PATH": str(tiny_model.path), "NEWSAPI_CACHE_DIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-c", OFF], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]
    found = json.loads(done.stdout.splitlines()[-1])
    assert found["status"] == [200, 200, 200]
    assert found["loaded"] == []
    assert "TracingMiddleware" not in found["layers"]
    assert found["hooks_off"]
    assert "FastLane" in found["layers"]


class Collector(BaseHTTPRequestHandler):
    """An OTLP/HTTP receiver: keeps each request's protobuf body."""

    bodies: ClassVar[list[bytes]] = []

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length", "0"))
        Collector.bodies.append(self.rfile.read(length))
        self.send_response(200)
        self.send_header("content-type", "application/x-protobuf")
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def exported(bodies: Sequence[bytes]) -> list[tuple[str, str]]:
    """(service name, span name) of every span in OTLP export requests."""
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    found = []
    for body in bodies:
        request = ExportTraceServiceRequest()
        request.ParseFromString(body)
        for spans in request.resource_spans:
            attributes = {a.key: a.value.string_value for a in spans.resource.attributes}
            for scope in spans.scope_spans:
                found += [(attributes["service.name"], span.name) for span in scope.spans]
    return found


def test_otel_variables_send_spans_to_an_otlp_collector_and_a_gone_one_fails_nothing(
    start_server: Callable[..., Any], tiny_model: Artifact
) -> None:
    Collector.bodies = []
    collector = ThreadingHTTPServer(("127.0.0.1", 0), Collector)
    receiving = threading.Thread(target=collector.serve_forever, daemon=True)
    receiving.start()
    endpoint = f"http://127.0.0.1:{collector.server_address[1]}"
    server = start_server(
        tiny_model.path,
        OTEL_EXPORTER_OTLP_ENDPOINT=endpoint,
        OTEL_SERVICE_NAME="newsapi-under-test",
        OTEL_BSP_SCHEDULE_DELAY="50",
    )
    assert httpx.post(f"{server.url}/prediction", json={"text": "a bike"}).status_code == 200
    wait_for(
        lambda: ("newsapi-under-test", "POST /prediction") in exported(Collector.bodies),
        what="the request span at the collector",
    )
    assert ("newsapi-under-test", "model inline") in exported(Collector.bodies)

    collector.shutdown()  # the collector goes away: requests are answered all the same
    collector.server_close()
    texts = [f"text {i}" for i in range(20)]
    answers = [httpx.post(f"{server.url}/prediction", json={"text": t}) for t in texts]
    assert [a.status_code for a in answers] == [200] * 20
    assert server.stop() in {0, -15}
    assert "Traceback" not in server.log()
