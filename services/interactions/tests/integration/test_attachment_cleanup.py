"""Orphaned attachment uploads on the real stack: deleted past the grace, never when a record
references them, never while the record write may still be in flight; and the job as the service runs it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import pytest_asyncio
import httpx
from fastapi import FastAPI
from icsuite_chassis.mongo import create_mongo_client, ensure_indexes
from icsuite_chassis.testing import SettableClock, bearer, running_app, unique

from icsuite_interactions.attachment_cleanup import OrphanedUploadCleaner, list_stored_uploads
from icsuite_interactions.attachments import UPLOAD_INDEXES, AttachmentStore
from icsuite_interactions.bootstrap import build_app
from icsuite_chassis.store import MongoAggregateStore

from icsuite_interactions.domain.errors import InteractionClosed
from icsuite_interactions.domain.rules import Actor, Completion
from icsuite_interactions.handlers import RecordCommands
from icsuite_interactions.repository import INDEXES, INTERACTIONS, InteractionsRepository, RecordCodec
from icsuite_interactions.settings import InteractionsSettings

pytestmark = [pytest.mark.integration]
AGENT = bearer("a-17", "agent")
ACTOR = Actor("a-17")
GRACE_S = 3600.0
T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


async def _kit(stack: Any, clock: SettableClock, batch: int = 200) -> tuple[AttachmentStore, RecordCommands,
                                                                    OrphanedUploadCleaner]:
    db = create_mongo_client(stack.mongodb_uri, app_name="test-attachment-cleanup")[unique("att").replace("-", "_")]
    await ensure_indexes(db, [*INDEXES, *UPLOAD_INDEXES])
    repo = InteractionsRepository(db)
    store = AttachmentStore(db, clock=clock)
    commands = RecordCommands(MongoAggregateStore(db, INTERACTIONS, RecordCodec()), repo, store, clock=clock)
    return store, commands, OrphanedUploadCleaner(store, repo, clock=clock, grace_s=GRACE_S, batch=batch)


async def _orphan(store: AttachmentStore, interaction_id: str, content: bytes = b"orphan") -> Any:
    """An upload whose record write never happened (the process died in between)."""
    return (await store.put(interaction_id, unique("att"), "scan.pdf", "application/pdf", content)).file_id


async def _files(store: AttachmentStore) -> set[Any]:
    return {grid_out._id async for grid_out in store.bucket.find({})}


async def _listed(store: AttachmentStore) -> set[Any]:
    return {doc["_id"] async for doc in store.uploads.find({})}


async def test_an_orphan_past_the_grace_goes_a_referenced_file_and_a_fresh_orphan_stay(stack) -> None:
    clock = SettableClock(T0)
    store, commands, cleaner = await _kit(stack, clock)
    record = await commands.create_manual({"channel": "walk_in"}, "a-17")
    meta = await commands.add_attachment(record.interaction_id, ACTOR, name="contract.pdf", media_type="application/pdf",
                                         content=b"signed")
    old_orphan = await _orphan(store, record.interaction_id)  # same record: it is read and must not vouch for this file
    clock.now = T0 + timedelta(seconds=GRACE_S - 60)
    fresh_orphan = await _orphan(store, record.interaction_id)  # its record write may still be in flight
    clock.now = T0 + timedelta(seconds=GRACE_S + 1)

    assert await cleaner.delete_orphans() == 1
    assert await _files(store) == {(await _file_id(commands, record.interaction_id, meta.attachment_id)), fresh_orphan}
    assert old_orphan not in await _files(store)
    assert await _listed(store) == {fresh_orphan}  # the referenced upload is settled, the fresh one waits
    assert await store.get(await _file_id(commands, record.interaction_id, meta.attachment_id)) == b"signed"

    clock.now = T0 + timedelta(seconds=2 * GRACE_S)
    assert await cleaner.delete_orphans() == 1
    assert len(await _files(store)) == 1 and await _listed(store) == set()
    assert await cleaner.delete_orphans() == 0  # nothing left to do, and a second run changes nothing


async def _file_id(commands: RecordCommands, interaction_id: str, attachment_id: str) -> Any:
    record = await commands.records.get(interaction_id)
    assert record is not None
    return next(a.file_id for a in record.attachments if a.attachment_id == attachment_id)


async def test_a_round_works_through_every_batch_and_unfinished_uploads(stack) -> None:
    clock = SettableClock(T0)
    store, _, cleaner = await _kit(stack, clock, batch=2)
    orphans = [await _orphan(store, unique("int"), b"x" * 300_000) for _ in range(5)]  # several chunks each
    # a crash before the upload finished: listed, chunks written, no file document
    unfinished = orphans.pop()
    await store.bucket._files.delete_one({"_id": unfinished})  # type: ignore[attr-defined]
    clock.now = T0 + timedelta(seconds=GRACE_S + 1)

    assert await cleaner.delete_orphans() == 5
    assert await _files(store) == set() and await _listed(store) == set()
    assert await store.bucket._chunks.count_documents({}) == 0  # type: ignore[attr-defined]


async def test_replicas_cleaning_at_once_delete_each_orphan_and_keep_the_referenced(stack) -> None:
    clock = SettableClock(T0)
    store, commands, cleaner = await _kit(stack, clock, batch=3)
    record = await commands.create_manual({"channel": "letter"}, "a-17")
    kept = [await commands.add_attachment(record.interaction_id, ACTOR, name=f"p{i}.pdf", media_type="application/pdf",
                                          content=f"page {i}".encode()) for i in range(4)]
    for _ in range(6):
        await _orphan(store, unique("int"))
    clock.now = T0 + timedelta(seconds=GRACE_S + 1)
    replicas = [OrphanedUploadCleaner(store, cleaner.records, clock=clock, grace_s=GRACE_S, batch=3)
                for _ in range(3)]

    await asyncio.gather(*(r.delete_orphans() for r in replicas))
    assert await _listed(store) == set() and len(await _files(store)) == 4
    for meta in kept:
        assert await store.get(await _file_id(commands, record.interaction_id, meta.attachment_id)) is not None


async def test_an_upload_the_record_refuses_is_removed_at_once(stack) -> None:
    clock = SettableClock(T0)
    store, commands, _ = await _kit(stack, clock)
    record = await commands.create_manual({"channel": "walk_in"}, "a-17")

    async def closed_meanwhile() -> None:  # another agent completes the record while the content uploads
        commands.store.before_write = None
        await commands.complete(record.interaction_id, ACTOR, Completion("resolved"))

    commands.store.before_write = closed_meanwhile
    with pytest.raises(InteractionClosed):
        await commands.add_attachment(record.interaction_id, ACTOR, name="late.pdf", media_type="application/pdf",
                                      content=b"late")
    assert await _files(store) == set() and await _listed(store) == set()


async def test_files_stored_before_the_list_existed_are_listed_once_and_then_settled(stack) -> None:
    clock = SettableClock(T0)
    store, commands, cleaner = await _kit(stack, clock)
    record = await commands.create_manual({"channel": "walk_in"}, "a-17")
    meta = await commands.add_attachment(record.interaction_id, ACTOR, name="old.pdf", media_type="application/pdf",
                                         content=b"kept")
    await store.uploads.delete_many({})  # as if stored by the previous version: nothing listed
    legacy_orphan = await store.bucket.upload_from_stream(  # uploaded straight to the bucket, never recorded
        "lost.pdf", b"lost", metadata={"interaction_id": record.interaction_id, "attachment_id": "att-lost",
                                       "media_type": "application/pdf", "sha256": "-"})
    foreign = await store.bucket.upload_from_stream("foreign.bin", b"?")  # names no interaction: not ours

    assert await list_stored_uploads(store) == {"listed": 2, "unnamed": 1}
    assert await list_stored_uploads(store) == {"listed": 0, "unnamed": 1}  # a second run lists nothing again
    clock.now = datetime.now(UTC) + timedelta(seconds=GRACE_S + 1)  # listed at their GridFS uploadDate
    assert await cleaner.delete_orphans() == 1
    kept = await _file_id(commands, record.interaction_id, meta.attachment_id)
    assert await _files(store) == {kept, foreign} and legacy_orphan not in await _files(store)
    assert await _listed(store) == set() and await store.get(kept) == b"kept"


# -- the job as the service runs it ----------------------------------------------------------------------

@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def quick_service(stack: Any) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """The service with a grace of five seconds (the integration conftest's settings, tiny grace)."""
    name = unique("ia").replace("-", "_")
    settings = InteractionsSettings(
        kafka_bootstrap_servers=stack.kafka_bootstrap, mongodb_uri=stack.mongodb_uri, mongodb_database=name,
        consumer_group_prefix=f"{name}.", outbox_sweep_interval_s=1.0, attachment_max_bytes=64 * 1024,
        max_request_bytes=256 * 1024, environment="test",
        attachment_orphan_grace_s=5.0, attachment_orphan_sweep_interval_s=0.2)
    app = build_app(settings)
    async with running_app(app) as client:
        yield app, client


async def _eventually(check: Any, timeout_s: float = 60.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "the cleanup job did not get there in time"
        await asyncio.sleep(0.1)


async def test_the_service_job_deletes_an_orphan_and_keeps_an_attachment_downloadable(quick_service) -> None:
    app, client = quick_service
    store: AttachmentStore = app.state.service.attachments
    created = await client.post("/v1/interactions", json={"channel": "walk_in"}, headers=AGENT)
    base = f"/v1/interactions/{created.json()['interaction_id']}"
    added = await client.post(f"{base}/attachments", headers=AGENT,
                                      files={"file": ("id.pdf", b"%PDF-1.7 passport", "application/pdf")})
    assert added.status_code == 201, added.text
    orphan = await _orphan(store, created.json()["interaction_id"])

    async def settled() -> bool:
        return orphan not in await _files(store) and await _listed(store) == set()

    await _eventually(settled)
    download = await client.get(added.headers["Location"] + "/content", headers=AGENT)
    assert download.status_code == 200 and download.content == b"%PDF-1.7 passport"
    assert len(await _files(store)) == 1
