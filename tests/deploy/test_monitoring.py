"""deploy/k8s/monitoring and deploy/grafana, checked offline: one ServiceMonitor per service on its http port,
alert rules and dashboard queries that parse as PromQL and name only metrics the suite exports, the
alerts the operators need, and the adapter rule that serves the lag the HPAs scale on."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import promql_parser
import pytest
import yaml
from icsuite_chassis import metrics
from prometheus_client.metrics import MetricWrapperBase

from deploy_checks import DEPLOY, K8S, Doc, render

pytestmark = pytest.mark.unit

MONITORING = K8S / "monitoring"
DASHBOARD = DEPLOY / "grafana" / "icsuite.json"
EXTERNAL = {"up", "kube_deployment_status_replicas_available"}  # Prometheus and kube-state-metrics
_SUFFIXES = ("_bucket", "_sum", "_count")
_DURATION = re.compile(r"^\d+[smh]$")


def _exported() -> set[str]:
    names: set[str] = set()
    for value in vars(metrics).values():
        if isinstance(value, MetricWrapperBase):
            for family in value.describe():
                names.add(family.name)
                names.update(family.name + suffix for suffix in (*_SUFFIXES, "_total"))
    return names


def _metric_names(expr: str) -> set[str]:
    promql_parser.parse(expr)  # raises ValueError naming the error
    without_strings = re.sub(r'"[^"]*"', '""', expr)
    words = set(re.findall(r"\b[a-z_][a-z0-9_]*\b(?=\s*[{\[)]|\s*$|\s*[><=!])", without_strings))
    return {w for w in words if w.startswith(("ic_", "kube_")) or w == "up"}


def _docs(name: str) -> list[Doc]:
    return [d for d in yaml.safe_load_all((MONITORING / name).read_text(encoding="utf-8")) if d]


def test_the_kustomization_lists_every_file() -> None:
    kustomization = yaml.safe_load((MONITORING / "kustomization.yaml").read_text(encoding="utf-8"))
    assert sorted(kustomization["resources"]) == sorted(p.name for p in MONITORING.glob("*.yaml")
                                                        if p.name != "kustomization.yaml")


def test_one_service_monitor_per_service_on_its_metrics_port(rendered: dict[str, list[Doc]]) -> None:
    monitors = {d["metadata"]["name"]: d for d in _docs("servicemonitors.yaml")}
    services = {d["metadata"]["name"]: d for d in rendered["prod"] if d["kind"] == "Service"
                and d["metadata"].get("labels", {}).get("app.kubernetes.io/part-of") == "icsuite"
                and d["metadata"]["name"] in monitors or d["kind"] == "Deployment" and False}
    deployments = {d["metadata"]["name"] for d in rendered["prod"] if d["kind"] == "Deployment"
                   and d["metadata"].get("labels", {}).get("app.kubernetes.io/component") == "service"}
    assert set(monitors) == deployments
    for name, monitor in monitors.items():
        assert (monitor["apiVersion"], monitor["kind"]) == ("monitoring.coreos.com/v1", "ServiceMonitor")
        service = services[name]
        selector = monitor["spec"]["selector"]["matchLabels"]
        assert selector.items() <= service["metadata"]["labels"].items(), name
        [endpoint] = monitor["spec"]["endpoints"]
        assert endpoint["path"] == "/metrics" and _DURATION.match(endpoint["interval"])
        assert endpoint["port"] in {p["name"] for p in service["spec"]["ports"]}, name


def test_alert_rules_parse_and_name_only_exported_metrics() -> None:
    [rule_doc] = _docs("prometheusrule.yaml")
    assert (rule_doc["apiVersion"], rule_doc["kind"]) == ("monitoring.coreos.com/v1", "PrometheusRule")
    exported = _exported()
    alerts: dict[str, dict[str, Any]] = {}
    for group in rule_doc["spec"]["groups"]:
        for rule in group["rules"]:
            where = rule["alert"]
            assert set(rule) <= {"alert", "expr", "for", "labels", "annotations"}, where
            assert rule["labels"]["severity"] in {"warning", "critical"} and rule["annotations"]["summary"]
            assert "for" not in rule or _DURATION.match(rule["for"]), where
            unknown = _metric_names(rule["expr"]) - exported - EXTERNAL
            assert not unknown, f"{where}: {unknown} are not exported by the suite"
            alerts[where] = rule
    needed = {"ic_consumer_lag", "ic_events_dead_lettered_total", "ic_outbox_parked_entries",
              "kube_deployment_status_replicas_available"}  # lag, dead letters, parked outbox, readiness
    assert needed <= set().union(*(_metric_names(r["expr"]) for r in alerts.values()))


def test_the_dashboard_queries_parse_and_name_only_exported_metrics() -> None:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    exported = _exported()
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids)) and dashboard["uid"]
    variables = {v["name"] for v in dashboard["templating"]["list"]}
    shown: set[str] = set()
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            expr = target["expr"]
            used = set(re.findall(r"\$\{?(\w+)\}?", expr))
            assert used <= variables, f"{panel['title']}: unknown variables {used - variables}"
            names = _metric_names(re.sub(r"\$\{?\w+\}?", "x", expr))
            assert not names - exported - EXTERNAL, f"{panel['title']}: {names - exported - EXTERNAL}"
            shown |= names
    families = {name for name in exported if name.startswith("ic_") and not name.endswith(_SUFFIXES)}
    missing = {f for f in families if not any(s.startswith(f.removesuffix("_total")) for s in shown)}
    assert not missing, f"the dashboard shows nothing of {missing}"


def test_the_adapter_serves_the_lag_metric_the_autoscalers_use(rendered: dict[str, list[Doc]]) -> None:
    [config_map] = _docs("prometheus-adapter.yaml")
    rules = yaml.safe_load(config_map["data"]["config.yaml"])["externalRules"]
    served = {rule["name"]["as"] for rule in rules}
    for rule in rules:
        promql_parser.parse(rule["metricsQuery"].replace("<<.GroupBy>>", "service")
                            .replace("<<.Series>>", "ic_consumer_lag").replace("<<.LabelMatchers>>", ""))
    for overlay, docs in rendered.items():
        for hpa in (d for d in docs if d["kind"] == "HorizontalPodAutoscaler"):
            for metric in hpa["spec"]["metrics"]:
                if metric["type"] == "External":
                    assert metric["external"]["metric"]["name"] in served, f"{overlay}: {hpa['metadata']['name']}"
