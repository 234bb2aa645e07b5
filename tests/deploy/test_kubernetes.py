"""deploy/kubernetes: every overlay renders, passes the Kubernetes API's schemas strictly, and
keeps what running newsapi on a cluster needs (probes on real routes, a locked-down container,
writable mounts for every folder the server writes, a grace period that covers the drain)."""

from __future__ import annotations

import copy
from typing import Any

import kubernetes_validate  # type: ignore[import-untyped]
import pytest
from kubernetes_validate.utils import ValidationError  # type: ignore[import-untyped]

from newsapi.settings import ServerSettings
from tests.deploy.manifests import (
    KUSTOMIZATIONS,
    Obj,
    app_paths,
    image_env,
    image_volumes,
    one,
    rendered,
    sleep_seconds,
    under,
)

#: the Kubernetes releases the manifests are checked against: the oldest one they are meant
#: for and the newest kubernetes-validate knows
KUBERNETES_VERSIONS = ("1.30", "1.37")
KINDS = {
    "ConfigMap", "Deployment", "HorizontalPodAutoscaler", "PersistentVolumeClaim",
    "PodDisruptionBudget", "Service",
}  # fmt: skip


def test_the_base_and_a_small_and_a_production_overlay_exist() -> None:
    assert KUSTOMIZATIONS == ["base", "overlays/production", "overlays/small"]


@pytest.mark.parametrize("folder", KUSTOMIZATIONS)
def test_every_kustomization_renders_the_whole_service(folder: str) -> None:
    assert {obj["kind"] for obj in rendered(folder)} == KINDS


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("folder", KUSTOMIZATIONS)
def test_every_rendered_object_passes_the_api_schema_strictly(folder: str, version: str) -> None:
    for obj in rendered(folder):
        kubernetes_validate.validate(obj, version, strict=True)


def test_the_strict_check_refuses_a_misspelt_field() -> None:
    deployment = copy.deepcopy(one(rendered("base"), "Deployment"))
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    container["readinesProbe"] = container.pop("readinessProbe")
    with pytest.raises(ValidationError, match="readinesProbe"):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSIONS[0], strict=True)


def settings_of(objects: tuple[Obj, ...]) -> dict[str, str]:
    data: dict[str, str] = one(objects, "ConfigMap")["data"]
    return data


def container_of(deployment: Obj) -> Obj:
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    found: Obj = container
    return found


@pytest.mark.parametrize("folder", KUSTOMIZATIONS)
def test_probes_ask_the_apps_own_routes_on_the_served_port(folder: str) -> None:
    objects = rendered(folder)
    container = container_of(one(objects, "Deployment"))
    (port,) = container["ports"]
    assert port["containerPort"] == int(settings_of(objects)["NEWSAPI_PORT"])
    probes = {
        name: container[f"{name}Probe"]["httpGet"] for name in ("startup", "readiness", "liveness")
    }
    assert probes["readiness"]["path"] == probes["startup"]["path"] == "/readyz"
    assert probes["liveness"]["path"] == "/healthz"
    for probe in probes.values():
        assert probe["port"] == port["name"]
        assert probe["path"] in app_paths()
    # starting (the model loads in every worker) may take up to a minute before liveness counts
    startup = container["startupProbe"]
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 60


