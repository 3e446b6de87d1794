"""A rebuild of the timeline reproduces the live one, not the topic's history (issue 21 with issue 15's rebuild).

On the real stack: records of five accounts, the old closed ones purged by a 30-day retention (the service's
clock moved on), account B merged into A, account C merged into D and unmerged, account E erased. The topic
still holds every purged record's events and knows nothing of the merges; the rebuild folds the timeline's
correction log (purges, merge moves) in order after its replay, so the rebuilt entries equal the live ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pytest
from icsuite_chassis.testing import (
    SettableClock,
    bearer,
    eventually,
    publish_envelopes,
    running_app,
    start_consumers_at_the_end,
    unique,
)
from icsuite_contracts.account_merges_v1 import AccountMerged, AccountUnmerged
from icsuite_contracts.cloudevents import new_envelope
from icsuite_contracts.privacy_v1 import ErasureRequested

from icsuite_interactions.bootstrap import build_app
from icsuite_interactions.rebuild import rebuild_timeline

from .conftest import service_settings

pytestmark = [pytest.mark.integration]
AGENT = bearer("a-17", "agent")
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
NOTE = "Customer said: call me on +4930555123 after six"


async def record(client: Any, account_id: str, *, close: bool, note: str | None = None) -> str:
    response = await client.post("/v1/interactions", json={"channel": "walk_in", "account_id": account_id},
                                 headers=AGENT)
    assert response.status_code == 201, response.text
    interaction_id = str(response.json()["interaction_id"])
    if note is not None:
        assert (await client.post(f"/v1/interactions/{interaction_id}/notes", headers=AGENT,
                                  json={"type": "note", "language": "en", "text": note})).status_code == 201
    if close:
        assert (await client.post(f"/v1/interactions/{interaction_id}/complete", headers=AGENT,
                                  json={"outcome": "resolved"})).status_code == 200
    return interaction_id


async def entries(db: Any, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    cursor = db["timeline"].find({"_id": {"$in": list(ids)}}, {"_applied": 0, "_version": 0})
    return {doc["_id"]: doc async for doc in cursor}


def merge_event(merge_id: str, source: str, target: str, at: datetime) -> Any:
    return new_envelope(AccountMerged(merge_id=merge_id, source_account_id=source, target_account_id=target,
                                      merged_by="sup-1", merged_at=at), source="/identity")


def unmerge_event(merge_id: str, source: str, target: str, at: datetime) -> Any:
    return new_envelope(AccountUnmerged(merge_id=merge_id, source_account_id=source, target_account_id=target,
                                        unmerged_by="sup-1", unmerged_at=at), source="/identity")


async def accounts_of(db: Any, wanted: dict[str, str]) -> bool:
    found = {i: doc.get("account_id") for i, doc in (await entries(db, list(wanted))).items()}
    assert found == wanted, found
    return True


async def test_a_rebuild_keeps_purges_merges_unmerges_and_erasures(stack: Any) -> None:
    clock = SettableClock(T0)
    settings = service_settings(stack, closed_interaction_retention_days=30, retention_interval_s=0.3)
    app = build_app(settings, clock=clock)
    await start_consumers_at_the_end(app, stack.kafka_bootstrap)
    a, b, c, d, e = (unique(f"acc-{name}") for name in "abcde")
    async with running_app(app) as client:
        db = app.state.runtime.db
        old = [await record(client, a, close=True), await record(client, b, close=True, note="old")]
        open_a, open_b = await record(client, a, close=False), await record(client, b, close=False, note="open")
        closed_c, closed_d = await record(client, c, close=True), await record(client, d, close=True)
        erased = await record(client, e, close=True, note=NOTE)
        await eventually(lambda: accounts_of(db, {old[0]: a, old[1]: b, open_a: a, open_b: b, closed_c: c,
                                                  closed_d: d, erased: e}), timeout=120)
        clock.advance(days=31)  # the old ones, and c's, d's and e's records, are past retention
        recent_b = await record(client, b, close=True)

        async def purged() -> bool:
            left = await entries(db, [*old, closed_c, closed_d, erased, recent_b])
            assert set(left) == {recent_b}, left
            return True

        await eventually(purged, timeout=60)
        again = [await record(client, c, close=True), await record(client, d, close=False),
                 await record(client, e, close=True, note=NOTE)]
        closed_c, open_d, erased = again
        # the merges come once the new records are on the timeline; an entry the timeline gets only after a
        # merge moved it is covered by the projection writer's contract test (late events under an assignment)
        await eventually(lambda: accounts_of(db, {closed_c: c, open_d: d, erased: e}), timeout=120)
        now = clock.now
        await publish_envelopes(stack.kafka_bootstrap, merge_event("mg-" + b, b, a, now),
                                merge_event("mg-" + c, c, d, now))
        await eventually(lambda: accounts_of(db, {open_a: a, open_b: a, recent_b: a, closed_c: d, open_d: d}),
                         timeout=60)
        await publish_envelopes(stack.kafka_bootstrap, unmerge_event("mg-" + c, c, d, now),
                                new_envelope(ErasureRequested(erasure_id=unique("er"), account_id=e,
                                                              requested_by="admin-1", requested_at=now),
                                             source="/privacy"))
        await eventually(lambda: accounts_of(db, {closed_c: c, open_d: d, erased: e}), timeout=60)

        async def erased_record() -> bool:
            body = (await client.get(f"/v1/interactions/{erased}", headers=AGENT)).text
            assert NOTE not in body and "[erased]" in body, body
            return True

        await eventually(erased_record, timeout=60)
        ids = [*old, open_a, open_b, recent_b, closed_c, open_d, erased, closed_d]
        truth = {open_a: a, open_b: a, recent_b: a, closed_c: c, open_d: d, erased: e}
        await eventually(lambda: accounts_of(db, truth), timeout=60)  # every late event of the moves applied
        live = await entries(db, ids)
        assert set(live) == {open_a, open_b, recent_b, closed_c, open_d, erased}
        report = await rebuild_timeline(db, stack.kafka_bootstrap, "timeline", key_ring=app.state.runtime.key_ring)
        rebuilt = await entries(db, ids)
        assert {i: doc["account_id"] for i, doc in rebuilt.items()} == {i: doc["account_id"] for i, doc in live.items()}
        assert rebuilt == live
        assert report.events > 0 and report.corrections >= 4  # two purges, two merges' moves, an unmerge's
        assert NOTE not in repr(rebuilt[erased]) and rebuilt[erased]["note_count"] == 1
