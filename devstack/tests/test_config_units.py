"""Settings, POM, cache and env handling, without starting anything."""

from __future__ import annotations

import base64
import sys
from pathlib import Path

import pytest
from icsuite_devstack import config
from icsuite_devstack.kafka import new_cluster_id, server_properties
from icsuite_devstack.provision import (
    kafka_distribution,
    mongo_distribution,
    render_pom,
)
from icsuite_devstack.stack import Stack, StackError, stack_from_env
from icsuite_devstack.state import Component, read_state
from icsuite_devstack.topics import default_topic_specs

pytestmark = pytest.mark.unit


def test_server_properties_single_node_on_loopback_without_auto_creation(tmp_path: Path) -> None:
    lines = server_properties(19092, 19093, tmp_path / "data").splitlines()
    settings = dict(line.split("=", 1) for line in lines)

    assert settings["process.roles"] == "broker,controller"
    assert settings["listeners"] == "PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093"
    assert settings["advertised.listeners"] == "PLAINTEXT://127.0.0.1:19092"
    assert settings["controller.quorum.bootstrap.servers"] == "127.0.0.1:19093"
    assert settings["auto.create.topics.enable"] == "false"
    assert settings["log.dirs"] == str(tmp_path / "data")
    for key in (
        "offsets.topic.replication.factor", "transaction.state.log.replication.factor",
        "transaction.state.log.min.isr", "share.coordinator.state.topic.replication.factor",
        "share.coordinator.state.topic.min.isr",
    ):  # fmt: skip
        assert settings[key] == "1"


def test_cluster_id_is_base64url_of_16_bytes_without_padding() -> None:
    cluster_id = new_cluster_id()
    assert len(cluster_id) == 22 and "=" not in cluster_id
    assert len(base64.urlsafe_b64decode(cluster_id + "==")) == 16
    assert not any(new_cluster_id().startswith("-") for _ in range(500))  # not an option


def test_pom_lists_the_broker_and_its_slf4j_binding() -> None:
    pom = render_pom(kafka_distribution("4.4.0"))
    assert "<artifactId>kafka_2.13</artifactId><version>4.4.0</version>" in pom
    assert "<artifactId>log4j-slf4j-impl</artifactId>" in pom
    assert "<artifactId>slf4j-api</artifactId><version>1.7.36</version>" in pom
    assert "mongo-java-server-h2-backend" in render_pom(mongo_distribution("1.47.0"))


def test_cache_is_keyed_by_version_and_can_be_moved(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IC_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("IC_KAFKA_VERSION", "4.1.1")

    distribution = kafka_distribution()

    assert distribution.libs == tmp_path / "kafka-4.1.1" / "libs"
    assert distribution.classpath == str(tmp_path / "kafka-4.1.1" / "libs" / "*")
    assert not distribution.is_installed()


def test_default_cache_is_outside_the_work_tree(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("IC_CACHE_DIR", raising=False)
    assert config.cache_dir() == Path.home() / ".cache" / "icsuite"


def test_stack_from_env_needs_both_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "kafka-1:9092")
    monkeypatch.delenv("MONGODB_URI", raising=False)
    assert stack_from_env() is None

    monkeypatch.setenv("MONGODB_URI", "mongodb://db-1:27017/?replicaSet=rs0")
    stack = stack_from_env()

    assert stack is not None and stack.origin == "env"
    assert stack.env() == {
        "KAFKA_BOOTSTRAP_SERVERS": "kafka-1:9092", "MONGODB_URI": "mongodb://db-1:27017/?replicaSet=rs0",
    }  # fmt: skip
    stack.stop()  # starts and stops nothing


def test_a_wrapped_stack_cannot_restart_kafka() -> None:
    stack = Stack("kafka-1:9092", "mongodb://db-1:27017", origin="env")
    with pytest.raises(StackError, match="not run by this process"):
        stack.restart_kafka()


def test_topic_specs_are_empty_before_the_registry_exists(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "icsuite_contracts.registry", None)
    assert default_topic_specs() == []


def test_no_state_and_a_dead_pid_are_not_running(tmp_path: Path) -> None:
    assert read_state(tmp_path) is None
    assert not Component("kafka", pid=2**22 + 1, port=1, marker="kafka.Kafka").is_ours()


def test_repo_root_is_the_workspace_root() -> None:
    root = config.repo_root()
    assert (root / "devstack" / "pyproject.toml").is_file()
    assert config.stack_dir(root) == root / ".stack"


def test_service_logs_are_text_on_a_terminal_and_json_otherwise(monkeypatch: pytest.MonkeyPatch) -> None:
    from icsuite_devstack.suite import service_env

    stack = Stack("127.0.0.1:1", "mongodb://127.0.0.1:2", origin="env")
    monkeypatch.delenv("IC_IDENTITY_LOG_JSON", raising=False)
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    assert service_env(stack, "identity", 8001)["IC_IDENTITY_LOG_JSON"] == "false"
    monkeypatch.setattr(sys.stdout, "isatty", lambda: False)
    assert service_env(stack, "identity", 8001)["IC_IDENTITY_LOG_JSON"] == "true"
    monkeypatch.setenv("IC_IDENTITY_LOG_JSON", "false")  # the operator's choice wins
    assert service_env(stack, "identity", 8001)["IC_IDENTITY_LOG_JSON"] == "false"


def test_make_up_runs_the_services_with_crypto_shredding_unless_the_operator_says_otherwise(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from icsuite_devstack.suite import service_env

    stack = Stack("127.0.0.1:1", "mongodb://127.0.0.1:2", origin="env")
    monkeypatch.delenv("IC_CRYPTO_SHREDDING", raising=False)
    assert service_env(stack, "alerts", 8005)["IC_CRYPTO_SHREDDING"] == "true"
    monkeypatch.setenv("IC_CRYPTO_SHREDDING", "false")
    assert service_env(stack, "alerts", 8005)["IC_CRYPTO_SHREDDING"] == "false"
