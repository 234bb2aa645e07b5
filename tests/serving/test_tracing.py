"""The switch that turns traces on (:func:`newsapi.serving.tracing.wanted`) and the SDK
configuration it builds (:mod:`newsapi.serving.tracing.spans`)."""

from __future__ import annotations

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF

from newsapi.serving.tracing import wanted
from newsapi.serving.tracing.spans import TracingConfigError, configured_provider, resource


@pytest.mark.parametrize(
    ("env", "on"),
    [
        ({}, False),
        ({"OTEL_SERVICE_NAME": "newsapi"}, False),  # naming the service asks for nothing
        ({"OTEL_TRACES_EXPORTER": "otlp"}, True),
        ({"OTEL_TRACES_EXPORTER": "console"}, True),
        ({"OTEL_TRACES_EXPORTER": "none"}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, True),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"}, True),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_TRACES_EXPORTER": "none"}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_SDK_DISABLED": "true"}, False),
        ({"OTEL_TRACES_EXPORTER": "otlp", "OTEL_SDK_DISABLED": "TRUE"}, False),
        ({"OTEL_TRACES_EXPORTER": "zipkin"}, True),  # on, then refused in one line
    ],
)
def test_the_otel_variables_turn_traces_on(env: dict[str, str], on: bool) -> None:
    assert wanted(env) is on


def test_the_provider_is_the_sdks_own_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_SERVICE_NAME", "classifier-eu")
    monkeypatch.setenv("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment=test")
    monkeypatch.setenv("OTEL_TRACES_SAMPLER", "always_off")
    provider = configured_provider({"OTEL_TRACES_EXPORTER": "console"})
    try:
        assert isinstance(provider, TracerProvider)
        assert provider.resource.attributes["service.name"] == "classifier-eu"
        assert provider.resource.attributes["deployment.environment"] == "test"
        assert provider.sampler is ALWAYS_OFF
    finally:
        provider.shutdown()


def test_the_service_is_named_newsapi_unless_the_variables_name_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("OTEL_SERVICE_NAME", raising=False)
    monkeypatch.delenv("OTEL_RESOURCE_ATTRIBUTES", raising=False)
    assert resource().attributes["service.name"] == "newsapi"
    monkeypatch.setenv("OTEL_RESOURCE_ATTRIBUTES", "service.name=from-attributes")
    assert resource().attributes["service.name"] == "from-attributes"


@pytest.mark.parametrize(
    ("env", "said"),
    [
        ({"OTEL_TRACES_EXPORTER": "otlp,jaeger"}, "names 'jaeger'"),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "ftp://collector"}, "is not an http(s) URL"),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:port"}, "is not an http(s) URL"),
        ({"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "grpc"}, "'grpc' is not installed"),
    ],
)
def test_a_configuration_it_cannot_honour_is_refused_with_the_fix(
    env: dict[str, str], said: str
) -> None:
    with pytest.raises(TracingConfigError, match=said.replace("(", r"\(").replace(")", r"\)")):
        configured_provider(env)
