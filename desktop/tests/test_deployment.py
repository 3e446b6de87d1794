"""The desktop in the image, docker-compose.yml and both Kubernetes overlays: its settings load from what each
deployment gives it, the way the process reads them (the suite's own deploy checks cover the services)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "deploy"))

from deploy_checks import K8S, load_with_environment, render  # noqa: E402

from icsuite_desktop.settings import DesktopSettings  # noqa: E402

pytestmark = pytest.mark.unit
GATEWAYS = {"identity": 8001, "interactions": 8002, "callbacks": 8003, "followups": 8004, "alerts": 8005}
PLACEHOLDER_SECRET = "a-production-secret-of-more-than-32-characters"


OPERATOR_SET = {"IC_JWT_SECRET": "an-operator-set-secret-of-enough-length-0123456789"}


def _interpolate(value: object) -> str:
    """Compose's ``${NAME:-default}`` with the default, ``${NAME:?error}`` with what the operator sets."""
    def substitute(match: re.Match[str]) -> str:
        name, separator, rest = match.group(1), match.group(2), match.group(3)
        return OPERATOR_SET[name] if separator == ":?" else rest
    return re.sub(r"\$\{([A-Z_]+)(:-|:\?)([^}]*)\}", substitute, str(value))


def test_the_image_has_a_desktop_target_with_its_assets() -> None:
    dockerfile = (REPO / "Dockerfile").read_text(encoding="utf-8")
    assert "FROM runtime AS desktop" in dockerfile and "--package icsuite-desktop" in dockerfile
    assert 'CMD ["python", "-m", "icsuite_desktop.main"]' in dockerfile and "EXPOSE 8000" in dockerfile
    assert "npm ci" in dockerfile and "COPY --from=desktop-assets /assets/vendor" in dockerfile


def test_compose_runs_the_desktop_in_front_of_the_five_gateways(monkeypatch: pytest.MonkeyPatch) -> None:
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text(encoding="utf-8"))
    desktop = compose["services"]["desktop"]
    assert desktop["build"]["target"] == "desktop" and desktop["ports"] == ["127.0.0.1:8000:8000"]
    assert set(desktop["depends_on"]) == set(GATEWAYS)
    assert "8000/healthz" in " ".join(desktop["healthcheck"]["test"]) and desktop["read_only"] is True
    env = {k: _interpolate(v) for k, v in desktop["environment"].items()}
    settings = load_with_environment(DesktopSettings, env, monkeypatch)
    assert settings.host == "0.0.0.0" and settings.port == 8000 and settings.sign_in == "development"
    for name, port in GATEWAYS.items():
        assert settings.gateway_url(name) == f"http://{name}:{port}"
        assert name in compose["services"]


def _container_env(docs: list[dict], deployment: dict) -> dict[str, str]:
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    maps = {d["metadata"]["name"]: d for d in docs if d["kind"] == "ConfigMap"}
    env: dict[str, str] = {}
    for source in container["envFrom"]:
        env.update({k: str(v) for k, v in maps[source["configMapRef"]["name"]]["data"].items()})
    for item in container.get("env", []):
        env[item["name"]] = item.get("value", PLACEHOLDER_SECRET)
    return env


@pytest.mark.parametrize(("overlay", "sign_in"), [("dev", "development"), ("prod", "oidc")])
def test_each_overlay_runs_the_desktop_with_probes_and_its_settings(overlay: str, sign_in: str,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    docs = render(K8S / "overlays" / overlay)
    kinds = {(d["kind"], d["metadata"]["name"]) for d in docs}
    for kind in ("Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget", "NetworkPolicy"):
        assert (kind, "desktop") in kinds
    deployment = next(d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"] == "desktop")
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    assert container["command"] == ["python", "-m", "icsuite_desktop.main"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["image"].startswith("icsuite/desktop:")
    settings = load_with_environment(DesktopSettings, _container_env(docs, deployment), monkeypatch)
    assert settings.sign_in == sign_in and settings.port == container["ports"][0]["containerPort"] == 8000
    assert settings.gateway_url("alerts") == "http://alerts:8005"
    policy = next(d for d in docs if d["kind"] == "NetworkPolicy" and d["metadata"]["name"] == "desktop")
    egress_ports = {p["port"] for rule in policy["spec"]["egress"] for p in rule["ports"]}
    assert 8001 in egress_ports and 443 in egress_ports and 27017 not in egress_ports
