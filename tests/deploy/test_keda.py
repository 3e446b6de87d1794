"""The KEDA overlays (deploy/k8s/overlays/dev-keda, prod-keda): one ScaledObject per service on the lag of
exactly the consumer groups and topics its runtime subscribes, CPU as the fallback, never past the
partition limit, and no HorizontalPodAutoscaler of its own beside KEDA's. KEDA's CRD is not on this
machine (nor copied into the project), so the structure is checked here field by field."""

from __future__ import annotations

import importlib
import importlib.util
import shutil
import subprocess
from typing import Any

import pytest
import yaml

from deploy_checks import DEPLOY, K8S, KEDA_OVERLAYS, OVERLAYS, Doc, render, settings_class

pytestmark = pytest.mark.unit

SCALED_OBJECT_FIELDS = {"scaleTargetRef", "pollingInterval", "cooldownPeriod", "minReplicaCount",
                        "maxReplicaCount", "fallback", "advanced", "triggers"}
KAFKA_METADATA = {"bootstrapServers", "consumerGroup", "topic", "lagThreshold", "offsetResetPolicy", "sasl", "tls"}


@pytest.fixture(scope="module")
def keda_rendered() -> dict[str, list[Doc]]:
    return {overlay: render(K8S / "overlays" / overlay) for overlay in KEDA_OVERLAYS}


@pytest.fixture(scope="module")
def consumer_groups(services: list[str]) -> dict[str, set[tuple[str, str]]]:
    """service -> {(consumer group, topic)} as its runtime subscribes them (built offline)."""
    groups = {}
    for name in services:
        bootstrap = importlib.import_module(f"icsuite_{name}.bootstrap")
        runtime = bootstrap.build_app(settings_class(name)(environment="test")).state.runtime
        groups[name] = {(c.spec.name, t) for c in runtime.consumers for t in c.spec.topics}
    return groups


def of_kind(docs: list[Doc], kind: str) -> dict[str, Doc]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


