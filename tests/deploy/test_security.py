"""The production overlay's access control, offline: Kafka SCRAM with least-privilege ACLs per service
(Strimzi KafkaUser), MongoDB authentication with one user per service limited to its own database."""

from __future__ import annotations

import importlib
import re
import subprocess
import sys
from typing import Any

import pytest
import yaml

from deploy_checks import DEPLOY, REPO, Doc, settings_class

pytestmark = pytest.mark.unit
OUT_OF_BAND_SECRETS = {"icsuite-jwt", "icsuite-data-keys", "icsuite-mongodb-admin", "icsuite-mongodb-keyfile", "icsuite-mongodb-users"}
"""Secrets deploy/README.md tells the operator to create; every other Secret the prod overlay reads is a
KafkaUser's, created by the Strimzi User Operator."""


def by_kind(docs: list[Doc], kind: str) -> dict[str, Doc]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


def env_of(doc: Doc, container: str | None = None) -> dict[str, Any]:
    pod = doc["spec"]["template"]["spec"]
    (found,) = [c for c in pod["containers"] if container is None or c["name"] == container]
    return {item["name"]: item.get("value", item.get("valueFrom")) for item in found.get("env", [])}


def runtime_of(name: str) -> Any:
    settings = settings_class(name)(environment="test", consumer_group_prefix="")
    return importlib.import_module(f"icsuite_{name}.bootstrap").build_app(settings).state.runtime


def test_the_committed_kafka_users_equal_the_generated_ones() -> None:
    result = subprocess.run([sys.executable, str(DEPLOY / "generate_kafka_users.py"), "--check"],
                            capture_output=True, text=True, cwd=REPO)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("name", ["identity", "interactions", "callbacks", "followups", "alerts"])
def test_each_service_may_read_what_it_consumes_and_write_what_it_produces_only(
        rendered: dict[str, list[Doc]], consumed_topics: dict[str, list[str]], name: str) -> None:
    produced = yaml.safe_load((DEPLOY / "produced-topics.yaml").read_text(encoding="utf-8"))
    runtime = runtime_of(name)
    assert set(runtime.produces) <= set(produced[name]), f"{name} produces more than produced-topics.yaml"
    user = by_kind(rendered["prod"], "KafkaUser")[f"icsuite-{name}"]
    assert user["metadata"]["labels"]["strimzi.io/cluster"] == "ic-kafka"
    assert user["spec"]["authentication"] == {"type": "scram-sha-512"}
    acls = user["spec"]["authorization"]["acls"]
    assert all(acl["type"] == "allow" for acl in acls)
    reads = {a["resource"]["name"] for a in acls if a["resource"]["type"] == "topic" and "Read" in a["operations"]}
    writes = {a["resource"]["name"] for a in acls if a["resource"]["type"] == "topic" and "Write" in a["operations"]}
    assert reads == set(consumed_topics[name])
    assert writes == set(produced[name]) | {f"{t}.dlq" for t in consumed_topics[name]}
    assert all(a["resource"].get("patternType") == "literal" for a in acls if a["resource"]["type"] == "topic")
    operations = {op for a in acls for op in a["operations"]}
    assert operations <= {"Read", "Write", "Describe", "IdempotentWrite"}, "no Create, Delete, Alter or All"
    (group,) = [a["resource"] for a in acls if a["resource"]["type"] == "group"]
    assert group == {"type": "group", "name": f"{name}.", "patternType": "prefix"}
    assert all(c.spec.name.startswith(group["name"]) for c in runtime.consumers), "a consumer group outside the ACL"


def test_the_prod_brokers_authenticate_every_listener_and_authorize_by_acl(rendered: dict[str, list[Doc]]) -> None:
    (kafka,) = by_kind(rendered["prod"], "Kafka").values()
    listeners = kafka["spec"]["kafka"]["listeners"]
    assert listeners and all(l.get("authentication") == {"type": "scram-sha-512"} for l in listeners)
    assert kafka["spec"]["kafka"]["authorization"] == {"type": "simple"}
    assert "userOperator" in kafka["spec"]["entityOperator"], "the User Operator turns KafkaUsers into credentials"
    (dev_kafka,) = by_kind(rendered["dev"], "Kafka").values()
    assert "authorization" not in dev_kafka["spec"]["kafka"], "the dev overlay stays open"