@pytest.mark.parametrize("folder", KUSTOMIZATIONS)
def test_the_container_runs_locked_down(folder: str) -> None:
    pod = one(rendered(folder), "Deployment")["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] != 0
    assert pod["automountServiceAccountToken"] is False
    context = container_of(one(rendered(folder), "Deployment"))["securityContext"]
    assert context["readOnlyRootFilesystem"] is True
    assert context["allowPrivilegeEscalation"] is False
    assert context["capabilities"] == {"drop": ["ALL"]}


@pytest.mark.parametrize("folder", KUSTOMIZATIONS)
def test_every_folder_the_server_writes_is_a_writable_empty_dir(folder: str) -> None:
    pod = one(rendered(folder), "Deployment")["spec"]["template"]["spec"]
    volumes = {volume["name"]: volume for volume in pod["volumes"]}
    mounts = {mount["mountPath"]: mount for mount in pod["containers"][0]["volumeMounts"]}
    for path in image_volumes():
        assert path in mounts, f"{path} (a VOLUME of the Containerfile) is not mounted"
        assert "emptyDir" in volumes[mounts[path]["name"]]
        assert not mounts[path].get("readOnly", False)
    env = image_env()
    for variable in ("NEWSAPI_CACHE_DIR", "NEWSAPI_METRICS_DIR", "TMPDIR"):
        assert under(env[variable], image_volumes()), variable
    # the metrics folder is written on every request: memory, not the node's disk
    metrics = mounts[next(p for p in image_volumes() if under(env["NEWSAPI_METRICS_DIR"], [p]))]
    assert volumes[metrics["name"]]["emptyDir"]["medium"] == "Memory"


@pytest.mark.parametrize("folder", KUSTOMIZATIONS)
def test_the_model_store_comes_read_only_from_the_shared_claim(folder: str) -> None:
    objects = rendered(folder)
    pod = one(objects, "Deployment")["spec"]["template"]["spec"]
    mounts = {
        mount["mountPath"]: mount
        for mount in container_of(one(objects, "Deployment"))["volumeMounts"]
    }
    store = image_env()["NEWSAPI_ARTIFACTS_DIR"]
    assert image_env()["NEWSAPI_MODEL_PATH"] == f"{store}/newsgroups_model.joblib"
    assert mounts[store]["readOnly"] is True
    (volume,) = [v for v in pod["volumes"] if v["name"] == mounts[store]["name"]]
    claim = one(objects, "PersistentVolumeClaim")
    assert volume["persistentVolumeClaim"]["claimName"] == claim["metadata"]["name"]
    assert "ReadWriteMany" in claim["spec"]["accessModes"]
    # a promotion on the shared store reaches every replica by the file watch
    assert settings_of(objects)["NEWSAPI_RELOAD_WATCH"] == "true"


@pytest.mark.parametrize("folder", KUSTOMIZATIONS)
def test_the_grace_period_covers_the_pause_and_the_servers_drain(folder: str) -> None:
    objects = rendered(folder)
    pod = one(objects, "Deployment")["spec"]["template"]["spec"]
    pause = sleep_seconds(
        container_of(one(objects, "Deployment"))["lifecycle"]["preStop"]["exec"]["command"]
    )
    graceful = int(
        settings_of(objects).get("NEWSAPI_GRACEFUL_TIMEOUT", ServerSettings().graceful_timeout)
    )
    # the pause lets the Service drop the pod before SIGTERM; then requests in flight drain
    # for the graceful timeout, and the processes need a moment to exit before SIGKILL
    assert pause >= 1
    assert pod["terminationGracePeriodSeconds"] >= pause + graceful + 2


@pytest.mark.parametrize("folder", KUSTOMIZATIONS)
def test_requests_and_limits_are_set(folder: str) -> None:
    resources = container_of(one(rendered(folder), "Deployment"))["resources"]
    assert set(resources["requests"]) == set(resources["limits"]) == {"cpu", "memory"}


@pytest.mark.parametrize("folder", KUSTOMIZATIONS)
def test_scaling_disruptions_and_the_service_select_these_pods(folder: str) -> None:
    objects = rendered(folder)
    deployment = one(objects, "Deployment")
    labels: dict[str, Any] = deployment["spec"]["template"]["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert deployment["spec"]["replicas"] >= 2
    pdb = one(objects, "PodDisruptionBudget")
    assert pdb["spec"]["selector"]["matchLabels"].items() <= labels.items()
    service = one(objects, "Service")
    assert service["spec"]["selector"].items() <= labels.items()
    assert service["spec"]["ports"][0]["targetPort"] == container_of(deployment)["ports"][0]["name"]
    hpa = one(objects, "HorizontalPodAutoscaler")
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1", "kind": "Deployment", "name": deployment["metadata"]["name"],
    }  # fmt: skip
    assert hpa["spec"]["minReplicas"] >= 2
    (metric,) = hpa["spec"]["metrics"]
    assert metric["resource"]["name"] == "cpu"


@pytest.mark.parametrize("folder", KUSTOMIZATIONS)
def test_prometheus_is_told_where_to_scrape(folder: str) -> None:
    objects = rendered(folder)
    deployment = one(objects, "Deployment")
    annotations = deployment["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/scrape"] == "true"
    assert (
        int(annotations["prometheus.io/port"])
        == container_of(deployment)["ports"][0]["containerPort"]
    )
    assert annotations["prometheus.io/path"] == "/metrics"
    assert "/metrics" in app_paths()


def test_the_overlays_differ_where_they_should() -> None:
    small, production = rendered("overlays/small"), rendered("overlays/production")
    assert settings_of(small)["NEWSAPI_WORKERS"] == "1"
    assert one(production, "Deployment")["spec"]["replicas"] >= 3
    resources = container_of(one(production, "Deployment"))["resources"]
    assert resources["requests"] == resources["limits"]  # Guaranteed: no CPU throttling surprise
    image = container_of(one(production, "Deployment"))["image"]
    assert not image.endswith(":latest")
