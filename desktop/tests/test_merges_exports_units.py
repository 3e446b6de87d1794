"""The customer-data area's duplicates, merges and data-subject exports, against an in-memory stand-in for the
five gateways: roles, the requests sent, the archive built, and refusals shown as title and detail."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from icsuite_desktop.bootstrap import build_app
from icsuite_desktop.gateways import Gateways
from icsuite_desktop.settings import DesktopSettings
from icsuite_desktop.subject_export import SERVICES, safe_name

pytestmark = pytest.mark.unit
SECRET = "unit-secret-" + "x" * 32
HTMX = {"HX-Request": "true"}
PAIR = {"account_ids": ["acc-1", "acc-2"], "reason": "same_phone", "key": "+49301234"}
MERGE = {"merge_id": "mg-1", "source_account_id": "acc-2", "target_account_id": "acc-1", "status": "merged",
         "merged_by": "s-1", "merged_at": "2026-12-07T08:00:00Z", "unmerged_by": None, "unmerged_at": None}
PDF = b"%PDF-1.4 plan"


def _problem(status: int, title: str, detail: str) -> httpx.Response:
    return httpx.Response(status, json={"title": title, "status": status, "detail": detail})


def _subject_data(service: str) -> dict[str, Any]:
    sections: dict[str, list[dict[str, Any]]] = {"accounts": [{"_id": "acc-1", "name": "Erika"}]}
    if service == "interactions":
        sections = {"interactions": [{"_id": "int-1", "interaction_id": "int-1", "attachments": [
            {"attachment_id": "att-1", "name": "../plan.pdf", "media_type": "application/pdf"},
            {"attachment_id": "att-2", "name": "gone.txt"}]}]}
    return {"service": service, "account_id": "acc-1", "collected_at": "2026-12-07T08:00:00Z", "sections": sections,
            "counts": {k: len(v) for k, v in sections.items()}, "truncated": []}


class Fake:
    def __init__(self) -> None:
        settings = DesktopSettings(jwt_secret=SECRET)
        self.service_at = {httpx.URL(settings.gateway_url(s)).port: s for s in SERVICES}
        self.sent: list[tuple[str, str, str, Any]] = []
        self.merge = dict(MERGE)
        self.record_refused = False

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else None
        path, method = request.url.path, request.method
        self.sent.append((self.service_at[request.url.port], method, path, body))
        if path == "/v1/accounts/duplicates":
            return httpx.Response(200, json={"items": [PAIR], "next_cursor": "n2"})
        if path in ("/v1/accounts/acc-1", "/v1/accounts/acc-2"):
            return httpx.Response(200, json={"account_id": path[-5:], "name": f"Name of {path[-5:]}"})
        if path == "/v1/accounts/acc-1/merges":
            return httpx.Response(201, json=self.merge)
        if path == "/v1/accounts/acc-9/merges":
            return _problem(409, "Conflict", "account acc-9 is merged into acc-1 already")
        if path == "/v1/merges/mg-1/unmerge":
            self.merge.update(status="unmerged", unmerged_by="s-1", unmerged_at="2026-12-07T08:05:00Z")
            return httpx.Response(200, json=self.merge)
        if path == "/v1/merges/mg-1":
            return httpx.Response(200, json=self.merge)
        return self._privacy(path, method, body)

    def _privacy(self, path: str, method: str, body: Any) -> httpx.Response:
        if path == "/v1/privacy/accounts/acc-1/data":
            return httpx.Response(200, json=_subject_data(self.sent[-1][0]))
        if path == "/v1/interactions/int-1/attachments/att-1/content":
            return httpx.Response(200, content=PDF)
        if path == "/v1/privacy/exports" and method == "POST":
            if self.record_refused:
                return _problem(503, "Service unavailable", "the audit log cannot be written")
            return httpx.Response(201, json={"export_id": "ex-1", "account_id": body["account_id"],
                                             "requested_by": "ad-1", "recorded_at": "2026-12-07T08:10:00Z",
                                             "files": body["files"]})
        if path == "/v1/privacy/exports/ex-1":
            return httpx.Response(200, json={"export_id": "ex-1", "account_id": "acc-1", "requested_by": "ad-1",
                                             "recorded_at": "2026-12-07T08:10:00Z", "files": [
                                                 {"name": "identity.json", "service": "identity", "bytes": 42,
                                                  "sha256": "a" * 64, "counts": {"accounts": 1}}]})
        if path.startswith("/v1/privacy/accounts/"):
            return _problem(404, "Not found", f"account {path.split('/')[4]} does not exist")
        return _problem(404, "Not found", f"{path} does not exist")


@pytest.fixture
def fake() -> Fake:
    return Fake()


def _client(fake: Fake, role: str) -> TestClient:
    app = build_app(DesktopSettings(jwt_secret=SECRET))
    settings = app.state.settings
    gateways = Gateways(settings, transport=httpx.MockTransport(fake))
    app.state.gateways = gateways
    client = TestClient(app, base_url="http://127.0.0.1:8000")
    client.post("/signin", data={"agent_id": f"{role[:2]}-1", "role": role})
    return client


def test_a_supervisor_sees_the_duplicates_with_names_and_reason(fake: Fake) -> None:
    with _client(fake, "supervisor") as client:
        home = client.get("/supervisor").text
        r = client.get("/admin/customer-data/duplicates")
    assert 'href="/admin/customer-data/duplicates"' in home, "supervisors reach the area from the navigation"
    assert r.status_code == 200 and "Name of acc-1" in r.text and "Name of acc-2" in r.text
    assert "the same number" in r.text and "Keep acc-1, merge acc-2 into it" in r.text
    assert "Keep acc-2, merge acc-1 into it" in r.text and "cursor=n2" in r.text
    assert 'href="/admin/customer-data/exports"' not in r.text, "the export tab is for administrators"


def test_a_merge_and_its_undoing_are_sent_and_shown(fake: Fake) -> None:
    with _client(fake, "supervisor") as client:
        r = client.post("/admin/customer-data/merges", headers=HTMX,
                        data={"target_account_id": " acc-1 ", "source_account_id": "acc-2"})
        assert r.status_code == 200 and 'data-status="merged"' in r.text and "Undo the merge" in r.text
        assert fake.sent[-1][1:] == ("POST", "/v1/accounts/acc-1/merges", {"source_account_id": "acc-2"})
        r = client.post("/admin/customer-data/merges/mg-1/unmerge", headers=HTMX)
        assert r.status_code == 200 and 'data-status="unmerged"' in r.text and "Undo the merge" not in r.text
        r = client.post("/admin/customer-data/merges", follow_redirects=False,
                        data={"target_account_id": "acc-1", "source_account_id": "acc-2"})
        assert r.status_code == 303 and r.headers["location"] == "/admin/customer-data/merges/mg-1"
        page = client.get("/admin/customer-data/merges/mg-1")
    assert page.status_code == 200 and 'data-merge-id="mg-1"' in page.text


def test_merge_refusals_show_title_and_detail(fake: Fake) -> None:
    with _client(fake, "admin") as client:
        r = client.post("/admin/customer-data/merges", headers=HTMX,
                        data={"target_account_id": "acc-9", "source_account_id": "acc-2"})
        assert r.status_code == 409 and r.headers["HX-Retarget"] == "#problem"
        assert "Conflict" in r.text and "merged into acc-1 already" in r.text
        r = client.post("/admin/customer-data/merges", headers=HTMX,
                        data={"target_account_id": "acc-1", "source_account_id": "acc-1"})
    assert r.status_code == 422 and "cannot be merged into itself" in r.text
    assert not [s for s in fake.sent if s[2] == "/v1/accounts/acc-1/merges"]


def test_agents_are_refused_duplicates_and_merges(fake: Fake) -> None:
    with _client(fake, "agent") as client:
        assert "/admin/customer-data" not in client.get("/").text
        for path in ("/admin/customer-data/duplicates", "/admin/customer-data/merges/mg-1"):
            r = client.get(path)
            assert r.status_code == 403 and "Forbidden" in r.text
        assert client.post("/admin/customer-data/merges",
                           data={"target_account_id": "acc-1", "source_account_id": "acc-2"}).status_code == 403
        assert client.post("/admin/customer-data/merges/mg-1/unmerge").status_code == 403
    assert not fake.sent


def test_an_export_is_collected_from_every_service_recorded_and_downloaded(fake: Fake) -> None:
    with _client(fake, "admin") as client:
        r = client.post("/admin/customer-data/exports", data={"account_id": "acc-1"})
    assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
    assert r.headers["content-disposition"] == 'attachment; filename="export-acc-1.zip"'
    assert r.headers["x-export-id"] == "ex-1"
    archive = zipfile.ZipFile(io.BytesIO(r.content))
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["export_id"] == "ex-1" and manifest["requested_by"] == "ad-1"
    assert sorted(manifest["services"]) == sorted(SERVICES)
    attachment = "attachments/int-1/att-1-plan.pdf"
    assert archive.read(attachment) == PDF, "the name cannot leave its folder"
    assert [a["content_missing"] for a in manifest["attachments"]] == [False, True]
    (record,) = [s for s in fake.sent if s[2] == "/v1/privacy/exports"]
    recorded = {f["name"]: f for f in record[3]["files"]}
    for name, entry in recorded.items():
        assert entry["sha256"] == hashlib.sha256(archive.read(name)).hexdigest() and entry["bytes"] == len(archive.read(name))
    assert set(recorded) == {f"{s}.json" for s in SERVICES} | {attachment, "attachments/int-1/att-2-gone.txt"}
    assert json.loads(archive.read("callbacks.json"))["service"] == "callbacks"


def test_no_archive_is_handed_out_without_its_record(fake: Fake) -> None:
    fake.record_refused = True
    with _client(fake, "admin") as client:
        r = client.post("/admin/customer-data/exports", data={"account_id": "acc-1"})
    assert r.status_code == 503 and "the audit log cannot be written" in r.text and "zip" not in r.headers["content-type"]


def test_an_unknown_account_and_the_recorded_export_are_shown(fake: Fake) -> None:
    with _client(fake, "admin") as client:
        r = client.post("/admin/customer-data/exports", data={"account_id": "nobody"})
        assert r.status_code == 404 and "account nobody does not exist" in r.text and "Not found" in r.text
        r = client.get("/admin/customer-data/exports", params={"export_id": "ex-1"}, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/admin/customer-data/exports/ex-1"
        page = client.get("/admin/customer-data/exports/ex-1")
    assert page.status_code == 200 and 'data-export-id="ex-1"' in page.text and "accounts: 1" in page.text


def test_exports_are_for_administrators_only(fake: Fake) -> None:
    for role in ("agent", "supervisor"):
        with _client(fake, role) as client:
            assert client.get("/admin/customer-data/exports").status_code == 403
            assert client.get("/admin/customer-data/exports/ex-1").status_code == 403
            assert client.post("/admin/customer-data/exports", data={"account_id": "acc-1"}).status_code == 403
    assert not [s for s in fake.sent if "privacy" in s[2]]


def test_safe_names_stay_inside_their_folder() -> None:
    assert safe_name("../../etc/passwd") == "etc_passwd" and safe_name("..") == "attachment"
