"""deploy/k8s: every rendered resource valid, the registry's topics, every setting, no service scaled past
its partitions, non-root Deployments with both probes."""

from __future__ import annotations

import functools
import importlib.util
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml
from icsuite_chassis.settings import DEVELOPMENT_DATA_KEY_MASTER, DEVELOPMENT_JWT_SECRET

from deploy_checks import (DEPLOY, K8S, LOCAL_STRIMZI_SCHEMAS, OVERLAYS, Doc, RenderError, load_with_environment,
                           known_names, render, required_settings, settings_class)

pytestmark = pytest.mark.unit

KUBERNETES_VERSION = "1.32"
"""The oldest Kubernetes the manifests must be valid for (kubernetes-validate carries its schemas)."""

PLACEHOLDER_SECRET = "a-secret-created-out-of-band-0123456789abcdef"
"""Stands in for a Secret value the overlay does not carry (prod: created with kubectl)."""


def by_kind(docs: list[Doc], kind: str) -> dict[str, Doc]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


# --------------------------------------------------------------------------------------------------------
# rendering and validity


@functools.cache
def strimzi_schemas(folder: Path) -> dict[tuple[str, str], dict[str, Any]]:
    """(apiVersion, kind) -> the CRD's openAPIV3Schema, made strict: the API server would drop unknown
    fields silently, so a misspelt field must fail here."""
    schemas = {}
    for path in sorted(folder.glob("*.yaml")):
        crd = yaml.safe_load(path.read_text(encoding="utf-8"))
        for version in crd["spec"]["versions"]:
            if version["served"]:
                key = (f"{crd['spec']['group']}/{version['name']}", crd["spec"]["names"]["kind"])
                schemas[key] = _strict(version["schema"]["openAPIV3Schema"])
    return schemas


