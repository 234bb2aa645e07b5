"""The tracer and the model-call spans (imported only when traces are on, :mod:`.`).

Every span is the SDK's: :func:`configured_provider` builds its ``TracerProvider`` with the
resource of ``OTEL_SERVICE_NAME``/``OTEL_RESOURCE_ATTRIBUTES``, the sampler of
``OTEL_TRACES_SAMPLER``, and a ``BatchSpanProcessor`` (``OTEL_BSP_*``): spans are queued (at
most ``OTEL_BSP_MAX_QUEUE_SIZE``, 2,048 by default; more are dropped) and exported by the
processor's own thread, so a slow or unreachable collector never holds a request.

A model call (a micro-batch, a chunk of a large ``/predictions`` call, a short text computed
on the event loop) is one span, linked to the request spans it served: a micro-batch serves
many requests, so its span starts a trace of its own; a chunk or an inline computation serves
the one request it runs in, and is also that request span's child.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from urllib.parse import urlsplit

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter
from opentelemetry.trace import Link, Span
from opentelemetry.util.types import AttributeValue

from newsapi import __version__

SCOPE = "newsapi"  #: the instrumentation scope's name
EXPORTERS = ("otlp", "console")
PROTOCOL = "http/protobuf"
#: how long a stopping worker waits for the last spans to leave (an unreachable collector
#: must not hold the shutdown for the exporter's whole timeout)
SHUTDOWN_SECONDS = 2.0

# attribute names: OpenTelemetry's semantic conventions where one exists, else newsapi's own
MODEL_VERSION = "newsapi.model.version"
INFERENCE = "newsapi.inference"  # lean or scikit-learn
BATCH_SIZE = "newsapi.batch.size"  # texts in the model call
BATCH_REQUESTS = "newsapi.batch.requests"  # requests it served
MODEL_CALL = "newsapi.model_call"  # micro-batch, chunk or inline
CACHE = "newsapi.cache"  # memory, disk or computed
CACHE_MEMORY_HITS = "newsapi.cache.memory_hits"
TEXTS = "newsapi.texts"


class TracingConfigError(ValueError):
    """An ``OTEL_*`` setting this server cannot honour; the message says which and the fix."""


def configured_provider(environ: Mapping[str, str]) -> TracerProvider:
    """The SDK's tracer provider, configured by the ``OTEL_*`` variables, with a batch
    processor for each exporter of ``OTEL_TRACES_EXPORTER`` (``otlp`` when unset)."""
    names = [n.strip().lower() for n in environ.get("OTEL_TRACES_EXPORTER", "").split(",")]
    names = [n for n in names if n] or ["otlp"]
    for name in names:
        if name not in EXPORTERS:
            raise TracingConfigError(
                f"OTEL_TRACES_EXPORTER names {name!r}; newsapi exports traces with "
                f"{' or '.join(EXPORTERS)}"
            )
    exporters: list[SpanExporter] = []
    if "otlp" in names:
        exporters.append(otlp_exporter(environ))
    if "console" in names:
        exporters.append(ConsoleSpanExporter())
    # sampler: OTEL_TRACES_SAMPLER; the worker's lifespan shuts it down, within a bound
    provider = TracerProvider(resource=resource(), shutdown_on_exit=False)
    for exporter in exporters:
        provider.add_span_processor(BatchSpanProcessor(exporter))
    return provider


def otlp_exporter(environ: Mapping[str, str]) -> SpanExporter:
    """The OTLP/HTTP exporter (it reads its own ``OTEL_EXPORTER_OTLP_*`` variables); an
    endpoint that is no http(s) URL, or another protocol, is refused here rather than
    failing every export later."""
    protocol = (
        environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
        or environ.get("OTEL_EXPORTER_OTLP_PROTOCOL")
        or PROTOCOL
    ).strip()
    if protocol != PROTOCOL:
        raise TracingConfigError(
            f"the OTLP protocol {protocol!r} is not installed; newsapi's exporter speaks "
            f"{PROTOCOL} (set OTEL_EXPORTER_OTLP_PROTOCOL={PROTOCOL}, port 4318)"
        )
    for variable in ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT"):
        endpoint = environ.get(variable, "").strip()
        if endpoint:
            try:
                parts = urlsplit(endpoint)
                valid = parts.scheme in ("http", "https") and bool(parts.hostname)
                parts.port  # noqa: B018 (raises ValueError on a malformed port)
            except ValueError:
                valid = False
            if not valid:
                raise TracingConfigError(
                    f"{variable}={endpoint[:100]!r} is not an http(s) URL "
                    "(e.g. http://localhost:4318)"
                )
            break
    try:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    except ImportError as exc:
        raise TracingConfigError(
            "OpenTelemetry's OTLP/HTTP exporter is not installed (pip install 'newsapi[tracing]')"
        ) from exc
    return OTLPSpanExporter()


def resource() -> Resource:
    """The SDK's resource (``OTEL_SERVICE_NAME``, ``OTEL_RESOURCE_ATTRIBUTES``), named
    ``newsapi`` when neither names the service."""
    found = Resource.create({"service.version": __version__})
    if str(found.attributes.get(SERVICE_NAME, "")).startswith("unknown_service"):
        found = found.merge(Resource({SERVICE_NAME: "newsapi"}))
    return found


class Tracing:
    """The tracer the HTTP layer and the service share (``owned``: this server built the
    provider, so it shuts it down)."""

    def __init__(self, provider: trace.TracerProvider, *, owned: bool) -> None:
        self.provider = provider
        self.owned = owned
        self.tracer = provider.get_tracer(SCOPE, __version__)

    def request_link(self) -> Link | None:
        """A link to the span of the request being served (None outside one)."""
        context = trace.get_current_span().get_span_context()
        return Link(context) if context.is_valid else None

    @contextmanager
    def model_call(
        self,
        kind: str,
        links: Sequence[Link | None],
        size: int,
        attributes: Mapping[str, str] | None = None,
        *,
        own_trace: bool = False,
    ) -> Iterator[Span]:
        """A model call's span over the ``with`` block, linked to the request spans it
        serves; ``own_trace``: a root span (a micro-batch), else a child of the current."""
        linked = [link for link in links if link is not None]
        with self.tracer.start_as_current_span(
            f"model {kind}",
            context=Context() if own_trace else None,
            links=linked,
            attributes={
                MODEL_CALL: kind,
                BATCH_SIZE: size,
                BATCH_REQUESTS: len(links),
                **(attributes or {}),
            },
        ) as span:
            yield span

    def start_model_call(self, kind: str, links: Sequence[Link | None], size: int) -> Span:
        """A model call's span, started (its caller ends it): a child of the current span."""
        linked = [link for link in links if link is not None]
        attributes: dict[str, AttributeValue] = {
            MODEL_CALL: kind,
            BATCH_SIZE: size,
            BATCH_REQUESTS: len(links),
        }
        return self.tracer.start_span(f"model {kind}", links=linked, attributes=attributes)

    def inline_call(self, version: str) -> Span:
        """The span of a short text computed on the event loop (the lean path), a child of
        its request's span, which learns that its text was computed."""
        trace.get_current_span().set_attribute(CACHE, "computed")
        span = self.start_model_call("inline", [self.request_link()], 1)
        span.set_attributes(self.model(version, "lean"))
        return span

    @staticmethod
    def model(version: str, inference: str) -> dict[str, str]:
        """A model call's attributes: the model that computed it and how."""
        return {MODEL_VERSION: version, INFERENCE: inference}

    def describe_model(self, version: str, inference: str, size: int) -> None:
        """The current span is a model call of ``size`` texts computed by this model."""
        span = trace.get_current_span()
        span.set_attributes(self.model(version, inference))
        span.set_attribute(BATCH_SIZE, size)

    @staticmethod
    def cache(outcome: str) -> None:
        """The current request's cache outcome: ``memory`` (a memory-tier hit), ``disk``
        (the model call found it in the disk tier) or ``computed``."""
        trace.get_current_span().set_attribute(CACHE, outcome)

    @staticmethod
    def cache_many(texts: int, memory_hits: int) -> None:
        """The current request's cache outcome for several texts (``memory`` when every
        one was a memory-tier hit)."""
        trace.get_current_span().set_attributes(
            {
                TEXTS: texts,
                CACHE_MEMORY_HITS: memory_hits,
                CACHE: "memory" if memory_hits == texts else "computed",
            }
        )

    def shutdown(self) -> None:
        """Export what is queued and stop the processor's thread, waiting at most
        :data:`SHUTDOWN_SECONDS` (an owned provider only)."""
        if not self.owned or not isinstance(self.provider, TracerProvider):
            return
        stopping = threading.Thread(target=self.provider.shutdown, name="traces", daemon=True)
        stopping.start()
        stopping.join(SHUTDOWN_SECONDS)
