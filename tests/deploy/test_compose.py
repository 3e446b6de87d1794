"""docker-compose.yml: valid per the compose spec, the registry's topics, every setting each service needs."""

from __future__ import annotations

import json
import re
from typing import Any

import jsonschema
import pytest
from icsuite_devstack import topics as devstack_topics

from icsuite_chassis.settings import DEVELOPMENT_DATA_KEY_MASTER, DEVELOPMENT_JWT_SECRET

from deploy_checks import REPO, load_with_environment, known_names, required_settings, settings_class

pytestmark = pytest.mark.unit

SHARED = {"KAFKA_BOOTSTRAP_SERVERS", "MONGODB_URI", "IC_JWT_SECRET", "IC_JWT_JWKS_URL", "IC_JWT_AUDIENCE",
          "IC_ENV", "IC_CRYPTO_SHREDDING", "IC_KEY_VAULT_DATABASE", "IC_DATA_KEY_MASTER"}


OPERATOR_SET = {"IC_JWT_SECRET": "an-operator-set-secret-of-enough-length-0123456789",
                "IC_DATA_KEY_MASTER": "an-operator-set-master-of-enough-length-0123456789"}
"""What the operator must set before ``docker compose up`` (``${NAME:?...}``); everything else has a default."""


def interpolate(value: Any) -> str:
    """Compose's ``${NAME:-default}`` / ``${NAME-default}`` / ``${NAME:?error}`` / ``${NAME}`` with only
    what the operator must set (:data:`OPERATOR_SET`) in the shell."""
    def substitute(match: re.Match[str]) -> str:
        body = match.group(1)
        for separator in (":?", "?", ":-", "-"):
            if separator in body:
                name, default = body.split(separator, 1)
                if separator.endswith("?"):
                    if name not in OPERATOR_SET:
                        pytest.fail(f"${{{name}}} must be set to run docker compose, but is not an operator setting")
                    return OPERATOR_SET[name]
                return default
        return ""

    return re.sub(r"\$\{([^}]+)\}", substitute, str(value))


def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {name: interpolate(value) for name, value in env.items()}


def test_validates_against_the_compose_spec(compose: dict[str, Any], schemas) -> None:
    schema = json.loads((schemas / "compose-spec.json").read_text(encoding="utf-8"))
    jsonschema.Draft7Validator(schema).validate(compose)


