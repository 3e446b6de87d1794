"""Completing several records of one account in one all-or-nothing update, without transactions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from icsuite_chassis.testing import bearer, eventually
from icsuite_contracts.testing import unique_id

pytestmark = [pytest.mark.integration]
AGENT = bearer("a-17", "agent")


async def _records(service, account_id: str, n: int) -> list[str]:
    ids = []
    for _ in range(n):
        response = await service.client.post("/v1/interactions", headers=AGENT,
                                             json={"channel": "letter", "account_id": account_id})
        ids.append(response.json()["interaction_id"])
    return ids


async def _statuses(service, ids: list[str]) -> list[str]:
    return [(await service.get(i)).json()["status"] for i in ids]


def _bulk(account_id: str, ids: list[str]) -> dict:
    return {"account_id": account_id, "interaction_ids": ids, "outcome": "resolved", "reason_code": "move_in"}


async def test_bulk_completion_closes_every_record_of_the_account(service) -> None:
    account_id = unique_id("acc")
    ids = await _records(service, account_id, 3)
    response = await service.client.post("/v1/interactions/complete", json=_bulk(account_id, ids), headers=AGENT)
    assert response.status_code == 200, response.text
    assert response.json()["completed"] == ids
    assert await _statuses(service, ids) == ["closed"] * 3
    assert {(await service.get(i)).json()["reason_code"] for i in ids} == {"move_in"}
    assert await service.db.completions.count_documents({}) == 0


async def test_one_blocking_record_completes_none_and_every_blocker_is_named(service) -> None:
    account_id = unique_id("acc")
    ids = await _records(service, account_id, 2)
    [foreign] = await _records(service, unique_id("acc"), 1)
    [closed] = await _records(service, account_id, 1)
    await service.client.post(f"/v1/interactions/{closed}/complete", json={"outcome": "resolved"}, headers=AGENT)
    asked = [*ids, foreign, closed, "int-unknown"]
    response = await service.client.post("/v1/interactions/complete", json=_bulk(account_id, asked), headers=AGENT)
    assert response.status_code == 409
    assert response.json()["blocking"] == [
        {"interaction_id": foreign, "reason": "other_account"},
        {"interaction_id": closed, "reason": "closed"},
        {"interaction_id": "int-unknown", "reason": "not_found"},
    ]
    assert await _statuses(service, ids + [foreign]) == ["open"] * 3


async def test_a_record_that_changes_between_check_and_mark_undoes_the_marks(service) -> None:
    account_id = unique_id("acc")
    ids = await _records(service, account_id, 3)
    closer = service.app.state.services.closer
    original = closer.repo.mark

    async def racing_mark(interaction_id, *args):
        if interaction_id == ids[2]:  # another agent completes it after the check, before its mark
            await service.client.post(f"/v1/interactions/{ids[2]}/complete", json={"outcome": "x"}, headers=AGENT)
        return await original(interaction_id, *args)

    closer.repo.mark = racing_mark
    try:
        response = await service.client.post("/v1/interactions/complete", json=_bulk(account_id, ids), headers=AGENT)
    finally:
        closer.repo.mark = original
    assert response.status_code == 409 and response.json()["blocking"] == [{"interaction_id": ids[2], "reason": "closed"}]
    assert await _statuses(service, ids) == ["open", "open", "closed"]
    assert await service.db.interactions.count_documents({"_id": {"$in": ids}, "_completion": {"$ne": None}}) == 0
    note = await service.client.post(f"/v1/interactions/{ids[0]}/notes", headers=AGENT,
                                     json={"type": "note", "language": "en", "text": "still open"})
    assert note.status_code == 201


async def test_a_marked_record_refuses_changes_and_a_stale_committed_completion_is_rolled_forward(service) -> None:
    account_id = unique_id("acc")
    ids = await _records(service, account_id, 2)
    closer = service.app.state.services.closer
    long_ago = datetime.now(UTC) - timedelta(hours=1)
    intent = {"_id": "tok-crashed", "account_id": account_id, "interaction_ids": ids, "outcome": "resolved",
              "result": None, "reason_code": None, "closed_by": "a-17", "closed_at": long_ago, "state": "committed",
              "created_at": long_ago}
    await service.db.completions.insert_one(intent)  # a completion that crashed after its commit
    for interaction_id in ids:
        assert await closer.repo.mark(interaction_id, account_id, "tok-crashed", long_ago)
    refused = await service.client.post(f"/v1/interactions/{ids[0]}/notes", headers=AGENT,
                                        json={"type": "note", "language": "en", "text": "x"})
    assert refused.status_code == 409 and "being completed" in refused.json()["detail"]
    await eventually(lambda: _all_closed(service, ids), timeout=10)  # the recovery job finishes it
    assert await service.db.completions.count_documents({"_id": "tok-crashed"}) == 0


async def _all_closed(service, ids):
    statuses = await _statuses(service, ids)
    assert statuses == ["closed"] * len(ids), statuses
    return True
