"""A rebuild of the projection of interactions (``interaction_sources``) reproduces the live one: a merge's
moves (from the projection writer's correction log, in order with an unmerge) and an erasure (the erased
accounts' notes stay erased, by the service's marker) - the topic carries neither, and keeps the notes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from icsuite_chassis.erasure import ERASED
from icsuite_chassis.replay import topic_replay
from icsuite_chassis.testing import eventually, publish_envelopes, running_app, start_consumers_at_the_end, unique
from icsuite_contracts.account_merges_v1 import AccountMerged, AccountUnmerged
from icsuite_contracts.cloudevents import new_envelope
from icsuite_contracts.interactions_v1 import TOPIC, InteractionOpened, NoteAdded
from icsuite_contracts.privacy_v1 import ErasureRequested

from icsuite_followups.bootstrap import build_app

pytestmark = [pytest.mark.integration]
NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
SECRET = "Customer's new number +4930555777"


def interaction(account_id: str, text: str) -> tuple[str, list[Any]]:
    iid = unique("int")
    return iid, [new_envelope(InteractionOpened(interaction_id=iid, origin="contact", channel="phone",
                                                direction="inbound", account_id=account_id, opened_at=NOW),
                              source="/test"),
                 new_envelope(NoteAdded(interaction_id=iid, note_id=unique("n"), type="internal", language="en",
                                        text=text, author="a-1", created_at=NOW, account_id=account_id),
                              source="/test")]


async def sources(db: Any, ids: list[str]) -> dict[str, dict[str, Any]]:
    cursor = db["interaction_sources"].find({"_id": {"$in": ids}}, {"_applied": 0, "_version": 0})
    return {doc["_id"]: doc async for doc in cursor}


def summary(docs: dict[str, dict[str, Any]]) -> dict[str, tuple[str, list[str]]]:
    return {i: (doc["account_id"], [note["text"] for note in doc["notes"]]) for i, doc in docs.items()}


async def test_a_rebuild_keeps_merge_moves_unmerges_and_erased_notes(followups_settings, stack) -> None:
    app = build_app(followups_settings())
    await start_consumers_at_the_end(app, stack.kafka_bootstrap)
    a, b, c, d, e = (unique(f"acc-{name}") for name in "abcde")
    made = {account: interaction(account, text) for account, text in
            ((a, "a's note"), (b, "b's note"), (c, "c's note"), (d, "d's note"), (e, SECRET))}
    ids = [iid for iid, _ in made.values()]
    async with running_app(app) as _:
        db = app.state.runtime.db
        await publish_envelopes(stack.kafka_bootstrap, *(event for _, events in made.values() for event in events))

        async def accounts(wanted: dict[str, str]) -> bool:
            found = {i: doc.get("account_id") for i, doc in (await sources(db, ids)).items()}
            assert found == wanted, found
            return True

        await eventually(lambda: accounts({made[x][0]: x for x in (a, b, c, d, e)}), timeout=120)
        merged = [new_envelope(AccountMerged(merge_id=unique("mg"), source_account_id=src, target_account_id=dst,
                                             merged_by="sup-1", merged_at=NOW), source="/identity")
                  for src, dst in ((b, a), (c, d))]
        await publish_envelopes(stack.kafka_bootstrap, *merged)
        await eventually(lambda: accounts({made[a][0]: a, made[b][0]: a, made[c][0]: d, made[d][0]: d,
                                           made[e][0]: e}), timeout=60)
        c_into_d = merged[1].data
        await publish_envelopes(stack.kafka_bootstrap, new_envelope(AccountUnmerged(
            merge_id=c_into_d.merge_id, source_account_id=c, target_account_id=d, unmerged_by="sup-1",
            unmerged_at=NOW), source="/identity"), new_envelope(ErasureRequested(
                erasure_id=unique("er"), account_id=e, requested_by="admin-1", requested_at=NOW), source="/privacy"))
        await eventually(lambda: accounts({made[a][0]: a, made[b][0]: a, made[c][0]: c, made[d][0]: d,
                                           made[e][0]: e}), timeout=60)

        async def erased() -> bool:
            [note] = (await sources(db, [made[e][0]]))[made[e][0]]["notes"]
            assert note["text"] == ERASED, note
            return True

        await eventually(erased, timeout=60)
        live = await sources(db, ids)
        svc = app.state.service
        report = await svc.interactions.rebuild(topic_replay(stack.kafka_bootstrap, TOPIC,
                                                             key_ring=app.state.runtime.key_ring))
        rebuilt = await sources(db, ids)
        assert summary(rebuilt) == summary(live)
        assert rebuilt == live
        assert SECRET not in repr(rebuilt) and report.corrections >= 3  # two merges' moves, an unmerge's
