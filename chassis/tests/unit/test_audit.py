"""The audit trail: which requests it records and with what, the bounded queue, the background writer."""

import asyncio
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, Request

from icsuite_chassis.app import create_app
from icsuite_chassis.audit import AUDIT_DROPPED, AuditLog, audited, note_audit
from icsuite_chassis.auth import AnyStaff, mint_token
from icsuite_chassis.runtime import ServiceRuntime
from icsuite_chassis.settings import ServiceSettings

pytestmark = pytest.mark.unit
SECRET = "k" * 40


class FakeCollection:
    def __init__(self, fail: int = 0) -> None:
        self.docs: list[dict[str, Any]] = []
        self.calls = 0
        self.fail = fail

    async def insert_many(self, docs: list[dict[str, Any]], ordered: bool = True) -> None:
        self.calls += 1
        if self.fail:
            self.fail -= 1
            raise ConnectionError("database away")
        self.docs.extend(docs)


def _app(queue_size: int = 100):
    router = APIRouter(prefix="/v1", dependencies=[audited("agent_id")])

    @router.get("/accounts/{account_id}")
    async def read(account_id: str, _: AnyStaff, request: Request) -> dict[str, str]:
        note_audit(request, details={"fields": 3})
        return {"account_id": account_id}

    @router.post("/records/{record_id}/notes")
    async def write(record_id: str, _: AnyStaff, request: Request) -> dict[str, str]:
        note_audit(request, account_id="acc-9")
        return {"ok": record_id}

    plain = APIRouter(prefix="/v1")

    @plain.get("/profiles")
    async def profiles(_: AnyStaff) -> list[str]:
        return []

    settings = ServiceSettings(service_name="demo", jwt_secret=SECRET, audit_queue_size=queue_size)
    return create_app(ServiceRuntime(settings), title="demo", description="d", routers=[router, plain])


def _auth(sub: str, *roles: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_token(SECRET, sub, list(roles))}",
            "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}


async def _queued(app) -> list[dict[str, Any]]:
    queue = app.state.audit_log._queue
    return [queue.get_nowait() for _ in range(queue.qsize())]


async def test_marked_routes_are_recorded_with_who_what_and_outcome() -> None:
    app = _app()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        await client.get("/v1/accounts/acc-1?agent_id=a-7&phone=%2B4930", headers=_auth("a-1", "agent"))
        await client.post("/v1/records/r-1/notes", headers=_auth("a-2", "supervisor"))
        await client.get("/v1/accounts/acc-2", headers=_auth("c-1", "channel"))
        await client.get("/v1/profiles", headers=_auth("a-1", "agent"))
    read, change, refused = await _queued(app)
    assert read["actor"] == "a-1" and read["roles"] == ["agent"] and read["method"] == "GET"
    assert read["route"] == "/v1/accounts/{account_id}" and read["action"] == "read" and read["status"] == 200
    assert read["ids"] == {"account_id": "acc-1", "agent_id": "a-7"} and read["account_ids"] == ["acc-1"]
    assert read["trace_id"] == "0af7651916cd43dd8448eb211c80319c" and read["details"] == {"fields": 3}
    assert "phone" not in str(read)  # only the declared parameters, never search values
    assert change["action"] == "change" and change["account_ids"] == ["acc-9"] and change["ids"]["record_id"] == "r-1"
    assert refused["status"] == 403 and refused["actor"] == "c-1" and refused["account_ids"] == ["acc-2"]


async def test_a_full_queue_drops_and_counts_instead_of_waiting() -> None:
    app = _app(queue_size=1)
    before = AUDIT_DROPPED.labels("queue_full")._value.get()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        for _ in range(3):
            assert (await client.get("/v1/accounts/acc-1", headers=_auth("a-1", "agent"))).status_code == 200
    assert AUDIT_DROPPED.labels("queue_full")._value.get() - before == 2
    assert len(await _queued(app)) == 1


async def test_the_writer_inserts_in_batches_retries_and_flushes_at_stop() -> None:
    collection = FakeCollection(fail=1)
    log = AuditLog({"audit": collection}, batch_size=10)  # type: ignore[arg-type]
    for n in range(25):
        log.record({"_id": str(n)})
    await log.start()
    await log.stop()
    assert [d["_id"] for d in collection.docs] == [str(n) for n in range(25)]
    assert collection.calls == 4  # three batches, one retried after the failure


async def test_entries_of_requests_one_after_another_share_one_insert_within_the_linger() -> None:
    collection = FakeCollection()
    log = AuditLog({"audit": collection}, linger_s=0.2)  # type: ignore[arg-type]
    await log.start()
    for n in range(5):  # one request at a time: each entry arrives while the writer waits after the first
        log.record({"_id": str(n)})
        await asyncio.sleep(0.01)
    await asyncio.wait_for(log.stop(), 5)
    assert [d["_id"] for d in collection.docs] == [str(n) for n in range(5)]
    assert collection.calls == 1


async def test_without_a_linger_each_entry_of_requests_one_after_another_is_its_own_insert() -> None:
    collection = FakeCollection()
    log = AuditLog({"audit": collection})  # type: ignore[arg-type]
    await log.start()
    for n in range(5):
        log.record({"_id": str(n)})
        await asyncio.sleep(0.01)
    await asyncio.wait_for(log.stop(), 5)
    assert collection.calls == 5


async def test_a_write_that_keeps_failing_is_counted_as_dropped() -> None:
    collection = FakeCollection(fail=3)
    log = AuditLog({"audit": collection})  # type: ignore[arg-type]
    before = AUDIT_DROPPED.labels("write_failed")._value.get()
    log.record({"_id": "x"})
    await log.start()
    await asyncio.wait_for(log.stop(), 5)
    assert AUDIT_DROPPED.labels("write_failed")._value.get() - before == 1 and collection.docs == []