def test_kafka_runs_kraft_and_mongodb_a_replica_set(compose: dict[str, Any]) -> None:
    kafka, mongo = compose["services"]["kafka"], compose["services"]["mongo"]
    assert kafka["image"].startswith("apache/kafka:")
    assert set(environment(kafka)["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    assert environment(kafka)["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false", "topics come from the topics job"
    assert "healthcheck" in kafka
    assert mongo["image"] == "mongo:7"
    assert "--replSet" in mongo["command"]
    replica_set = mongo["command"][mongo["command"].index("--replSet") + 1]
    assert "rs.initiate" in " ".join(mongo["healthcheck"]["test"]), "the health check initiates the set"
    assert f"_id: '{replica_set}'" in " ".join(mongo["healthcheck"]["test"])


class FakeAdmin:
    """Stands in for aiokafka's admin client: an empty broker that records the topics created."""

    created: dict[str, int] = {}

    def __init__(self, **kwargs: Any) -> None:
        self.bootstrap = kwargs["bootstrap_servers"]

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def list_topics(self) -> list[str]:
        return list(FakeAdmin.created)

    async def create_topics(self, new_topics: list[Any], timeout_ms: int) -> Any:
        for topic in new_topics:
            FakeAdmin.created[topic.name] = topic.num_partitions

        class Response:
            topic_errors = [(topic.name, 0, None) for topic in new_topics]

        return Response()

    async def describe_topics(self, names: list[str]) -> list[dict[str, Any]]:
        return [{"topic": name, "error_code": 0,
                 "partitions": [{"partition": p, "leader": 1} for p in range(FakeAdmin.created[name])]}
                for name in names]


def test_the_topics_job_creates_exactly_the_registry_topics(
    compose: dict[str, Any], registry: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    job = compose["services"]["topics"]
    assert job["build"]["target"] == "topics"
    assert job["depends_on"]["kafka"]["condition"] == "service_healthy"
    assert job.get("restart", "no") == "no"
    command = job["command"]
    assert command[:2] == ["python", "-c"], "the job runs a python -c program"
    env = environment(job)
    assert env["KAFKA_BOOTSTRAP_SERVERS"] == environment(compose["services"]["identity"])["KAFKA_BOOTSTRAP_SERVERS"]
    # Run the job's program against a fake broker: what it creates is what the real job would create.
    FakeAdmin.created = {}
    monkeypatch.setattr(devstack_topics, "AIOKafkaAdminClient", FakeAdmin)
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", env["KAFKA_BOOTSTRAP_SERVERS"])
    exec(compile(command[2], "<topics job>", "exec"), {})
    assert FakeAdmin.created == registry


def test_every_service_is_built_from_its_target_with_health_check_restart_and_dependencies(
    compose: dict[str, Any], services: list[str]
) -> None:
    assert set(services) <= set(compose["services"])
    for name in services:
        service = compose["services"][name]
        port = settings_class(name).model_fields["port"].default
        assert service["build"]["target"] == name
        assert service["restart"] in ("unless-stopped", "always", "on-failure")
        assert service["ports"] == [f"127.0.0.1:{port}:{port}"], f"{name} publishes its port {port} on loopback"
        test = " ".join(service["healthcheck"]["test"])
        assert f"{port}/healthz" in test, f"{name}'s health check asks /healthz on its port"
        assert service["depends_on"] == {
            "kafka": {"condition": "service_healthy"},
            "mongo": {"condition": "service_healthy"},
            "topics": {"condition": "service_completed_successfully"},
        }
        assert service.get("read_only") is True


@pytest.mark.parametrize("name", sorted(p.name for p in (REPO / "services").iterdir()
                                        if (p / "pyproject.toml").is_file()))
def test_every_setting_a_service_requires_is_provided(
    compose: dict[str, Any], name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    cls = settings_class(name)
    env = environment(compose["services"][name])
    for field, names in required_settings(cls).items():
        assert any(n in env for n in names), f"compose gives {name} none of {names} ({field})"
    prefix = cls.model_config["env_prefix"]
    stray = {n for n in env if n.startswith(prefix) and n not in known_names(cls)}
    assert not stray, f"{name} has no settings called {sorted(stray)}"
    assert {n for n in env if not n.startswith(prefix)} <= SHARED
    settings = load_with_environment(cls, env, monkeypatch)
    assert settings.host == "0.0.0.0", "inside a container the service must listen on every interface"
    assert settings.port == cls.model_fields["port"].default
    assert settings.kafka_bootstrap_servers.split(":")[0] == "kafka"
    assert settings.mongodb_uri.startswith("mongodb://mongo:27017/") and "replicaSet=rs0" in settings.mongodb_uri
    assert settings.mongodb_database == f"ic_{name}"
    assert settings.crypto_shredding and settings.key_vault_database == "ic_key_vault"
    assert settings.data_key_master == OPERATOR_SET["IC_DATA_KEY_MASTER"]


def test_every_published_port_is_bound_to_loopback(compose: dict[str, Any]) -> None:
    published = {name: service.get("ports", []) for name, service in compose["services"].items()}
    assert any(published.values())
    for name, ports in published.items():
        for port in ports:
            assert isinstance(port, str) and port.startswith("127.0.0.1:"), f"{name} publishes {port} beyond loopback"


def test_no_service_starts_without_an_operator_set_secret(compose: dict[str, Any]) -> None:
    text = (REPO / "docker-compose.yml").read_text(encoding="utf-8")
    assert DEVELOPMENT_JWT_SECRET not in text, "the public development secret must not be a compose default"
    assert DEVELOPMENT_DATA_KEY_MASTER not in text, "the public development master key must not be a compose default"
    for name, service in compose["services"].items():
        raw = service.get("environment", {}).get("IC_JWT_SECRET")
        if raw is not None or name in ("identity", "interactions", "callbacks", "followups", "alerts", "desktop"):
            assert raw is not None and raw.startswith("${IC_JWT_SECRET:?"), f"{name} must require IC_JWT_SECRET"
        if name in ("identity", "interactions", "callbacks", "followups", "alerts"):
            master = service["environment"].get("IC_DATA_KEY_MASTER")
            assert master is not None and master.startswith("${IC_DATA_KEY_MASTER:?"), f"{name} must require it"


def test_make_up_stays_zero_configuration() -> None:
    """``make up`` runs the local devstack, so it needs neither docker compose nor a secret."""
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    recipe = makefile.split("\nup:", 1)[1].split("\n\n", 1)[0]
    assert "icsuite_devstack" in recipe and "compose" not in recipe and "IC_JWT_SECRET" not in recipe
