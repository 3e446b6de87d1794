"""The data subject's copy of an account, built by the desktop for an administrator: one zip from the five
services, in the archive format the command-line client writes (``icsuite-subject-export/1``).

Each service answers ``GET /v1/privacy/accounts/{account_id}/data`` with what it holds about the account; the
interactions' attachments are read through their content route. The zip holds one JSON file per service, the
attachments' bytes under ``attachments/<interaction_id>/<attachment_id>-<name>`` and ``manifest.json``. The
export is recorded in identity's audit log (``POST /v1/privacy/exports``) before the zip is handed out:
without that record there is no archive."""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import quote

from icsuite_chassis.clock import utc_now
from icsuite_chassis.subject_archive import FORMAT, SubjectArchive, as_json, safe_name

from .gateways import Gateways, GatewayProblem, problem_of

SERVICES = ("identity", "interactions", "callbacks", "followups", "alerts")


async def _attachment(gw: Gateways, token: str, interaction_id: str, attachment_id: str) -> bytes | None:
    """The attachment's bytes; None when its content is gone (retention, erasure)."""
    path = f"/v1/interactions/{quote(interaction_id, safe='')}/attachments/{quote(attachment_id, safe='')}/content"
    response = await gw.send("interactions", "GET", path, token)
    if response.status_code == 404:
        return None
    if response.status_code >= 400:
        raise problem_of("interactions", response)
    return response.content


async def _collect_attachments(archive: SubjectArchive, gw: Gateways, token: str, data: dict[str, Any]) -> None:
    for record in data.get("sections", {}).get("interactions", []):
        interaction_id = str(record.get("interaction_id") or record.get("_id"))
        for attachment in record.get("attachments") or []:
            attachment_id = str(attachment["attachment_id"])
            content = await _attachment(gw, token, interaction_id, attachment_id)
            name = (f"attachments/{safe_name(interaction_id)}/"
                    f"{safe_name(attachment_id)}-{safe_name(str(attachment.get('name') or ''))}")
            archive.add(name, content or b"", service="interactions")
            archive.attachments.append({
                "file": name, "interaction_id": interaction_id, "attachment_id": attachment_id,
                "name": attachment.get("name"), "media_type": attachment.get("media_type"),
                "bytes": len(content or b""), "sha256": hashlib.sha256(content or b"").hexdigest(),
                "stored_sha256": attachment.get("sha256"), "content_missing": content is None})


async def collect(gw: Gateways, token: str, account_id: str) -> SubjectArchive:
    """Everything the five services hold about ``account_id``, as the files of the archive."""
    archive = SubjectArchive(account_id)
    for service in SERVICES:
        data = await gw.call(service, "GET", f"/v1/privacy/accounts/{quote(account_id, safe='')}/data", token)
        counts = data.get("counts", {})
        archive.add(f"{service}.json", as_json(data), service=service, counts=counts)
        archive.services[service] = {"file": f"{service}.json", "counts": counts,
                                     "truncated": data.get("truncated", []), "collected_at": data.get("collected_at")}
        if service == "interactions":
            await _collect_attachments(archive, gw, token, data)
    return archive


async def export_account(gw: Gateways, token: str, account_id: str) -> tuple[bytes, dict[str, Any]]:
    """The zip and its manifest; the export is recorded in identity's audit log before either is returned."""
    archive = await collect(gw, token, account_id)
    record = await gw.call("identity", "POST", "/v1/privacy/exports", token,
                           json={"account_id": account_id, "files": archive.entries})
    if not isinstance(record, dict) or not record.get("export_id"):
        raise GatewayProblem(502, "Export not recorded", "identity did not confirm the export's record; no archive "
                             "is handed out without it", "identity")
    manifest = {"format": FORMAT, "account_id": account_id, "export_id": record["export_id"],
                "requested_by": record.get("requested_by"), "recorded_at": record.get("recorded_at"),
                "created_at": utc_now().isoformat(), "services": archive.services,
                "files": archive.entries, "attachments": archive.attachments}
    return archive.zip(manifest), manifest
