"""The sections of a service's export: how documents are found, in order, and how they are written out."""

from datetime import UTC, datetime
from typing import Any

import pytest
from bson import ObjectId

from icsuite_chassis.subject_data import SubjectSection, by_any, by_field, collect, linked, plain

pytestmark = pytest.mark.unit


class FakeCursor:
    def __init__(self, docs: list[dict[str, Any]]) -> None:
        self.docs = docs

    def sort(self, key: str, direction: int) -> "FakeCursor":
        return FakeCursor(sorted(self.docs, key=lambda d: d[key]))

    def limit(self, n: int) -> "FakeCursor":
        return FakeCursor(self.docs[:n])

    def __aiter__(self):
        async def gen():
            for doc in self.docs:
                yield doc
        return gen()


class FakeCollection:
    def __init__(self, docs: list[dict[str, Any]]) -> None:
        self.docs = docs
        self.filters: list[dict[str, Any]] = []

    def find(self, where: dict[str, Any]) -> FakeCursor:
        self.filters.append(where)
        return FakeCursor([d for d in self.docs if _matches(d, where)])


def _matches(doc: dict[str, Any], where: dict[str, Any]) -> bool:
    if "$or" in where:
        return any(_matches(doc, part) for part in where["$or"])
    (field, wanted), = where.items()
    value = doc.get(field)
    if isinstance(wanted, dict):
        return value in wanted["$in"]
    return value == wanted or (isinstance(value, list) and wanted in value)


def test_documents_are_written_as_stored_without_the_stores_bookkeeping() -> None:
    at = datetime(2026, 12, 7, 6, 0, tzinfo=UTC)
    doc = {"_id": "r-1", "_version": 3, "_applied": ["e-1"], "_outbox": [{"x": 1}], "at": at,
           "notes": [{"text": "hello", "created_at": at}], "file_id": ObjectId("0123456789ab0123456789ab"),
           "blob": b"\x00\x01"}
    assert plain(doc) == {"_id": "r-1", "at": "2026-12-07T06:00:00+00:00",
                          "notes": [{"text": "hello", "created_at": "2026-12-07T06:00:00+00:00"}],
                          "file_id": "0123456789ab0123456789ab", "blob": {"base64": "AAE="}}


async def test_sections_are_found_in_order_and_may_follow_earlier_ones() -> None:
    db = {"records": FakeCollection([{"_id": "r-1", "account_id": "acc-1", "number": "+49301"},
                                     {"_id": "r-2", "account_id": "acc-2", "number": "+49302"}]),
          "notes": FakeCollection([{"_id": "n-1", "record_id": "r-1"}, {"_id": "n-2", "record_id": "r-2"}]),
          "slots": FakeCollection([{"_id": "+49301"}, {"_id": "+49302"}]),
          "candidates": FakeCollection([{"_id": "c-1", "candidates": ["acc-1", "acc-3"]}, {"_id": "c-2"}])}
    sections = (SubjectSection("records", "records", by_field("account_id")),
                SubjectSection("notes", "notes", linked("records", "record_id")),
                SubjectSection("slots", "slots", linked("records", "_id", "number")),
                SubjectSection("candidates", "candidates", by_any("account_id", "candidates")))
    found, truncated = await collect(db, sections, "acc-1")  # type: ignore[arg-type]
    assert {name: [d["_id"] for d in docs] for name, docs in found.items()} == {
        "records": ["r-1"], "notes": ["n-1"], "slots": ["+49301"], "candidates": ["c-1"]}
    assert truncated == []
    found, _ = await collect(db, sections, "acc-9")  # type: ignore[arg-type]
    assert all(docs == [] for docs in found.values())
    assert len(db["notes"].filters) == 1  # nothing linked: the collection is not asked at all


async def test_a_section_beyond_the_limit_is_cut_and_named() -> None:
    db = {"records": FakeCollection([{"_id": f"r-{n}", "account_id": "acc-1"} for n in range(5)])}
    found, truncated = await collect(db, (SubjectSection("records", "records", by_field()),), "acc-1",  # type: ignore[arg-type]
                                     limit=3)
    assert [d["_id"] for d in found["records"]] == ["r-0", "r-1", "r-2"] and truncated == ["records"]


async def test_an_account_id_with_slashes_or_control_characters_is_refused() -> None:
    import httpx

    from icsuite_chassis.app import create_app
    from icsuite_chassis.auth import mint_token
    from icsuite_chassis.runtime import ServiceRuntime
    from icsuite_chassis.settings import ServiceSettings
    from icsuite_chassis.subject_data import subject_data_router

    settings = ServiceSettings(service_name="demo", jwt_secret="k" * 40)
    app = create_app(ServiceRuntime(settings), title="demo", description="d",
                     routers=[subject_data_router("demo", ())])
    admin = {"Authorization": f"Bearer {mint_token('k' * 40, 'admin-1', ['admin'])}"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        for hostile in ("..%2F..%2Fetc%2Fpasswd", "x%00y", "a%5Cb", "x" * 129):
            response = await client.get(f"/v1/privacy/accounts/{hostile}/data", headers=admin)
            assert response.status_code in (404, 422), hostile  # a decoded slash matches no route at all
        ok = await client.get("/v1/privacy/accounts/acc-1/data", headers=admin)
        assert ok.status_code == 200 and ok.json()["sections"] == {} and ok.json()["account_id"] == "acc-1"
        refused = await client.get("/v1/privacy/accounts/acc-1/data", headers={
            "Authorization": f"Bearer {mint_token('k' * 40, 'a-1', ['agent'])}"})
        assert refused.status_code == 403