def _strict(schema: Any) -> Any:
    if isinstance(schema, list):
        return [_strict(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    strict = {key: _strict(value) for key, value in schema.items()}
    if ("properties" in strict and "additionalProperties" not in strict
            and not strict.get("x-kubernetes-preserve-unknown-fields")):
        strict["additionalProperties"] = False
    return strict


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_rendered_resource_validates(rendered: dict[str, list[Doc]], overlay: str, schemas: Path) -> None:
    crds = strimzi_schemas(schemas / "strimzi")
    metadata = {"type": "object", "required": ["name"], "properties": {
        "name": {"type": "string", "pattern": r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$", "maxLength": 253}}}
    for doc in rendered[overlay]:
        where = f"{overlay}: {doc['kind']} {doc['metadata']['name']}"
        if doc["apiVersion"].startswith("kafka.strimzi.io/"):
            key = (doc["apiVersion"], doc["kind"])
            schema = crds.get(key) or LOCAL_STRIMZI_SCHEMAS.get(key)
            assert schema is not None, f"{where}: no served Strimzi CRD version {doc['apiVersion']}"
            body = {k: v for k, v in doc.items() if k not in ("apiVersion", "kind", "metadata")}
            try:
                jsonschema.Draft7Validator(schema).validate(body)
                jsonschema.Draft7Validator(metadata).validate(doc["metadata"])
            except jsonschema.ValidationError as exc:
                pytest.fail(f"{where}: {exc.message} at {list(exc.absolute_path)}")
        else:
            try:
                kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
            except kubernetes_validate.ValidationError as exc:
                pytest.fail(f"{where}: {exc.message} at {list(exc.path)}")
            except kubernetes_validate.SchemaNotFoundError:
                pytest.fail(f"{where}: {doc['apiVersion']} {doc['kind']} is not a Kubernetes {KUBERNETES_VERSION} kind")


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_resource_names_are_unique(rendered: dict[str, list[Doc]], overlay: str) -> None:
    keys = [(d["kind"], d["metadata"]["name"]) for d in rendered[overlay]]
    assert len(keys) == len(set(keys))


def kustomize_command() -> list[str] | None:
    if shutil.which("kustomize"):
        return ["kustomize", "build"]
    if shutil.which("kubectl"):
        return ["kubectl", "kustomize"]
    return None


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_test_renderer_agrees_with_kustomize(rendered: dict[str, list[Doc]], overlay: str) -> None:
    command = kustomize_command()
    if command is None:
        pytest.skip("neither kustomize nor kubectl is installed: the renderer is not compared with kustomize")
    output = subprocess.run([*command, str(K8S / "overlays" / overlay)], check=True, capture_output=True,
                            text=True, timeout=60).stdout
    real = {(d["kind"], d["metadata"]["name"]): d for d in yaml.safe_load_all(output) if d}
    ours = {(d["kind"], d["metadata"]["name"]): d for d in rendered[overlay]}
    assert sorted(ours) == sorted(real)
    for key, doc in ours.items():
        assert doc == real[key], f"{overlay}: {key} differs from kustomize's rendering"


def test_the_renderer_refuses_what_it_does_not_implement(tmp_path: Path) -> None:
    (tmp_path / "kustomization.yaml").write_text("resources: []\ncommonLabels: {a: b}\n")
    with pytest.raises(RenderError):
        render(tmp_path)


# --------------------------------------------------------------------------------------------------------
# Kafka and topics


def test_committed_topics_equal_the_generated_ones() -> None:
    spec = importlib.util.spec_from_file_location("generate_topics", DEPLOY / "generate_topics.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.OUTPUT.read_text(encoding="utf-8") == module.render(), (
        "deploy/k8s/base/kafka/topics.yaml is stale: run uv run python deploy/generate_topics.py")


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_kafka_topics_are_exactly_the_registry(rendered: dict[str, list[Doc]], overlay: str,
                                               registry: dict[str, int]) -> None:
    docs = rendered[overlay]
    (cluster,) = by_kind(docs, "Kafka")
    topics = by_kind(docs, "KafkaTopic").values()
    assert {t["spec"].get("topicName", t["metadata"]["name"]): t["spec"]["partitions"] for t in topics} == registry
    assert len(topics) == len(registry)
    assert all(t["metadata"]["labels"]["strimzi.io/cluster"] == cluster for t in topics)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_kafka_runs_kraft_with_a_node_pool(rendered: dict[str, list[Doc]], overlay: str) -> None:
    docs = rendered[overlay]
    (kafka,) = by_kind(docs, "Kafka").values()
    assert kafka["metadata"]["annotations"] == {"strimzi.io/kraft": "enabled", "strimzi.io/node-pools": "enabled"}
    assert kafka["spec"]["entityOperator"]["topicOperator"] is not None, "KafkaTopics need the topic operator"
    pools = [p for p in by_kind(docs, "KafkaNodePool").values()
             if p["metadata"]["labels"]["strimzi.io/cluster"] == kafka["metadata"]["name"]]
    roles = {role for pool in pools for role in pool["spec"]["roles"]}
    assert roles == {"controller", "broker"}
    brokers = sum(p["spec"]["replicas"] for p in pools if "broker" in p["spec"]["roles"])
    config = kafka["spec"]["kafka"]["config"]
    assert config["auto.create.topics.enable"] is False
    assert config["min.insync.replicas"] < config["default.replication.factor"] <= brokers or (
        brokers == config["default.replication.factor"] == config["min.insync.replicas"] == 1)
    (shared,) = by_kind(docs, "ConfigMap")["icsuite-config"]["data"]["KAFKA_BOOTSTRAP_SERVERS"].split(",")
    plain = next(listener for listener in kafka["spec"]["kafka"]["listeners"] if not listener["tls"])
    assert shared == f"{kafka['metadata']['name']}-kafka-bootstrap:{plain['port']}"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_mongodb_members_agree_with_the_uri(rendered: dict[str, list[Doc]], overlay: str) -> None:
    docs = rendered[overlay]
    members = by_kind(docs, "StatefulSet")["mongodb"]["spec"]["replicas"]
    init = by_kind(docs, "Job")["mongodb-init"]["spec"]["template"]["spec"]["containers"][0]
    assert {e["name"]: e.get("value") for e in init["env"]}["MONGO_MEMBERS"] == str(members)
    uri = by_kind(docs, "ConfigMap")["icsuite-config"]["data"]["MONGODB_URI"]
    hosts = uri.removeprefix("mongodb://").split("/")[0].split(",")
    assert hosts == [f"mongodb-{i}.mongodb:27017" for i in range(members)]
    assert "replicaSet=rs0" in uri


# --------------------------------------------------------------------------------------------------------
# the services


def container_environment(docs: list[Doc], deployment: Doc) -> dict[str, str]:
    """The environment the container starts with: its ConfigMaps, then env (Secret values resolved)."""
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    config_maps, secrets = by_kind(docs, "ConfigMap"), by_kind(docs, "Secret")
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        name = source["configMapRef"]["name"]
        assert name in config_maps, f"{deployment['metadata']['name']} reads the missing ConfigMap {name}"
        env.update({k: str(v) for k, v in config_maps[name]["data"].items()})
    for item in container.get("env", []):
        if "value" in item:
            env[item["name"]] = item["value"]
        else:
            ref = item["valueFrom"]["secretKeyRef"]
            secret = secrets.get(ref["name"])
            env[item["name"]] = secret["stringData"][ref["key"]] if secret else PLACEHOLDER_SECRET
    return env


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_service_has_its_resources(rendered: dict[str, list[Doc]], overlay: str,
                                         services: list[str]) -> None:
    docs = rendered[overlay]
    for kind in ("Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget", "NetworkPolicy"):
        missing = set(services) - set(by_kind(docs, kind))
        assert not missing, f"{overlay}: no {kind} for {sorted(missing)}"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_deployments_are_non_root_with_both_probes(rendered: dict[str, list[Doc]], overlay: str,
                                                   services: list[str]) -> None:
    docs = rendered[overlay]
    for name in services:
        deployment = by_kind(docs, "Deployment")[name]
        pod = deployment["spec"]["template"]["spec"]
        (container,) = pod["containers"]
        port = container["ports"][0]
        assert container["command"] == ["python", "-m", f"icsuite_{name}.main"]
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
        for probe in ("readinessProbe", "livenessProbe"):
            assert container[probe]["httpGet"]["port"] in (port["name"], port["containerPort"])
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["runAsUser"] != 0
        security = container["securityContext"]
        assert security["readOnlyRootFilesystem"] is True
        assert security["allowPrivilegeEscalation"] is False
        assert security["capabilities"]["drop"] == ["ALL"]
        assert {"cpu", "memory"} <= set(container["resources"]["requests"])
        assert "memory" in container["resources"]["limits"]
        assert any(m["mountPath"] == "/tmp" for m in container["volumeMounts"]), "a writable /tmp"
        secret_env = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in container["env"] if "valueFrom" in e}
        assert secret_env.get("IC_JWT_SECRET", {}).get("name") == "icsuite-jwt", "the key from a Secret"
        assert secret_env.get("IC_DATA_KEY_MASTER", {}).get("name") == "icsuite-data-keys", "the vault's master"
        assert all("IC_JWT_SECRET" not in c.get("data", {}) for c in by_kind(docs, "ConfigMap").values())
        service = by_kind(docs, "Service")[name]
        assert service["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"]
        assert service["spec"]["ports"][0]["targetPort"] in (port["name"], port["containerPort"])
        assert service["spec"]["ports"][0]["port"] == port["containerPort"]
        pdb = by_kind(docs, "PodDisruptionBudget")[name]
        assert pdb["spec"]["selector"] == deployment["spec"]["selector"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_network_policies_admit_the_port_and_reach_kafka_mongodb_and_dns(
    rendered: dict[str, list[Doc]], overlay: str, services: list[str]
) -> None:
    docs = rendered[overlay]
    for name in services:
        policy = by_kind(docs, "NetworkPolicy")[name]["spec"]
        port = by_kind(docs, "Deployment")[name]["spec"]["template"]["spec"]["containers"][0]["ports"][0]
        assert set(policy["policyTypes"]) == {"Ingress", "Egress"}
        assert policy["podSelector"] == by_kind(docs, "Deployment")[name]["spec"]["selector"]
        assert [p["port"] for rule in policy["ingress"] for p in rule["ports"]] == [port["containerPort"]]
        egress_ports = {(p.get("protocol", "TCP"), p["port"]) for rule in policy["egress"] for p in rule["ports"]}
        assert {("TCP", 9092), ("TCP", 27017), ("UDP", 53), ("TCP", 53)} <= egress_ports


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_setting_a_service_requires_is_provided(rendered: dict[str, list[Doc]], overlay: str,
                                                      services: list[str],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    docs = rendered[overlay]
    for name in services:
        cls = settings_class(name)
        deployment = by_kind(docs, "Deployment")[name]
        env = container_environment(docs, deployment)
        for field, names in required_settings(cls).items():
            assert any(n in env for n in names), f"{overlay}: {name} gets none of {names} ({field})"
        prefix = cls.model_config["env_prefix"]
        stray = {n for n in env if n.startswith(prefix) and n not in known_names(cls)}
        assert not stray, f"{overlay}: {name} has no settings called {sorted(stray)}"
        with monkeypatch.context() as scoped:
            settings = load_with_environment(cls, env, scoped)
        assert settings.host == "0.0.0.0"
        port = deployment["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"]
        assert settings.port == port
        assert settings.mongodb_database == f"ic_{name}"
        assert settings.crypto_shredding and settings.key_vault_database == "ic_key_vault"
        if settings.environment == "production":
            assert settings.jwt_secret != DEVELOPMENT_JWT_SECRET
            assert settings.data_key_master != DEVELOPMENT_DATA_KEY_MASTER


def test_only_the_dev_overlay_carries_a_secret(rendered: dict[str, list[Doc]]) -> None:
    assert set(by_kind(rendered["dev"], "Secret")) == {"icsuite-jwt", "icsuite-data-keys"}
    assert by_kind(rendered["prod"], "Secret") == {}, "production secrets are created out of band"
    assert by_kind(rendered["prod"], "ConfigMap")["icsuite-config"]["data"]["IC_ENV"] == "production"


# --------------------------------------------------------------------------------------------------------
# scaling


def test_consumed_topics_name_every_service_and_only_registry_topics(
    consumed_topics: dict[str, list[str]], registry: dict[str, int], services: list[str]
) -> None:
    assert sorted(consumed_topics) == services
    for service, topics in consumed_topics.items():
        assert topics and set(topics) <= set(registry), f"{service}: {set(topics) - set(registry)} unknown"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_no_service_is_scaled_beyond_its_partitions(rendered: dict[str, list[Doc]], overlay: str,
                                                    services: list[str], partition_limit: dict[str, int]) -> None:
    docs = rendered[overlay]
    for name in services:
        limit = partition_limit[name]
        hpa = by_kind(docs, "HorizontalPodAutoscaler")[name]["spec"]
        replicas = by_kind(docs, "Deployment")[name]["spec"]["replicas"]
        assert hpa["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": name}
        assert hpa["maxReplicas"] <= limit, f"{overlay}: {name} may scale to {hpa['maxReplicas']} > {limit}"
        assert 1 <= hpa.get("minReplicas", 1) <= replicas <= hpa["maxReplicas"]
        assert replicas <= limit


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_autoscaler_can_scale(rendered: dict[str, list[Doc]], overlay: str) -> None:
    for name, hpa in by_kind(rendered[overlay], "HorizontalPodAutoscaler").items():
        low, high = hpa["spec"].get("minReplicas", 1), hpa["spec"]["maxReplicas"]
        assert low < high, f"{overlay}: {name} has minReplicas {low} and maxReplicas {high}: it can never scale"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_consumers_scale_on_their_lag_with_cpu_as_the_fallback(rendered: dict[str, list[Doc]], overlay: str,
                                                               services: list[str]) -> None:
    autoscalers = by_kind(rendered[overlay], "HorizontalPodAutoscaler")
    for name in services:
        metrics = {m["type"]: m for m in autoscalers[name]["spec"]["metrics"]}
        lag = metrics["External"]["external"]
        assert lag["metric"] == {"name": "ic_consumer_lag", "selector": {"matchLabels": {"service": name}}}
        assert lag["target"]["type"] == "AverageValue" and int(lag["target"]["averageValue"]) > 0
        assert metrics["Resource"]["resource"]["name"] == "cpu", f"{overlay}: {name} lost its CPU fallback"


def test_prod_runs_more_replicas_and_larger_requests_than_dev(rendered: dict[str, list[Doc]],
                                                             services: list[str]) -> None:
    for name in services:
        dev, prod = (by_kind(rendered[o], "Deployment")[name]["spec"] for o in ("dev", "prod"))
        assert dev["replicas"] == 1
        assert prod["replicas"] > dev["replicas"]
        memory = [d["template"]["spec"]["containers"][0]["resources"]["requests"]["memory"] for d in (dev, prod)]
        assert memory[0] != memory[1]
