"""The interaction record, follow-ups and history pages against an in-memory stand-in for the gateways."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from icsuite_desktop.bootstrap import build_app
from icsuite_desktop.gateways import Gateways
from icsuite_desktop.routes_followups import followup_body
from icsuite_desktop.routes_history import utc_moment
from icsuite_desktop.routes_record import parse_details, permitted_types
from icsuite_desktop.settings import DesktopSettings

pytestmark = pytest.mark.unit
SECRET = "unit-secret-" + "x" * 32
TYPES = {"channels": {"phone": ["phone_call", "email", "visit"], "email": ["email"]},
         "source_types": {"interaction": ["phone_call", "email", "complaint"]}, "version": 1,
         "updated_at": "2026-12-01T00:00:00Z", "updated_by": "seed"}


class FakeGateways:
    """Just enough of the interactions and followups gateways; records every call it is sent."""

    def __init__(self) -> None:
        self.record: dict[str, Any] = {"interaction_id": "int-1", "status": "open", "channel": "phone",
                                       "direction": "inbound", "account_id": "acc-1", "agent_ids": ["a-1"],
                                       "media_items": [], "notes": [], "activities": [], "attachments": []}
        self.calls: list[tuple[str, str, Any]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.headers.get("content-type") == "application/json" else None
        self.calls.append((request.method, str(request.url), body))
        path, method = request.url.path, request.method
        if path == "/v1/interactions/int-1" and method == "GET":
            return httpx.Response(200, json=self.record)
        if path == "/v1/interactions/int-1/notes":
            if self.record["status"] == "closed":
                return httpx.Response(409, json={"title": "Conflict", "status": 409,
                                                 "detail": "interaction int-1 is closed and read-only"})
            self.record["notes"].append({**body, "author": "a-1", "created_at": "2026-12-07T10:00:00Z"})
            return httpx.Response(201, json=body)
        if path == "/v1/interactions/int-1/complete":
            self.record.update(status="closed", outcome=body["outcome"], closed_by="a-1")
            return httpx.Response(200, json=self.record)
        if path == "/v1/interactions/int-1/attachments/att-1/content":
            disposition = 'inline; filename="a.html"'
            return httpx.Response(200, content=b"<script>x</script>",
                                  headers={"content-type": "text/html", "content-disposition": disposition})
        if path == "/v1/sources/interaction/int-1/followups":
            return httpx.Response(200, json={"items": [], "next_cursor": None})
        if path == "/v1/config/followup-types":
            return httpx.Response(200, json=TYPES)
        if path == "/v1/followups":
            return httpx.Response(201, json={"followup_id": "fu-1"})
        if path == "/v1/interactions/int-1/scratch-pad":
            self.record["scratch_pad"] = {"text": body["text"], "updated_at": None, "updated_by": "a-1"}
            return httpx.Response(200, json=self.record["scratch_pad"])
        if path == "/v1/interactions/complete":
            blocking = [{"interaction_id": i, "reason": "closed"} for i in body["interaction_ids"] if i != "int-1"]
            if blocking:
                return httpx.Response(409, json={"title": "Conflict", "status": 409, "detail": "blocked",
                                                 "blocking": blocking})
            return httpx.Response(200, json={"account_id": "acc-1", "completed": ["int-1"], "items": []})
        if path == "/v1/accounts/acc-1/interactions":
            return httpx.Response(200, json={"items": [self.record], "next_cursor": "c-2"})
        return httpx.Response(404, json={"title": "Not found", "status": 404, "detail": path})


@pytest.fixture
def fake() -> FakeGateways:
    return FakeGateways()


@pytest.fixture
def client(fake: FakeGateways):
    app = build_app(DesktopSettings(jwt_secret=SECRET))
    app.state.gateways = Gateways(app.state.settings, transport=httpx.MockTransport(fake))
    with TestClient(app, base_url="http://127.0.0.1:8000") as c:
        c.post("/signin", data={"agent_id": "a-1", "role": "agent"})
        yield c


def test_permitted_types_are_those_of_both_the_channel_and_the_source() -> None:
    assert permitted_types(TYPES, "phone", "interaction") == ["phone_call", "email"]
    assert permitted_types(TYPES, "chat", "interaction") == []


def test_the_record_page_offers_only_permitted_follow_up_types(client: TestClient) -> None:
    page = client.get("/interactions/int-1").text
    assert '<option value="phone_call">' in page and '<option value="email">' in page
    assert "complaint" not in page and "visit" not in page
    assert "Add note" in page and "Complete the record" in page


def test_a_note_is_added_and_a_completed_record_is_read_only(client: TestClient, fake: FakeGateways) -> None:
    r = client.post("/interactions/int-1/notes", data={"type": "note", "language": "de", "text": "Rate besprochen"},
                    headers={"HX-Request": "true"})
    assert r.status_code == 200 and "Rate besprochen" in r.text
    assert fake.calls[0][2] == {"type": "note", "language": "de", "text": "Rate besprochen"}
    r = client.post("/interactions/int-1/complete", data={"outcome": "resolved"}, headers={"HX-Request": "true"})
    assert 'data-status="closed"' in r.text and "Add note" not in r.text and "read-only" in r.text
    r = client.post("/interactions/int-1/notes", data={"type": "note", "language": "de", "text": "late"},
                    headers={"HX-Request": "true"})
    assert r.status_code == 409 and "closed and read-only" in r.text


def test_a_follow_up_imports_the_records_scratch_pad_with_utc_dates(client: TestClient, fake: FakeGateways) -> None:
    fake.record["scratch_pad"] = {"text": " ab Januar 50 EUR ", "updated_at": None, "updated_by": "a-1"}
    fake.record.update(business_agreement_id="ba-1", premise_id="pr-1")
    r = client.post("/interactions/int-1/followups", headers={"HX-Request": "true"},
                    data={"type": "phone_call", "due_at": "2026-12-20T09:30", "planned_start": "2026-12-19T08:00",
                          "import_scratch_pad": "yes"})
    assert r.status_code == 200 and "fu-1 created" in r.text
    (sent,) = [body for method, url, body in fake.calls if url.endswith("/v1/followups")]
    assert sent["source"] == {"type": "interaction", "id": "int-1"} and sent["channel"] == "phone"
    assert sent["due_at"] == "2026-12-20T09:30:00+00:00" and sent["planned_start"] == "2026-12-19T08:00:00+00:00"
    assert sent["account_id"] == "acc-1" and sent["business_agreement_id"] == "ba-1" and sent["premise_id"] == "pr-1"
    assert sent["scratch_pad"] == {"text": "ab Januar 50 EUR", "note_type": "note"} and "notes" not in sent
    fake.calls.clear()
    client.post("/interactions/int-1/followups", headers={"HX-Request": "true"}, data={"type": "email"})
    (sent,) = [body for method, url, body in fake.calls if url.endswith("/v1/followups")]
    assert "scratch_pad" not in sent, "the scratch pad is imported only when the agent chose so"


def test_the_scratch_pad_is_written_to_the_record(client: TestClient, fake: FakeGateways) -> None:
    r = client.post("/interactions/int-1/scratch-pad", headers={"HX-Request": "true"}, data={"text": "Umzug 1.4."})
    assert r.status_code == 200 and "Scratch pad saved." in r.text
    assert fake.calls[0][0] == "PUT" and fake.calls[0][2] == {"text": "Umzug 1.4."}
    assert client.post("/interactions/int-1/scratch-pad", data={"text": "x" * 10_001}).status_code == 422


def test_history_passes_the_filters_and_offers_the_next_page(client: TestClient, fake: FakeGateways) -> None:
    r = client.get("/accounts/acc-1/history?channel=phone&status=closed&start=2026-12-01T00:00")
    assert r.status_code == 200 and "int-1" in r.text and "Older" in r.text
    url = httpx.URL(fake.calls[-1][1])
    assert url.params["channel"] == "phone" and url.params["status"] == "closed"
    assert url.params["from"] == "2026-12-01T00:00:00+00:00" and "agent_id" not in url.params
    assert client.get("/accounts/acc-1/history?start=yesterday").status_code == 422


def test_an_attachment_is_always_downloaded_never_shown(client: TestClient) -> None:
    r = client.get("/interactions/int-1/attachments/att-1")
    assert r.headers["content-disposition"].startswith("attachment")
    assert r.headers["content-security-policy"] == "sandbox" and r.headers["x-content-type-options"] == "nosniff"


def test_activity_details_are_key_value_lines() -> None:
    assert parse_details("order_id = ord-7\n\nchannel=web") == {"order_id": "ord-7", "channel": "web"}
    with pytest.raises(ValueError):
        parse_details("just words")
    with pytest.raises(ValueError):
        parse_details("\n".join(f"k{i}=v" for i in range(21)))


def test_dates_without_offset_are_utc() -> None:
    assert utc_moment("") is None and utc_moment("2026-12-01") == "2026-12-01T00:00:00+00:00"
    assert utc_moment("2026-12-01T08:00+01:00") == "2026-12-01T08:00:00+01:00"
    body = followup_body({"interaction_id": "int-9", "channel": None}, {"type": "task", "note": " n "})
    assert body["channel"] == "phone" and body["notes"][0]["text"] == "n"


def test_several_records_are_completed_at_once_or_each_blocker_is_named(client: TestClient, fake) -> None:
    r = client.post("/accounts/acc-1/complete", headers={"HX-Request": "true"},
                    data={"interaction_ids": ["int-1"], "outcome": "resolved"})
    assert r.status_code == 200 and "Completed 1 record(s)." in r.text
    sent = [body for method, url, body in fake.calls if url.endswith("/v1/interactions/complete")][0]
    assert sent == {"account_id": "acc-1", "interaction_ids": ["int-1"], "outcome": "resolved", "result": None,
                    "reason_code": None}
    r = client.post("/accounts/acc-1/complete", headers={"HX-Request": "true"},
                    data={"interaction_ids": ["int-1", "int-7"], "outcome": "resolved"})
    assert r.status_code == 409 and 'data-testid="blockers"' in r.text
    assert "<code>int-7</code> is already closed" in r.text
