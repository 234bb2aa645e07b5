"""OpenTelemetry traces: off unless the standard ``OTEL_*`` variables ask for them.

Off, nothing of this package but this module is imported, no tracing layer is installed in
front of the app, and the service's hooks are ``None`` (tested: a server started without
``OTEL_*`` never imports the SDK). On, :func:`start_tracing` builds the SDK's own tracer
provider (:mod:`.spans`): resource, sampler and batch processor as the ``OTEL_*`` variables
configure them, and the OTLP exporter over HTTP/protobuf. A configuration it cannot honour is
one log line, and the server serves without traces.

The switch (docs/monitor-traces.md): on when ``OTEL_TRACES_EXPORTER`` names an exporter
(``otlp``, or ``console`` to try it) or, with that variable unset, when
``OTEL_EXPORTER_OTLP_ENDPOINT`` or ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` is set; never with
``OTEL_SDK_DISABLED=true`` or ``OTEL_TRACES_EXPORTER=none``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from contextvars import ContextVar
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from opentelemetry.trace import TracerProvider

    from newsapi.serving.tracing.spans import Tracing

log = logging.getLogger("newsapi")

#: the trace id (32 hex digits) of the request being served when its span is sampled, else
#: None: the prediction log's ``trace_id`` (set by the HTTP layer's tracing middleware)
TRACE_ID: ContextVar[str | None] = ContextVar("newsapi_trace_id", default=None)


def wanted(environ: Mapping[str, str]) -> bool:
    """Whether the ``OTEL_*`` variables in ``environ`` ask for traces (the module's rule)."""
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    exporter = environ.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    if exporter:
        return exporter != "none"
    return bool(
        environ.get("OTEL_EXPORTER_OTLP_ENDPOINT", "").strip()
        or environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "").strip()
    )


def start_tracing(provider: TracerProvider | None = None) -> Tracing | None:
    """Tracing as the environment's ``OTEL_*`` variables configure it, or None: off, or a
    configuration it cannot honour (one warning line says why).

    ``provider`` (tests): trace into this provider whatever the environment says; its owner
    shuts it down."""
    if provider is None and not wanted(os.environ):
        return None
    try:
        from newsapi.serving.tracing.spans import Tracing, TracingConfigError, configured_provider
    except ImportError as exc:
        log.warning(
            "OTEL_* variables ask for traces but OpenTelemetry's SDK is not installed "
            "(pip install 'newsapi[tracing]': %s): serving without traces",
            exc.name or exc,
        )
        return None
    if provider is not None:
        return Tracing(provider, owned=False)
    try:
        return Tracing(configured_provider(os.environ), owned=True)
    except (TracingConfigError, ImportError) as exc:
        log.warning("traces are off: %s", exc)
        return None
