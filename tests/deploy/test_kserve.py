"""deploy/kserve: the InferenceService passes KServe's own CRD schema (vendored, strictly) and
runs the same container as deploy/kubernetes, in raw Deployment mode, speaking V2."""

from __future__ import annotations

import copy
import json
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest

from tests.deploy.manifests import KSERVE, Obj, inference_service, one, rendered

SCHEMA = KSERVE / "schema" / "inferenceservice-v1beta1.json"


def strict(schema: Any) -> Any:
    """The schema with every object closed to fields it does not name, as the API server's
    strict field validation (``kubectl apply --validate=strict``) refuses them rather than
    dropping them; objects that keep unknown fields by design stay open."""
    if isinstance(schema, list):
        return [strict(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    closed = {key: strict(value) for key, value in schema.items()}
    if (
        "properties" in schema
        and "additionalProperties" not in schema
        and not schema.get("x-kubernetes-preserve-unknown-fields")
    ):
        closed["additionalProperties"] = False
    return closed


@pytest.fixture(scope="module")
def validator() -> jsonschema.protocols.Validator:
    schema = strict(json.loads(SCHEMA.read_text()))
    checker: jsonschema.protocols.Validator = jsonschema.Draft7Validator(schema)
    return checker


def test_the_inference_service_passes_kserves_schema(
    validator: jsonschema.protocols.Validator,
) -> None:
    service = inference_service()
    assert (service["apiVersion"], service["kind"]) == (
        "serving.kserve.io/v1beta1",
        "InferenceService",
    )
    validator.validate(service)


def test_the_strict_schema_refuses_a_misspelt_field(
    validator: jsonschema.protocols.Validator,
) -> None:
    service = inference_service()
    broken = copy.deepcopy(service)
    container = broken["spec"]["predictor"]["containers"][0]
    container["livenesProbe"] = container.pop("livenessProbe")
    with pytest.raises(jsonschema.ValidationError, match="livenesProbe"):
        validator.validate(broken)
    wrong = copy.deepcopy(service)
    wrong["spec"]["predictor"]["minReplicas"] = "two"
    with pytest.raises(jsonschema.ValidationError, match="'two'"):
        validator.validate(wrong)


def test_it_runs_in_raw_deployment_mode_speaking_v2_on_its_port() -> None:
    service = inference_service()
    annotations = service["metadata"]["annotations"]
    assert annotations["serving.kserve.io/deploymentMode"] == "RawDeployment"
    (container,) = service["spec"]["predictor"]["containers"]
    env = {item["name"]: item["value"] for item in container["env"]}
    assert env["PROTOCOL"] == "v2"
    (port,) = container["ports"]
    assert (
        port["containerPort"] == int(env["NEWSAPI_PORT"]) == int(annotations["prometheus.io/port"])
    )
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"]["port"] == port["containerPort"]


def deployment_pod() -> Obj:
    pod: Obj = one(rendered("base"), "Deployment")["spec"]["template"]["spec"]
    return pod


def test_it_runs_the_same_container_as_the_kubernetes_deployment() -> None:
    predictor = inference_service()["spec"]["predictor"]
    pod = deployment_pod()
    (container,) = predictor["containers"]
    (theirs,) = pod["containers"]
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        ours, same = container[probe], copy.deepcopy(theirs[probe])
        same["httpGet"]["port"] = ours["httpGet"]["port"]
        assert ours == same, probe
    for field in ("lifecycle", "resources", "securityContext", "volumeMounts"):
        assert container[field] == theirs[field], field
    for field in ("securityContext", "volumes", "terminationGracePeriodSeconds"):
        assert predictor[field] == pod[field], field
    settings = one(rendered("base"), "ConfigMap")["data"]
    env = {item["name"]: item["value"] for item in container["env"]}
    for name in ("NEWSAPI_WORKERS", "NEWSAPI_GRACEFUL_TIMEOUT", "NEWSAPI_RELOAD_WATCH"):
        assert env[name] == settings[name], name
    assert predictor["minReplicas"] >= 2
    assert predictor["scaleMetric"] == "cpu"
