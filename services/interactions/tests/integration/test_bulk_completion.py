"""Completing several records of one account in one all-or-nothing update, without transactions."""

from __future__ import annotations

import asyncio

import pytest
from icsuite_chassis.testing import bearer, header, read_topic
from icsuite_chassis.store import MongoAggregateStore
from icsuite_contracts.testing import unique_id

from icsuite_interactions.domain.errors import CompletionBlocked
from icsuite_interactions.domain.rules import Actor, Completion
from icsuite_interactions.handlers import RecordCommands
from icsuite_interactions.repository import INTERACTIONS, RecordCodec

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


async def test_a_record_closed_between_the_check_and_the_write_is_named_and_the_rest_is_told(service) -> None:
    """Contention: another agent completes one record after the bulk completion read the records and before
    its one bulk write; that write loses its race for that record only, the record is decided again (closed
    now: not completed twice) and the answer names it beside those completed."""
    account_id = unique_id("acc")
    ids = await _records(service, account_id, 3)
    running = service.app.state.service
    store = MongoAggregateStore(service.db, INTERACTIONS, RecordCodec())  # this request's own, to race on
    commands = RecordCommands(store, running.records, running.attachments, clock=running.clock)

    async def racing_close() -> None:
        store.before_write = None
        raced = await service.client.post(f"/v1/interactions/{ids[2]}/complete", json={"outcome": "x"},
                                          headers=AGENT)
        assert raced.status_code == 200, raced.text

    store.before_write = racing_close
    with pytest.raises(CompletionBlocked) as blocked:
        await commands.complete_many(account_id, ids, Actor("a-17"), Completion("resolved"))
    assert blocked.value.extensions["blocking"] == [{"interaction_id": ids[2], "reason": "changed_concurrently"}]
    assert blocked.value.extensions["completed"] == ids[:2]
    assert [(await service.get(i)).json()["outcome"] for i in ids] == ["resolved", "resolved", "x"]


async def test_two_bulk_completions_of_the_same_records_close_each_once(service) -> None:
    account_id = unique_id("acc")
    ids = await _records(service, account_id, 4)
    first, second = await asyncio.gather(*(
        service.client.post("/v1/interactions/complete", json=_bulk(account_id, ids), headers=AGENT)
        for _ in range(2)))
    assert sorted([first.status_code, second.status_code])[0] == 200, (first.text, second.text)
    assert await _statuses(service, ids) == ["closed"] * 4
    closed = await read_topic(service.bootstrap, "ic.interactions.v1",
                              lambda r: r.key is not None and r.key.decode() in ids
                              and header(r, "ce_type") == "ic.interaction.closed.v1", expect=4, timeout=30)
    by_record = {r.key.decode(): set() for r in closed}
    for r in closed:
        by_record[r.key.decode()].add(header(r, "ce_id"))
    assert by_record.keys() == set(ids) and all(len(v) == 1 for v in by_record.values())  # one close each
