"""The Dockerfile (read, not built: no Docker engine is needed) and the services' real subscriptions."""

from __future__ import annotations

import importlib
import re
import tomllib
from typing import Any

import pytest
import yaml

from deploy_checks import DEPLOY, REPO, settings_class

pytestmark = pytest.mark.unit


def stages() -> dict[str, list[tuple[str, str]]]:
    """stage name -> its instructions (keyword, arguments), continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", (REPO / "Dockerfile").read_text(encoding="utf-8"))
    result: dict[str, list[tuple[str, str]]] = {}
    current: list[tuple[str, str]] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        keyword, _, arguments = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            match = re.fullmatch(r"(\S+)(?:\s+AS\s+(\S+))?", arguments.strip(), re.IGNORECASE)
            assert match, line
            current = []
            result[match[2] or match[1]] = current
        current.append((keyword, " ".join(arguments.split())))
    return result


def instructions(stage: str, keyword: str) -> list[str]:
    return [arguments for kw, arguments in stages()[stage] if kw == keyword]


def test_every_workspace_member_is_in_the_build() -> None:
    root = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    members = sorted(str(p.relative_to(REPO)) for pattern in root["tool"]["uv"]["workspace"]["members"]
                     for p in REPO.glob(pattern) if (p / "pyproject.toml").is_file())
    copies = " ".join(instructions("builder", "COPY"))
    for member in members:
        assert f"{member}/pyproject.toml {member}/" in copies, f"the builder lacks {member}/pyproject.toml"
        assert f"{member}/src {member}/src" in copies, f"the builder lacks {member}/src"
    assert "pyproject.toml uv.lock ./" in copies
    assert instructions("builder", "FROM")[0].startswith("${PYTHON_IMAGE}")
    assert re.search(r"ARG PYTHON_IMAGE=python:3\.11-slim", (REPO / "Dockerfile").read_text())
    assert any("pip install" in run and "uv==" in run for run in instructions("builder", "RUN"))


def test_every_service_has_a_target_with_its_entry_point_port_and_health_check(services: list[str]) -> None:
    all_stages = stages()
    user = instructions("runtime", "USER")
    assert user and user[-1].split(":")[0] not in ("0", "root"), "the runtime runs as a non-root user"
    for name in services:
        port = settings_class(name).model_fields["port"].default
        prefix = f"IC_{name.upper()}_"
        assert name in all_stages, f"no --target {name}"
        sync = " ".join(instructions(f"build-{name}", "RUN"))
        assert "uv sync --frozen --no-dev" in sync and f"--package icsuite-{name}" in sync
        assert instructions(name, "FROM") == ["runtime AS " + name]
        assert f"--from=build-{name} /app/.venv /app/.venv" in instructions(name, "COPY")
        assert instructions(name, "EXPOSE") == [str(port)]
        env = " ".join(instructions(name, "ENV"))
        assert f"{prefix}HOST=0.0.0.0" in env and f"{prefix}PORT={port}" in env
        (health,) = instructions(name, "HEALTHCHECK")
        assert "/healthz" in health and f"{prefix}PORT" in health
        assert instructions(name, "CMD") == [f'["python", "-m", "icsuite_{name}.main"]']
        assert importlib.util.find_spec(f"icsuite_{name}.main") is not None


def test_the_topics_target_runs_what_compose_runs(compose: dict[str, Any]) -> None:
    (cmd,) = instructions("topics", "CMD")
    import json

    assert json.loads(cmd) == compose["services"]["topics"]["command"]


def test_the_build_context_leaves_out_local_state() -> None:
    ignored = set((REPO / ".dockerignore").read_text(encoding="utf-8").split())
    assert {".git", ".venv", ".stack", "**/__pycache__"} <= ignored


def runtime_of(name: str) -> Any:
    settings = settings_class(name)(environment="test", consumer_group_prefix="deploy-check.")
    bootstrap = importlib.import_module(f"icsuite_{name}.bootstrap")
    try:
        app = bootstrap.build_app(settings)
    except Exception as exc:  # noqa: BLE001 - a service under construction must not break this check
        pytest.skip(f"icsuite_{name}.bootstrap.build_app cannot run offline yet: {exc!r}")
    return app.state.runtime


@pytest.mark.parametrize("name", sorted(p.name for p in (REPO / "services").iterdir()
                                        if (p / "pyproject.toml").is_file()))
def test_consumed_topics_cover_what_the_service_subscribes_to(name: str) -> None:
    """deploy/consumed-topics.yaml drives the replica limits, so it must name every topic the service's
    consumer groups really read (the app is built, not started: no broker is contacted)."""
    declared = set(yaml.safe_load((DEPLOY / "consumed-topics.yaml").read_text(encoding="utf-8"))[name])
    runtime = runtime_of(name)
    subscribed = {t for consumer in runtime.consumers for t in consumer.spec.topics}
    subscribed |= set(runtime.consumes)
    subscribed = {t for t in subscribed if not t.endswith(".dlq")}
    assert subscribed <= declared, f"{name} reads {sorted(subscribed - declared)}, not in consumed-topics.yaml"


def test_the_operations_readme_explains_every_metric() -> None:
    metrics = (REPO / "chassis" / "src" / "icsuite_chassis" / "metrics.py").read_text(encoding="utf-8")
    names = re.findall(r"(?:Counter|Gauge|Histogram|Summary)\(\s*\"(ic_[a-z_]+)\"", metrics)
    assert names, "no metrics found in icsuite_chassis.metrics"
    readme = (DEPLOY / "README.md").read_text(encoding="utf-8")
    missing = [name for name in names if f"| `{name}` |" not in readme]
    assert not missing, f"deploy/README.md does not explain {missing}"
