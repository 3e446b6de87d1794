"""The data subject's copy of an account (GDPR articles 15 and 20): one zip from the five services.

Each service answers ``GET /v1/privacy/accounts/{account_id}/data`` (administrators) with everything it
holds about the account; the interactions' attachments are read through their content route. The archive
holds one JSON file per service (``identity.json`` ...), the attachments' bytes under
``attachments/<interaction_id>/<attachment_id>-<name>`` and ``manifest.json``: the account, when, who
asked, every file with its size and SHA-256, the counts per section and the attachments' metadata.

Before the archive is handed out the export is recorded in identity's audit log (``POST
/v1/privacy/exports``: who, when, which files with which counts); without that record there is no archive.
Each service's own audit log also shows the read of its data (action ``export``, with the counts).
"""

from __future__ import annotations

import argparse
import hashlib
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from icsuite_chassis.subject_archive import FORMAT, SubjectArchive, as_json, safe_name

from .gateway import Gateway, GatewayError

SERVICES = ("identity", "interactions", "callbacks", "followups", "alerts")


def _seg(value: str) -> str:
    return quote(value, safe="")


def _attachments(interactions: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    records = interactions.get("sections", {}).get("interactions", [])
    return [(record.get("interaction_id") or record["_id"], attachment)
            for record in records for attachment in record.get("attachments") or []]


def _collect_attachments(archive: SubjectArchive, gateway: Gateway, interactions: Mapping[str, Any]) -> None:
    for interaction_id, attachment in _attachments(interactions):
        attachment_id = attachment["attachment_id"]
        path = f"/v1/interactions/{_seg(interaction_id)}/attachments/{_seg(attachment_id)}/content"
        try:
            content = gateway.content(path)
        except GatewayError as exc:
            if exc.status != 404:
                raise
            content, missing = b"", True  # the content was removed (retention, erasure): say so
        else:
            missing = False
        name = f"attachments/{safe_name(interaction_id)}/{safe_name(attachment_id)}-{safe_name(attachment['name'])}"
        archive.add(name, content, service="interactions")
        archive.attachments.append({"file": name, "interaction_id": interaction_id, "attachment_id": attachment_id,
                                    "name": attachment["name"], "media_type": attachment.get("media_type"),
                                    "bytes": len(content), "sha256": hashlib.sha256(content).hexdigest(),
                                    "stored_sha256": attachment.get("sha256"), "content_missing": missing})


def collect(account_id: str, gateway_of: Callable[[str], Gateway]) -> SubjectArchive:
    """Everything the five services hold about ``account_id``, as the files of the archive."""
    archive = SubjectArchive(account_id)
    for service in SERVICES:
        with gateway_of(service) as gateway:
            data = gateway.call("GET", f"/v1/privacy/accounts/{_seg(account_id)}/data")
            archive.add(f"{service}.json", as_json(data), service=service, counts=data.get("counts", {}))
            archive.services[service] = {"file": f"{service}.json", "counts": data.get("counts", {}),
                                         "truncated": data.get("truncated", []),
                                         "collected_at": data.get("collected_at")}
            if service == "interactions":
                _collect_attachments(archive, gateway, data)
    return archive


def export_account(account_id: str, gateway_of: Callable[[str], Gateway]) -> tuple[bytes, dict[str, Any]]:
    """The zip and its manifest; the export is recorded in identity's audit log before it is returned."""
    archive = collect(account_id, gateway_of)
    with gateway_of("identity") as identity:
        record = identity.call("POST", "/v1/privacy/exports",
                               json={"account_id": account_id, "files": archive.entries})
    manifest = {"format": FORMAT, "account_id": account_id, "export_id": record["export_id"],
                "requested_by": record["requested_by"], "recorded_at": record["recorded_at"],
                "created_at": datetime.now(UTC).isoformat(), "services": archive.services,
                "files": archive.entries, "attachments": archive.attachments}
    return archive.zip(manifest), manifest


def privacy_export(args: argparse.Namespace, ctx: Any) -> tuple[Any, str]:
    """``icsuite privacy export ACCOUNT --out FILE``: write the archive, answer the manifest."""
    if args.base_url:
        raise SystemExit("error: the export calls all five gateways: set IC_<SERVICE>_URL instead of --base-url")
    content, manifest = export_account(args.account_id, lambda service: ctx.gateway(service, args, ["admin"]))
    out = args.out or f"export-{safe_name(args.account_id)}.zip"
    with open(out, "wb") as file:
        file.write(content)
    lines = [f"{out}: {len(content)} bytes, export {manifest['export_id']} recorded for "
             f"{manifest['requested_by']} at {manifest['recorded_at']}"]
    for service, about in manifest["services"].items():
        counts = ", ".join(f"{k} {v}" for k, v in about["counts"].items())
        lines.append(f"  {about['file']}: {counts or 'nothing'}")
    lines.append(f"  attachments: {len(manifest['attachments'])}")
    return {**manifest, "out": out}, "\n".join(lines)
