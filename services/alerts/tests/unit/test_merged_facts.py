"""Account facts through a merge and its unmerge: rules and the facts endpoint see the merge group's facts,
open callbacks and overdue follow-ups move with the merge and back, and the unmerge restores each account's
own facts exactly (also when a redelivered merge comes after it)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from icsuite_chassis.account_merge import apply_merge, apply_unmerge
from icsuite_contracts.account_merges_v1 import AccountMerged, AccountUnmerged
from icsuite_contracts.callbacks_v1 import CallbackCompleted, CallbackQueued
from icsuite_contracts.cloudevents import new_envelope
from icsuite_contracts.followups_v1 import FollowupOverdue
from icsuite_contracts.masterdata_v1 import BusinessAgreementUpserted
from icsuite_contracts.testing import sample_event

from icsuite_alerts.consumers import merge_movables
from icsuite_alerts.domain.merged_facts import combine
from icsuite_alerts.domain.facts import AccountState

pytestmark = pytest.mark.unit
T0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
SOURCE, TARGET = "acc-src", "acc-tgt"
MERGED = AccountMerged(merge_id="mg-1", source_account_id=SOURCE, target_account_id=TARGET, merged_by="sup-1",
                       merged_at=T0)
UNMERGED = AccountUnmerged(merge_id="mg-1", source_account_id=SOURCE, target_account_id=TARGET,
                           unmerged_by="sup-1", unmerged_at=T0)


def clock() -> datetime:
    return T0


def agreement(account_id: str, balance: str, dunning: int, agreement_id: str, version: int = 1):
    return new_envelope(BusinessAgreementUpserted(
        business_agreement_id=agreement_id, account_id=account_id, source_version=version, balance=Decimal(balance),
        currency="EUR", dunning_level=dunning, credit_status="good"), source="/test", time=T0 - timedelta(hours=1))


def about(model, account_id: str, **fields):
    data = sample_event(model).model_copy(update={"account_id": account_id, **fields})
    return new_envelope(data, source="/test", time=T0 - timedelta(minutes=30))


async def facts(svc, account_id: str) -> dict:
    return await svc.facts_now(account_id)


async def test_a_merge_group_answers_its_facts_together_and_the_unmerge_restores_each(make_service) -> None:
    svc = make_service(clock)
    movables = merge_movables(svc)
    records = svc.accounts.merges
    await svc.on_events([agreement(SOURCE, "40", 2, "ba-s"), agreement(TARGET, "10", 0, "ba-t"),
                         about(CallbackQueued, SOURCE, callback_id="cb-s1"),
                         about(CallbackQueued, SOURCE, callback_id="cb-s2"),
                         about(CallbackQueued, TARGET, callback_id="cb-t1"),
                         about(FollowupOverdue, SOURCE, followup_id="fu-s1")])
    before = {a: await facts(svc, a) for a in (SOURCE, TARGET)}
    assert (before[SOURCE]["balance"], before[SOURCE]["open_callbacks"], before[TARGET]["open_callbacks"]) == (40, 2, 1)

    await apply_merge(records, movables, MERGED, "ev-merge", clock)
    merged = await facts(svc, TARGET)
    assert (merged["balance"], merged["dunning_level"], merged["open_callbacks"], merged["overdue_followups"]) == (
        50.0, 2, 3, 1)
    assert await facts(svc, SOURCE) == merged  # the merged account answers as the surviving one
    stored = await svc.accounts.writer.store.get(TARGET)
    assert stored.state.open_callbacks == {"cb-s1", "cb-s2", "cb-t1"}  # moved: their later events name the target
    record = await records.get("mg-1")
    assert record.state.counts() == {"alerts": 0, "open_callbacks": 2, "overdue_followups": 1}

    # during the merge: a moved callback completes under the target, the source's agreement changes in the ERP
    await svc.on_events([about(CallbackCompleted, TARGET, callback_id="cb-s1"),
                         agreement(SOURCE, "45", 3, "ba-s", version=2)])
    during = await facts(svc, TARGET)
    assert (during["balance"], during["dunning_level"], during["open_callbacks"]) == (55.0, 3, 2)

    await apply_unmerge(records, movables, UNMERGED, "ev-unmerge", clock)
    await apply_merge(records, movables, MERGED, "ev-merge", clock)  # redelivered after its unmerge: nothing
    after = {a: await facts(svc, a) for a in (SOURCE, TARGET)}
    assert after[TARGET] == before[TARGET]
    assert after[SOURCE] == {**before[SOURCE], "balance": 45.0, "dunning_level": 3, "open_callbacks": 1}


async def test_a_rule_sees_the_merge_groups_facts(make_service) -> None:
    from icsuite_alerts.domain.rules import RuleSpec
    svc = make_service(clock)
    await svc.create_rule(RuleSpec(name="owes", triggers=("ic.masterdata.business-agreement-upserted.v1",),
                                   condition="facts.balance > 45.0", severity="info", message="owes",
                                   target="supervisors", dedupe_window_s=0), by="admin-1")
    await svc.on_events([agreement(SOURCE, "40", 0, "ba-s"), agreement(TARGET, "10", 0, "ba-t")])
    assert not svc.alerts.documents
    await apply_merge(svc.accounts.merges, merge_movables(svc), MERGED, "ev-merge", clock)
    await svc.on_events([agreement(SOURCE, "41", 0, "ba-s", version=2)])
    assert [doc["account_id"] for doc in svc.alerts.documents.values()] == [SOURCE]  # the account the event names
    await apply_unmerge(svc.accounts.merges, merge_movables(svc), UNMERGED, "ev-unmerge", clock)
    await svc.on_events([agreement(SOURCE, "42", 0, "ba-s", version=3)])
    assert len(svc.alerts.documents) == 1


def test_combine_keeps_the_newer_snapshot_of_an_agreement_and_each_contact_once() -> None:
    a = AccountState(agreements={"ba-1": {"v": 1, "balance": 1.0}}, flags=("vip",),
                     contacts=(("c-1", T0), ("c-2", T0 + timedelta(minutes=1))))
    b = AccountState(agreements={"ba-1": {"v": 2, "balance": 2.0}}, flags=("vip", "hardship"),
                     contacts=(("c-2", T0 + timedelta(minutes=1)), ("c-3", T0 - timedelta(minutes=1))),
                     last_outcome="resolved", last_outcome_at=T0)
    both = combine([a, b])
    assert both.agreements == {"ba-1": {"v": 2, "balance": 2.0}} and both.flags == ("vip", "hardship")
    assert [ref for ref, _ in both.contacts] == ["c-3", "c-1", "c-2"] and both.last_outcome == "resolved"
