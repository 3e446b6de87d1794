"""The export collector against a fake of the five gateways: the archive's layout, a missing attachment
content, and no archive at all when identity does not record the export."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from typing import Any

import httpx
import pytest
from icsuite_tools.gateway import Gateway, GatewayError, PORTS
from icsuite_tools.privacy_export import SERVICES, export_account

pytestmark = pytest.mark.unit
SERVICE_OF_PORT = {port: name for name, port in PORTS.items()}
PDF = b"%PDF-1.4 plan"


def _data(service: str, account_id: str) -> dict[str, Any]:
    sections: dict[str, list[dict[str, Any]]] = {"things": [{"_id": f"{service}-1", "account_id": account_id}]}
    if service == "interactions":
        sections = {"interactions": [{"_id": "ix-1", "interaction_id": "ix-1", "attachments": [
            {"attachment_id": "at-1", "name": "../plan.pdf", "media_type": "application/pdf",
             "sha256": hashlib.sha256(PDF).hexdigest()},
            {"attachment_id": "at-2", "name": "gone.txt", "media_type": "text/plain", "sha256": "0" * 64}]}]}
    return {"service": service, "account_id": account_id, "collected_at": "2026-12-07T06:00:00+00:00",
            "sections": sections, "counts": {k: len(v) for k, v in sections.items()}, "truncated": []}


def _fake(record_status: int = 201) -> tuple[httpx.MockTransport, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        service, path = SERVICE_OF_PORT[request.url.port], request.url.path
        if path.endswith("/data"):
            return httpx.Response(200, json=_data(service, path.split("/")[4]))
        if path.endswith("/at-1/content"):
            return httpx.Response(200, content=PDF)
        if path.endswith("/at-2/content"):
            return httpx.Response(404, json={"status": 404, "title": "Not found"})
        if path == "/v1/privacy/exports" and record_status == 201:
            body = json.loads(request.content)
            return httpx.Response(201, json={"export_id": "ex-1", "account_id": body["account_id"],
                                             "requested_by": "admin-1", "recorded_at": "2026-12-07T06:00:01+00:00",
                                             "files": body["files"]})
        return httpx.Response(record_status, json={"status": record_status, "title": "Forbidden"})

    return httpx.MockTransport(handle), seen


def _gateways(transport: httpx.MockTransport):
    return lambda service: Gateway(service, None, "t", transport=transport)


def test_the_archive_holds_one_file_per_service_the_attachments_and_the_manifest() -> None:
    transport, seen = _fake()
    content, manifest = export_account("acc-1", _gateways(transport))
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        names = archive.namelist()
        assert archive.read("attachments/ix-1/at-1-plan.pdf") == PDF
        stored = json.loads(archive.read("manifest.json"))
    assert set(names) == {"manifest.json", *(f"{s}.json" for s in SERVICES), "attachments/ix-1/at-1-plan.pdf",
                          "attachments/ix-1/at-2-gone.txt"}
    assert stored == manifest and manifest["export_id"] == "ex-1" and manifest["requested_by"] == "admin-1"
    first, missing = manifest["attachments"]
    assert first["sha256"] == first["stored_sha256"] and not first["content_missing"]
    assert missing["content_missing"] and missing["bytes"] == 0
    recorded = json.loads(seen[-1].content)
    assert seen[-1].url.path == "/v1/privacy/exports" and recorded["account_id"] == "acc-1"
    assert {f["name"]: f.get("counts") for f in recorded["files"]}["callbacks.json"] == {"things": 1}
    assert [r.url.path for r in seen if r.url.path.endswith("/data")] == [
        "/v1/privacy/accounts/acc-1/data"] * 5


def test_no_archive_without_the_record_in_identitys_audit_log() -> None:
    transport, _ = _fake(record_status=403)
    with pytest.raises(GatewayError) as refused:
        export_account("acc-1", _gateways(transport))
    assert refused.value.status == 403