@pytest.mark.parametrize("name", ["identity", "interactions", "callbacks", "followups", "alerts"])
def test_each_service_connects_with_its_own_credentials(rendered: dict[str, list[Doc]], name: str,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    env = env_of(by_kind(rendered["prod"], "Deployment")[name])
    assert env["KAFKA_SECURITY_PROTOCOL"] == "SASL_PLAINTEXT" and env["KAFKA_SASL_MECHANISM"] == "SCRAM-SHA-512"
    assert env["KAFKA_SASL_USERNAME"] == f"icsuite-{name}"
    assert env["KAFKA_SASL_PASSWORD"] == {"secretKeyRef": {"name": f"icsuite-{name}", "key": "password"}}
    assert env["MONGODB_PASSWORD"] == {"secretKeyRef": {"name": "icsuite-mongodb-users", "key": name}}
    names = list(env)
    assert names.index("MONGODB_PASSWORD") < names.index("MONGODB_URI"), "$(MONGODB_PASSWORD) must be defined first"
    uri = env["MONGODB_URI"]
    match = re.fullmatch(r"mongodb://(?P<user>[^:]+):\$\(MONGODB_PASSWORD\)@(?P<hosts>[^/]+)/(?P<db>[^?]+)\?(?P<q>.*)", uri)
    assert match, uri
    assert match["user"] == f"icsuite-{name}" and match["db"] == f"ic_{name}"
    assert f"authSource=ic_{name}" in match["q"] and "replicaSet=rs0" in match["q"]
    settings = settings_class(name)(environment="test", mongodb_uri=uri, kafka_security_protocol="SASL_PLAINTEXT",
                                    kafka_sasl_username=f"icsuite-{name}", kafka_sasl_password="p")
    assert settings.mongodb_database == f"ic_{name}"


def test_mongodb_requires_authentication_and_each_user_gets_its_own_database_only(
        rendered: dict[str, list[Doc]], services: list[str]) -> None:
    docs = rendered["prod"]
    statefulset = by_kind(docs, "StatefulSet")["mongodb"]
    (mongod,) = [c for c in statefulset["spec"]["template"]["spec"]["containers"] if c["name"] == "mongod"]
    assert "--auth" in mongod["args"] and mongod["args"][mongod["args"].index("--keyFile") + 1] == "/keyfile/keyfile"
    assert set(env_of(statefulset, "mongod")) >= {"MONGO_INITDB_ROOT_USERNAME", "MONGO_INITDB_ROOT_PASSWORD"}
    job = by_kind(docs, "Job")["mongodb-init"]
    env = env_of(job, "rs-initiate")
    assert env["MONGO_SERVICES"].split(",") == ["identity", "interactions", "callbacks", "followups", "alerts"]
    assert sorted(env["MONGO_SERVICES"].split(",")) == services
    for name in services:
        assert env[f"MONGO_PASSWORD_{name.upper()}"] == {"secretKeyRef": {"name": "icsuite-mongodb-users", "key": name}}
    (container,) = job["spec"]["template"]["spec"]["containers"]
    script = container["command"][-1]
    assert ('const roles = [{role: "readWrite", db: `ic_${service}`}, {role: "readWrite", db: "ic_key_vault"}];'
            in script), "readWrite on its own database and the key vault (crypto-shredding) only"
    assert "createUser" in script and "updateUser" in script, "the job creates or updates (idempotent)"
    dev_mongod = by_kind(rendered["dev"], "StatefulSet")["mongodb"]["spec"]["template"]["spec"]["containers"][0]
    assert "--auth" not in dev_mongod["args"]


def test_every_secret_the_prod_overlay_reads_is_documented_or_made_by_strimzi(rendered: dict[str, list[Doc]]) -> None:
    docs = rendered["prod"]
    users = set(by_kind(docs, "KafkaUser"))
    referenced: set[str] = set()
    for doc in docs:
        text = yaml.safe_dump(doc)
        referenced |= set(re.findall(r"secretName: (\S+)", text))
        referenced |= {m for m in re.findall(r"secretKeyRef:\n\s+key: \S+\n\s+name: (\S+)", text)}
    assert referenced, "no Secret references found"
    assert referenced <= OUT_OF_BAND_SECRETS | users, referenced - OUT_OF_BAND_SECRETS - users
    readme = (DEPLOY / "README.md").read_text(encoding="utf-8")
    for secret in OUT_OF_BAND_SECRETS:
        assert secret in readme, f"deploy/README.md does not say how to create {secret}"
