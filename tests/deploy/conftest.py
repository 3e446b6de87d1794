"""Fixtures for the offline deployment checks (helpers in deploy_checks.py, importable from the tests)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml
from icsuite_contracts.registry import all_topic_specs

sys.path.insert(0, str(Path(__file__).resolve().parent))

from deploy_checks import DEPLOY, K8S, OVERLAYS, REPO, SCHEMAS, Doc, render, service_names  # noqa: E402



@pytest.fixture(scope="session")
def schemas() -> Path:
    if not SCHEMAS.is_dir():
        pytest.skip(f"the shared schemas folder {SCHEMAS} is absent (it sits beside the repository)")
    return SCHEMAS


@pytest.fixture(scope="session")
def services() -> list[str]:
    return service_names()


@pytest.fixture(scope="session")
def registry() -> dict[str, int]:
    return dict(all_topic_specs())


@pytest.fixture(scope="session")
def consumed_topics() -> dict[str, list[str]]:
    return yaml.safe_load((DEPLOY / "consumed-topics.yaml").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def partition_limit(consumed_topics: dict[str, list[str]], registry: dict[str, int]) -> dict[str, int]:
    """service -> the smallest partition count among the topics it consumes."""
    return {service: min(registry[t] for t in topics) for service, topics in consumed_topics.items()}


@pytest.fixture(scope="session")
def compose() -> Doc:
    return yaml.safe_load((REPO / "docker-compose.yml").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def rendered() -> dict[str, list[Doc]]:
    return {overlay: render(K8S / "overlays" / overlay) for overlay in OVERLAYS}