def test_committed_scaled_objects_equal_the_generated_ones() -> None:
    spec = importlib.util.spec_from_file_location("generate_keda", DEPLOY / "generate_keda.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for overlay in KEDA_OVERLAYS:
        assert module.output(overlay).read_text(encoding="utf-8") == module.render(overlay), (
            f"{overlay}/scaledobjects.yaml is stale: run uv run python deploy/generate_keda.py")


@pytest.mark.parametrize("overlay", KEDA_OVERLAYS)
def test_every_service_has_a_scaled_object_and_no_hpa_beside_it(keda_rendered: dict[str, list[Doc]],
                                                                 overlay: str, services: list[str]) -> None:
    docs = keda_rendered[overlay]
    scaled = of_kind(docs, "ScaledObject")
    assert sorted(scaled) == services
    hpas = of_kind(docs, "HorizontalPodAutoscaler")
    for name, doc in scaled.items():
        target = doc["spec"]["scaleTargetRef"]
        assert target == {"apiVersion": "apps/v1", "kind": "Deployment", "name": name}
        assert name in of_kind(docs, "Deployment"), f"{overlay}: {name} scales a missing Deployment"
        assert not [h for h in hpas.values() if h["spec"]["scaleTargetRef"]["name"] == name], (
            f"{overlay}: an HPA of {name} would fight the one KEDA creates")
    assert "desktop" in hpas, "the desktop (no consumer) keeps its CPU autoscaler"


@pytest.mark.parametrize("overlay", KEDA_OVERLAYS)
def test_scaled_objects_are_well_formed(keda_rendered: dict[str, list[Doc]], overlay: str) -> None:
    for name, doc in of_kind(keda_rendered[overlay], "ScaledObject").items():
        assert doc["apiVersion"] == "keda.sh/v1alpha1"
        spec = doc["spec"]
        assert set(spec) <= SCALED_OBJECT_FIELDS, f"{overlay}: {name} has {set(spec) - SCALED_OBJECT_FIELDS}"
        assert isinstance(spec["minReplicaCount"], int) and isinstance(spec["maxReplicaCount"], int)
        assert set(spec["fallback"]) == {"failureThreshold", "replicas"}
        assert spec["fallback"]["failureThreshold"] > 0
        assert spec["minReplicaCount"] <= spec["fallback"]["replicas"] <= spec["maxReplicaCount"]
        names = [t["name"] for t in spec["triggers"]]
        assert len(names) == len(set(names)), f"{overlay}: {name} repeats a trigger name"
        for trigger in spec["triggers"]:
            assert set(trigger) <= {"type", "name", "metadata", "metricType", "authenticationRef"}
            assert all(isinstance(v, str) for v in trigger["metadata"].values()), "trigger metadata is strings"


@pytest.mark.parametrize("overlay", KEDA_OVERLAYS)
def test_lag_triggers_are_the_consumer_groups_and_topics_the_service_reads(
    keda_rendered: dict[str, list[Doc]], overlay: str, consumer_groups: dict[str, set[tuple[str, str]]],
    consumed_topics: dict[str, list[str]]
) -> None:
    docs = keda_rendered[overlay]
    (bootstrap,) = of_kind(docs, "ConfigMap")["icsuite-config"]["data"]["KAFKA_BOOTSTRAP_SERVERS"].split(",")
    for name, doc in of_kind(docs, "ScaledObject").items():
        kafka = [t for t in doc["spec"]["triggers"] if t["type"] == "kafka"]
        pairs = {(t["metadata"]["consumerGroup"], t["metadata"]["topic"]) for t in kafka}
        assert len(pairs) == len(kafka), f"{overlay}: {name} repeats a group and topic"
        assert pairs == consumer_groups[name], f"{overlay}: {name} watches {pairs ^ consumer_groups[name]} wrongly"
        assert {topic for _, topic in pairs} <= set(consumed_topics[name])
        for trigger in kafka:
            metadata = trigger["metadata"]
            assert {"bootstrapServers", "consumerGroup", "topic", "lagThreshold"} <= set(metadata) <= KAFKA_METADATA
            assert metadata["bootstrapServers"] == bootstrap
            assert int(metadata["lagThreshold"]) > 0


def test_prod_lag_triggers_sign_in_like_the_service(keda_rendered: dict[str, list[Doc]]) -> None:
    docs = keda_rendered["prod-keda"]
    (auth,) = of_kind(docs, "TriggerAuthentication").values()
    assert auth["apiVersion"] == "keda.sh/v1alpha1"
    parameters = {item["parameter"]: item["name"] for item in auth["spec"]["env"]}
    assert parameters == {"username": "KAFKA_SASL_USERNAME", "password": "KAFKA_SASL_PASSWORD"}
    for name, doc in of_kind(docs, "ScaledObject").items():
        (container,) = of_kind(docs, "Deployment")[name]["spec"]["template"]["spec"]["containers"]
        env = {e["name"]: e for e in container["env"]}
        assert env["KAFKA_SASL_MECHANISM"]["value"] == "SCRAM-SHA-512"
        assert env["KAFKA_SECURITY_PROTOCOL"]["value"] == "SASL_PLAINTEXT"
        assert set(parameters.values()) <= set(env), f"{name}: KEDA reads credentials the pod does not have"
        for trigger in (t for t in doc["spec"]["triggers"] if t["type"] == "kafka"):
            assert trigger["authenticationRef"] == {"name": auth["metadata"]["name"]}
            assert trigger["metadata"]["sasl"] == "scram_sha512" and trigger["metadata"]["tls"] == "disable"


@pytest.mark.parametrize("overlay", KEDA_OVERLAYS)
def test_cpu_stays_as_the_fallback(keda_rendered: dict[str, list[Doc]], overlay: str) -> None:
    for name, doc in of_kind(keda_rendered[overlay], "ScaledObject").items():
        (cpu,) = [t for t in doc["spec"]["triggers"] if t["type"] == "cpu"]
        assert cpu["metricType"] == "Utilization" and 0 < int(cpu["metadata"]["value"]) <= 100, name


@pytest.mark.parametrize("overlay", KEDA_OVERLAYS)
def test_no_service_is_scaled_by_keda_beyond_its_partitions(keda_rendered: dict[str, list[Doc]], overlay: str,
                                                            partition_limit: dict[str, int]) -> None:
    docs = keda_rendered[overlay]
    for name, doc in of_kind(docs, "ScaledObject").items():
        low, high = doc["spec"]["minReplicaCount"], doc["spec"]["maxReplicaCount"]
        replicas = of_kind(docs, "Deployment")[name]["spec"]["replicas"]
        assert high <= partition_limit[name], f"{overlay}: {name} may scale to {high} > {partition_limit[name]}"
        assert 1 <= low <= replicas <= high, f"{overlay}: {name} min {low}, replicas {replicas}, max {high}"
        assert low < high, f"{overlay}: {name} can never scale"


def autoscaling_bounds(docs: list[Doc]) -> dict[tuple[str, str], tuple[int, int]]:
    bounds: dict[tuple[str, str], tuple[int, int]] = {}
    for doc in docs:
        spec: Any = doc.get("spec", {})
        if doc["kind"] == "HorizontalPodAutoscaler":
            bounds[(doc["kind"], doc["metadata"]["name"])] = (spec.get("minReplicas", 1), spec["maxReplicas"])
        elif doc["kind"] == "ScaledObject":
            bounds[(doc["kind"], doc["metadata"]["name"])] = (spec.get("minReplicaCount", 0),
                                                              spec.get("maxReplicaCount", 100))
    return bounds


@pytest.mark.parametrize("overlay", OVERLAYS + KEDA_OVERLAYS)
def test_no_overlay_sets_min_above_max(overlay: str) -> None:
    bounds = autoscaling_bounds(render(K8S / "overlays" / overlay))
    assert bounds, f"{overlay} has no autoscaler"
    for (kind, name), (low, high) in bounds.items():
        assert low <= high, f"{overlay}: {kind} {name} has min {low} above max {high}"


def test_min_above_max_is_caught() -> None:
    docs = [{"kind": "ScaledObject", "metadata": {"name": "x"}, "spec": {"minReplicaCount": 4, "maxReplicaCount": 3}}]
    ((low, high),) = autoscaling_bounds(docs).values()
    assert low > high


@pytest.mark.parametrize("overlay", KEDA_OVERLAYS)
def test_the_test_renderer_agrees_with_kustomize(keda_rendered: dict[str, list[Doc]], overlay: str) -> None:
    command = (["kustomize", "build"] if shutil.which("kustomize")
               else ["kubectl", "kustomize"] if shutil.which("kubectl") else None)
    if command is None:
        pytest.skip("neither kustomize nor kubectl is installed: the renderer is not compared with kustomize")
    output = subprocess.run([*command, str(K8S / "overlays" / overlay)], check=True, capture_output=True,
                            text=True, timeout=60).stdout
    real = {(d["kind"], d["metadata"]["name"]): d for d in yaml.safe_load_all(output) if d}
    ours = {(d["kind"], d["metadata"]["name"]): d for d in keda_rendered[overlay]}
    assert sorted(ours) == sorted(real)
    for key, doc in ours.items():
        assert doc == real[key], f"{overlay}: {key} differs from kustomize's rendering"
