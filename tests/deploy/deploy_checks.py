"""Helpers of the offline deployment checks: the repository's paths, a small kustomize renderer, the
services' settings classes.

The renderer implements the part of kustomize the overlays use (``resources``, ``namespace``, ``patches``
with an optional ``target``, ``images``) and refuses anything else, so an overlay cannot silently outgrow
it; where ``kubectl`` or ``kustomize`` is installed, test_kubernetes compares it with the real thing.
"""

from __future__ import annotations

import copy
import importlib
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from icsuite_chassis.settings import ServiceSettings
from icsuite_contracts.registry import all_topic_specs
from pydantic import AliasChoices

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
K8S = DEPLOY / "k8s"
OVERLAYS = ("dev", "prod")
KEDA_OVERLAYS = ("dev-keda", "prod-keda")
"""The overlays that scale with KEDA ScaledObjects instead of the base's HorizontalPodAutoscalers."""
SCHEMAS = Path(os.environ.get("IC_SHARED_SCHEMAS") or REPO.parent / "shared" / "schemas")
"""../shared/schemas beside the repository; IC_SHARED_SCHEMAS points elsewhere (a git worktree)."""

Doc = dict[str, Any]

# --------------------------------------------------------------------------------------------------------
# kustomize, the part the overlays use


class RenderError(Exception):
    """The kustomization uses something this renderer does not implement, or a patch matches nothing."""


KUSTOMIZATION_FIELDS = {"apiVersion", "kind", "resources", "namespace", "patches", "images"}
CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition",
                  "PersistentVolume", "StorageClass", "PriorityClass"}


def load_documents(path: Path) -> list[Doc]:
    return [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]


def render(directory: Path) -> list[Doc]:
    """The resources ``kubectl kustomize <directory>`` would print (in file order, not kustomize's)."""
    spec = yaml.safe_load((directory / "kustomization.yaml").read_text(encoding="utf-8")) or {}
    unknown = set(spec) - KUSTOMIZATION_FIELDS
    if unknown:
        raise RenderError(f"{directory}: kustomization fields the test renderer lacks: {sorted(unknown)}")
    docs: list[Doc] = []
    for entry in spec.get("resources", []):
        target = directory / entry
        docs.extend(render(target) if target.is_dir() else load_documents(target))
    for patch in spec.get("patches", []):
        if set(patch) - {"path", "target"}:
            raise RenderError(f"{directory}: patch fields the test renderer lacks: {sorted(set(patch))}")
        for fragment in load_documents(directory / patch["path"]):
            matches = [d for d in docs if _selected(d, fragment, patch.get("target"))]
            if not matches:
                raise RenderError(f"{directory}: patch {patch['path']} ({fragment['kind']}) matches nothing")
            if fragment.get("$patch") == "delete":
                docs = [d for d in docs if not any(d is m for m in matches)]
                continue
            for doc in matches:
                body = {k: v for k, v in fragment.items() if k not in ("apiVersion", "kind", "metadata")}
                doc.update(_merge(doc, body, _builtin(doc)))
    for image in spec.get("images", []):
        for doc in docs:
            for container in _containers(doc):
                _retag(container, image)
    if "namespace" in spec:
        for doc in docs:
            if doc["kind"] not in CLUSTER_SCOPED:
                doc.setdefault("metadata", {})["namespace"] = spec["namespace"]
    return docs


def _selected(doc: Doc, fragment: Doc, target: dict[str, Any] | None) -> bool:
    if target is None:
        return (doc["kind"] == fragment["kind"] and _group(doc) == _group(fragment)
                and doc["metadata"]["name"] == fragment["metadata"]["name"])
    if set(target) - {"kind", "name", "labelSelector"}:
        raise RenderError(f"patch target fields the test renderer lacks: {sorted(target)}")
    if "kind" in target and doc["kind"] != target["kind"]:
        return False
    if "name" in target and doc["metadata"]["name"] != target["name"]:
        return False
    labels = doc["metadata"].get("labels", {})
    for term in filter(None, target.get("labelSelector", "").split(",")):
        key, _, value = term.partition("=")
        if labels.get(key.strip()) != value.strip():
            return False
    return True


def _group(doc: Doc) -> str:
    api_version = doc["apiVersion"]
    return api_version.split("/")[0] if "/" in api_version else ""


def _builtin(doc: Doc) -> bool:
    group = _group(doc)
    return group == "" or "." not in group or group.endswith(".k8s.io")


def _merge(base: Any, patch: Any, strategic: bool) -> Any:
    """Strategic merge for built-in kinds (lists of named items merge by name), JSON merge otherwise."""
    if isinstance(base, dict) and isinstance(patch, dict):
        merged = dict(base)
        for key, value in patch.items():
            if value is None:
                merged.pop(key, None)
            else:
                merged[key] = _merge(base[key], value, strategic) if key in base else copy.deepcopy(value)
        return merged
    if (strategic and isinstance(base, list) and isinstance(patch, list)
            and all(isinstance(item, dict) and "name" in item for item in base + patch)):
        merged_list = [dict(item) for item in base]
        index = {item["name"]: position for position, item in enumerate(merged_list)}
        added = []
        for item in patch:
            if item["name"] in index:
                merged_list[index[item["name"]]] = _merge(merged_list[index[item["name"]]], item, strategic)
            else:
                added.append(copy.deepcopy(item))
        return added + merged_list  # as kustomize: items new to the list come first, in the patch's order
    return copy.deepcopy(patch)


