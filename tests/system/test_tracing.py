"""OpenTelemetry traces over real HTTP (docs/monitor-traces.md).

A real uvicorn server runs in a thread of the test process, its app built with a tracer
provider whose batch processor exports to the SDK's in-memory exporter: request spans on
both paths (the fast lane and FastAPI's routes), model-call spans linked to the requests
they served (one micro-batch for concurrent requests), no span for probes, the client's
``traceparent`` honoured, the trace id in the prediction log. The switch itself is
tested in :mod:`tests.system.test_tracing_switch`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from newsapi.http.app import create_app
from newsapi.model.artifact import Artifact
from newsapi.settings import MODEL_FILENAME, Settings
from tests.support import steps as held
from tests.support import train_slow, wait_for
from tests.support.inprocess import ThreadServer

TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
PARENT_ID = "b7ad6b7169203331"
TRACEPARENT = f"00-{TRACE_ID}-{PARENT_ID}-01"


@dataclass
class Traced:
    """A server in a thread of this process, tracing into ``exporter``."""

    url: str
    app: Any
    exporter: InMemorySpanExporter
    provider: TracerProvider

    def spans(self) -> list[ReadableSpan]:
        self.provider.force_flush()
        return list(self.exporter.get_finished_spans())

    def named(self, name: str) -> list[ReadableSpan]:
        return [span for span in self.spans() if span.name == name]


@pytest.fixture
def traced(
    settings_for: Callable[..., Settings],
) -> Iterator[Callable[..., Traced]]:
    """Start in-process servers that trace into an in-memory exporter."""
    servers: list[ThreadServer] = []
    providers: list[TracerProvider] = []

    def start(model_path: Path, **overrides: Any) -> Traced:
        exporter = InMemorySpanExporter()
        provider = TracerProvider()
        provider.add_span_processor(BatchSpanProcessor(exporter))
        providers.append(provider)
        app = create_app(settings_for(model_path, **overrides), tracer_provider=provider)
        server = ThreadServer(app).__enter__()
        servers.append(server)
        return Traced(server.url, app, exporter, provider)

    yield start
    for server in servers:
        server.__exit__()
    for provider in providers:  # the test's to shut down: the app never does (not its own)
        provider.shutdown()


def linked(span: ReadableSpan) -> set[tuple[int, int]]:
    return {(link.context.trace_id, link.context.span_id) for link in span.links}


def ids(span: ReadableSpan) -> tuple[int, int]:
    assert span.context is not None
    return span.context.trace_id, span.context.span_id


def test_a_prediction_is_a_server_span_on_both_paths(
    traced: Callable[..., Traced], tiny_model: Artifact
) -> None:
    server = traced(tiny_model.path)
    headers = {"traceparent": TRACEPARENT, "x-request-id": "req-lane-1"}
    lane = httpx.post(f"{server.url}/prediction", json={"text": "a bike"}, headers=headers)
    app = httpx.post(f"{server.url}/prediction?scores=false", json={"text": "the gpu"})
    again = httpx.post(f"{server.url}/prediction", json={"text": "a bike"})
    assert (lane.status_code, app.status_code, again.status_code) == (200, 200, 200)

    wait_for(lambda: len(server.named("POST /prediction")) == 3, what="three request spans")
    first, second, third = sorted(server.named("POST /prediction"), key=lambda s: s.start_time or 0)
    for span in (first, second, third):
        assert span.kind is SpanKind.SERVER
        assert span.attributes is not None
        assert span.attributes["http.request.method"] == "POST"
        assert span.attributes["http.route"] == "/prediction"
        assert span.attributes["http.response.status_code"] == 200
        assert span.attributes["newsapi.model.version"] == tiny_model.model_version
    assert first.attributes is not None
    assert second.attributes is not None
    assert third.attributes is not None
    assert first.attributes["newsapi.handler"] == "lane"
    assert second.attributes["newsapi.handler"] == "app"
    assert first.attributes["newsapi.request_id"] == "req-lane-1"
    assert second.attributes["newsapi.request_id"] == app.headers["x-request-id"]
    # the client's traceparent: same trace, the client's span as parent
    assert ids(first)[0] == int(TRACE_ID, 16)
    assert first.parent is not None
    assert first.parent.span_id == int(PARENT_ID, 16)
    assert ids(second)[0] != int(TRACE_ID, 16)
    assert second.parent is None
    # computed on the event loop the first time, a memory-tier hit the second
    assert first.attributes["newsapi.cache"] == "computed"
    assert third.attributes["newsapi.cache"] == "memory"

    inline = server.named("model inline")
    assert len(inline) == 2  # the two computed texts; the hit called no model
    for call, request in zip(
        sorted(inline, key=lambda s: s.start_time or 0), (first, second), strict=True
    ):
        assert call.parent is not None
        assert call.parent.span_id == ids(request)[1]
        assert linked(call) == {ids(request)}
        assert call.attributes is not None
        assert call.attributes["newsapi.inference"] == "lean"
        assert call.attributes["newsapi.model.version"] == tiny_model.model_version
        assert call.attributes["newsapi.batch.size"] == 1


def test_predictions_and_v2_inference_are_traced_with_their_model_calls(
    traced: Callable[..., Traced], tiny_model: Artifact
) -> None:
    server = traced(tiny_model.path)
    texts = ["a bike ride", "the graphics card", "space shuttle launch"]
    many = httpx.post(f"{server.url}/predictions", json={"texts": texts})
    body = {"inputs": [{"name": "text", "datatype": "BYTES", "shape": [1], "data": ["orbit"]}]}
    infer = httpx.post(f"{server.url}/v2/models/newsgroups/infer", json=body)
    assert (many.status_code, infer.status_code) == (200, 200)

    wait_for(lambda: len(server.named("POST /predictions")) == 1, what="the request span")
    [request] = server.named("POST /predictions")
    assert request.attributes is not None
    assert request.attributes["newsapi.texts"] == 3
    assert request.attributes["newsapi.cache.memory_hits"] == 0
    assert request.attributes["newsapi.cache"] == "computed"
    [chunk] = server.named("model chunk")  # three short texts: one chunk
    assert chunk.parent is not None
    assert chunk.parent.span_id == ids(request)[1]
    assert linked(chunk) == {ids(request)}
    assert chunk.attributes is not None
    assert chunk.attributes["newsapi.batch.size"] == 3
    assert chunk.attributes["newsapi.model.version"] == tiny_model.model_version

    [v2] = server.named("POST /v2/models/{name}/infer")
    assert v2.attributes is not None
    assert v2.attributes["newsapi.handler"] == "lane"
    assert v2.attributes["url.path"] == "/v2/models/newsgroups/infer"
    assert v2.attributes["newsapi.request_id"] == infer.headers["x-request-id"]


def test_concurrent_requests_share_one_model_call_span_linked_to_each(
    traced: Callable[..., Traced], tmp_path: Path
) -> None:
    """The slow model holds the model thread on a "slow" text: the requests sent meanwhile
    wait together and go to the model as one micro-batch."""
    model = train_slow(tmp_path / "slow" / MODEL_FILENAME)
    server = traced(model.path)
    batcher = server.app.state.classifier._batcher
    held.HOLDING.clear()
    held.RELEASE.clear()
    answers: list[int] = []

    def ask(text: str) -> None:
        answers.append(httpx.post(f"{server.url}/prediction", json={"text": text}).status_code)

    try:
        first = threading.Thread(target=ask, args=("slow text",))
        first.start()
        assert held.HOLDING.wait(30)
        others = [threading.Thread(target=ask, args=(f"text {i}",)) for i in range(4)]
        for thread in others:
            thread.start()
        wait_for(lambda: batcher.waiting == 4, what="four requests waiting")
    finally:
        held.RELEASE.set()
    for thread in [first, *others]:
        thread.join(30)
    assert answers == [200] * 5

    wait_for(lambda: len(server.named("POST /prediction")) == 5, what="five request spans")
    requests = {ids(span) for span in server.named("POST /prediction")}
    calls = server.named("model micro-batch")
    assert sorted(len(call.links) for call in calls) == [1, 4]
    [shared] = [call for call in calls if len(call.links) == 4]
    assert linked(shared) <= requests
    assert shared.parent is None  # a trace of its own: it serves four
    assert shared.attributes is not None
    assert shared.attributes["newsapi.batch.size"] == 4
    assert shared.attributes["newsapi.batch.requests"] == 4
    assert shared.attributes["newsapi.inference"] == "scikit-learn"
    assert shared.attributes["newsapi.model.version"] == model.model_version


def test_probes_metrics_and_reads_get_no_span(
    traced: Callable[..., Traced], tiny_model: Artifact
) -> None:
    server = traced(tiny_model.path)
    for path in ("/healthz", "/readyz", "/metrics", "/v2/health/live", "/v2/health/ready",
                 "/model", "/v2/models/newsgroups"):  # fmt: skip
        assert httpx.get(f"{server.url}{path}").status_code == 200, path
    assert httpx.post(f"{server.url}/prediction", json={"text": "x"}).status_code == 200
    wait_for(lambda: bool(server.spans()), what="the prediction's spans")
    assert {span.name for span in server.spans()} == {"POST /prediction", "model inline"}


def layers(app: Any) -> list[str]:
    """The names of the layers in front of FastAPI, outermost first."""
    found, layer = [], app.front
    while layer is not None:
        found.append(type(layer).__name__)
        layer = getattr(layer, "app", None)
    return found


def test_the_tracing_layer_stands_in_front_of_the_fast_lane(
    traced: Callable[..., Traced], tiny_model: Artifact
) -> None:
    found = layers(traced(tiny_model.path).app)
    assert found.index("TracingMiddleware") + 1 == found.index("FastLane")


def test_the_prediction_log_records_the_trace_id(
    traced: Callable[..., Traced], tiny_model: Artifact, tmp_path: Path
) -> None:
    import pyarrow.parquet as pq

    folder = tmp_path / "log"
    server = traced(tiny_model.path, prediction_log_dir=folder)
    headers = {"traceparent": TRACEPARENT}
    assert httpx.post(f"{server.url}/prediction", json={"text": "a"}, headers=headers).is_success
    server.app.state.classifier.prediction_log.stop()  # writes the file it holds
    [record] = pq.read_table(sorted(folder.glob("*.parquet"))).to_pylist()
    assert record["trace_id"] == TRACE_ID
