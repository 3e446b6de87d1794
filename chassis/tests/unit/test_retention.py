"""The retention purge: only what the rule's filter names as done and past the cutoff goes, in bounded
batches, with what refers to it, and it is counted in ``ic_retention_purged_total{kind}``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from icsuite_chassis.metrics import RETENTION_PURGED
from icsuite_chassis.retention import RetentionRule, purge_expired
from icsuite_chassis.store import Change, InMemoryAggregateStore

pytestmark = pytest.mark.unit
NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Case:
    status: str
    closed_at: datetime | None


class CaseCodec:
    def encode(self, state: Case) -> dict[str, Any]:
        return {"status": state.status, "closed_at": state.closed_at}

    def decode(self, doc: Mapping[str, Any]) -> Case:
        return Case(doc["status"], doc.get("closed_at"))


def closed_before(cutoff: datetime) -> dict[str, Any]:
    return {"status": "closed", "closed_at": {"$lt": cutoff}}


async def a_store(cases: dict[str, Case]) -> InMemoryAggregateStore[Case]:
    store: InMemoryAggregateStore[Case] = InMemoryAggregateStore("cases", CaseCodec())
    for case_id, case in cases.items():
        await store.change(case_id, lambda _, case=case: Change(case))
    return store


def purged_count(kind: str) -> float:
    return RETENTION_PURGED.labels(kind)._value.get()


async def test_old_closed_records_go_open_and_recent_ones_stay_and_references_follow() -> None:
    old, recent = NOW - timedelta(days=40), NOW - timedelta(days=5)
    store = await a_store({"old-1": Case("closed", old), "old-2": Case("closed", old),
                           "recent": Case("closed", recent), "open": Case("open", None)})
    forgotten: list[str] = []

    async def forget(ids: Sequence[Any]) -> None:
        forgotten.extend(ids)

    before = purged_count("unit_cases")
    purged = await purge_expired([RetentionRule("unit_cases", store, closed_before, 30, also=forget)], NOW,
                                 batch_size=1, max_batches=10)
    assert purged == {"unit_cases": 2}
    assert sorted(store.documents) == ["open", "recent"]
    assert sorted(forgotten) == ["old-1", "old-2"]
    assert purged_count("unit_cases") - before == 2


async def test_a_round_is_bounded_by_its_batches() -> None:
    old = NOW - timedelta(days=40)
    store = await a_store({f"c{i}": Case("closed", old) for i in range(7)})
    rule = RetentionRule("unit_bounded", store, closed_before, 30)
    assert await purge_expired([rule], NOW, batch_size=2, max_batches=2) == {"unit_bounded": 4}
    assert len(store.documents) == 3
    assert await purge_expired([rule], NOW, batch_size=2, max_batches=2) == {"unit_bounded": 3}
    assert store.documents == {}


async def test_a_crash_between_the_references_and_the_records_leaves_nothing_behind() -> None:
    """References go first: if the round dies before its records are deleted, the next round finds the same
    records and purges them with their references again - no reference outlives its record."""
    old = NOW - timedelta(days=40)
    store = await a_store({"old-1": Case("closed", old), "old-2": Case("closed", old)})
    references = {"old-1", "old-2"}
    crash = True

    async def forget(ids: Sequence[Any]) -> None:
        references.difference_update(ids)
        if crash:
            raise RuntimeError("the process died here")

    rule = RetentionRule("unit_crash", store, closed_before, 30, also=forget)
    with pytest.raises(RuntimeError):
        await purge_expired([rule], NOW, batch_size=10, max_batches=1)
    assert sorted(store.documents) == ["old-1", "old-2"]  # the records stay, so a later round finds them
    crash = False
    references.update({"old-1", "old-2"})  # even if the forgetting had not been stored
    assert await purge_expired([rule], NOW, batch_size=10, max_batches=1) == {"unit_crash": 2}
    assert store.documents == {} and references == set()