def _containers(doc: Doc) -> Iterator[Doc]:
    spec = doc.get("spec", {})
    pod = spec.get("template", {}).get("spec", {}) if doc["kind"] != "Pod" else spec
    yield from pod.get("containers", [])
    yield from pod.get("initContainers", [])


def _retag(container: Doc, image: dict[str, str]) -> None:
    match = re.fullmatch(r"(?P<name>[^:@]+(?::\d+/[^:@]+)?)(?P<rest>[:@].*)?", container.get("image", ""))
    if not match or match["name"] != image["name"]:
        return
    name = image.get("newName", match["name"])
    rest = f":{image['newTag']}" if "newTag" in image else (match["rest"] or "")
    container["image"] = name + rest


# --------------------------------------------------------------------------------------------------------
# the services and their settings


def service_names() -> list[str]:
    return sorted(p.name for p in (REPO / "services").iterdir() if (p / "pyproject.toml").is_file())


def settings_class(service: str) -> type[ServiceSettings]:
    """The service's settings class, read from its module now (services gain settings over time)."""
    module = importlib.import_module(f"icsuite_{service}.settings")
    classes = [value for value in vars(module).values()
               if isinstance(value, type) and issubclass(value, ServiceSettings)
               and value is not ServiceSettings and value.__module__ == module.__name__]
    assert len(classes) == 1, f"icsuite_{service}.settings should define one ServiceSettings subclass"
    return classes[0]


def env_names(cls: type[ServiceSettings], field: str) -> list[str]:
    """The environment variables that set ``field`` (a shared name such as IC_ENV, else prefix + name)."""
    info = cls.model_fields[field]
    alias = info.validation_alias
    if isinstance(alias, AliasChoices):
        shared = [c for c in alias.choices if isinstance(c, str) and c != field]
        if shared:
            return [name.upper() for name in shared]
    elif isinstance(alias, str):
        return [alias.upper()]
    return [f"{cls.model_config.get('env_prefix', '')}{field}".upper()]


ALWAYS_REQUIRED = ("kafka_bootstrap_servers", "mongodb_uri", "jwt_secret", "host", "port")


def required_settings(cls: type[ServiceSettings]) -> dict[str, list[str]]:
    """field -> its environment names, for every field a deployment must set."""
    fields = [name for name, info in cls.model_fields.items() if info.is_required()]
    fields += [name for name in ALWAYS_REQUIRED if name not in fields]
    return {name: env_names(cls, name) for name in fields}


def known_names(cls: type[ServiceSettings]) -> set[str]:
    return {name for field in cls.model_fields for name in env_names(cls, field)}


def load_with_environment(cls: type[ServiceSettings], environment: dict[str, str],
                          monkeypatch: pytest.MonkeyPatch) -> ServiceSettings:
    """Validate the settings exactly as the process would from ``environment`` and nothing else."""
    import os

    prefix = cls.model_config.get("env_prefix", "").upper()
    for name in list(os.environ):
        if name.upper().startswith(prefix) or name.upper() in known_names(cls):
            monkeypatch.delenv(name)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    return cls()


# --------------------------------------------------------------------------------------------------------
# Strimzi kinds without a CRD in ../shared/schemas

_ACL_OPERATIONS = ["Read", "Write", "Create", "Delete", "Alter", "Describe", "ClusterAction", "AlterConfigs",
                   "DescribeConfigs", "IdempotentWrite", "All"]
KAFKA_USER_SCHEMA: dict[str, Any] = {
    "type": "object", "additionalProperties": False, "required": ["spec"],
    "properties": {"spec": {
        "type": "object", "additionalProperties": False,
        "properties": {
            "authentication": {"type": "object", "additionalProperties": False, "required": ["type"],
                               "properties": {"type": {"enum": ["tls", "tls-external", "scram-sha-512"]}}},
            "authorization": {
                "type": "object", "additionalProperties": False, "required": ["type", "acls"],
                "properties": {
                    "type": {"enum": ["simple"]},
                    "acls": {"type": "array", "items": {
                        "type": "object", "additionalProperties": False, "required": ["resource", "operations"],
                        "properties": {
                            "type": {"enum": ["allow", "deny"]},
                            "host": {"type": "string"},
                            "operations": {"type": "array", "minItems": 1, "items": {"enum": _ACL_OPERATIONS}},
                            "resource": {
                                "type": "object", "additionalProperties": False, "required": ["type"],
                                "properties": {"type": {"enum": ["topic", "group", "cluster", "transactionalId"]},
                                               "name": {"type": "string"},
                                               "patternType": {"enum": ["literal", "prefix"]}}}}}}}}}}}}
"""The ``KafkaUser`` fields the prod overlay uses, as Strimzi documents them (``kafka.strimzi.io/v1``): the
shared schemas folder carries no KafkaUser CRD, so this strict subset checks names, enums and nesting."""
LOCAL_STRIMZI_SCHEMAS = {("kafka.strimzi.io/v1", "KafkaUser"): KAFKA_USER_SCHEMA}
