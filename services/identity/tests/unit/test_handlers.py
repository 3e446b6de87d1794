"""The use cases on in-memory stores: replication, identification, confirmation and account creation."""

from __future__ import annotations

import asyncio
import random
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from icsuite_contracts.callback_requests_v1 import CallbackRequested
from icsuite_contracts.cloudevents import new_envelope
from icsuite_contracts.contacts_v1 import ContactSegmentRecorded, ContactStarted

from icsuite_identity import handlers
from icsuite_identity.domain.context import Actor
from icsuite_identity.domain.errors import (
    AmbiguousAccount,
    ContactNotReported,
    DuplicateAccount,
    Mismatch,
    NotTheContactsAgent,
    UnknownReference,
)
from icsuite_identity.domain.keys import phone_key
from icsuite_identity.domain.ranking import SearchCriteria

from .conftest import account, agreement, premise, redelivered

pytestmark = pytest.mark.unit
PHONE, OTHER = "+4930111111", "+4930222222"


def started(contact_id: str, from_address: str, **fields):
    data = ContactStarted(contact_id=contact_id, channel=fields.pop("channel", "phone"), direction="inbound",
                          from_address=from_address, started_at=datetime(2026, 12, 1, 8, 59, tzinfo=UTC), **fields)
    return new_envelope(data, source="/test/cti", correlation_id=contact_id)


async def contact(harness, envelope):
    await handlers.on_contact_started(harness.svc, envelope.data, envelope)


def segment(contact_id: str, agent_id: str | None, number: int = 1):
    data = ContactSegmentRecorded(contact_id=contact_id, segment_id=f"{contact_id}-{number}",
                                  kind="agent" if agent_id else "ivr", agent_id=agent_id,
                                  started_at=datetime(2026, 12, 1, 8, 59, tzinfo=UTC))
    return new_envelope(data, source="/test/cti", correlation_id=contact_id)


async def report(harness, contact_id: str, agent_id: str | None = "a-1", number: int = 1):
    envelope = segment(contact_id, agent_id, number)
    await handlers.on_contact_segment(harness.svc, envelope.data, envelope)


def confirming(contact_id: str, account_id: str, agent_id: str = "a-1", *, supervisor: bool = False, **fields):
    return handlers.ConfirmContext(**{"contact_id": contact_id, "account_id": account_id, "business_agreement_id": None,
                                      "premise_id": None, "method": "agent_search",
                                      "actor": Actor(agent_id, supervisor), **fields})


async def test_snapshots_in_any_order_end_at_the_newest_and_lookups_follow(harness):
    for order in ([1, 2, 3], [3, 2, 1], [2, 3, 1]):
        account_id = f"acc-{''.join(map(str, order))}"
        snapshots = {v: account(account_id, v, name=f"Name V{v}", phones=[f"+49301000{v}{order[0]}"]) for v in (1, 2, 3)}
        await harness.replicate(*(snapshots[v] for v in order), snapshots[order[0]])
        stored = await harness.svc.reads.account(account_id)
        assert (stored.source_version, stored.name) == (3, "Name V3")
        assert [a.account_id for a in await harness.svc.reads.by_phone(f"+49301000{3}{order[0]}")] == [account_id]
        assert await harness.svc.reads.by_phone(f"+49301000{1}{order[0]}") == []
        assert await harness.svc.reads.ids_of(phone_key(f"+49301000{1}{order[0]}")) == []  # unlisted, not stale


async def test_a_batch_of_snapshots_chains_them_and_unlists_every_key_taken_away(harness):
    await harness.replicate(account("acc-1", 1, phones=["+4930100001"]))
    await harness.replicate(account("acc-1", 2, phones=["+4930100002"]), account("acc-1", 4, phones=["+4930100004"]),
                            account("acc-1", 3, phones=["+4930100003"]), agreement("ba-1", "acc-1"), batch=True)
    assert (await harness.svc.reads.account("acc-1")).source_version == 4
    for version in (1, 2, 3):
        assert await harness.svc.reads.ids_of(phone_key(f"+493010000{version}")) == []
    assert await harness.svc.reads.ids_of(phone_key("+4930100004")) == ["acc-1"]
    assert [a.business_agreement_id for a in (await harness.svc.reads.summary("acc-1")).agreements] == ["ba-1"]


async def test_a_crash_between_the_record_and_its_lookups_is_repaired_by_the_redelivery(harness):
    snapshot = account("acc-1", 1, phones=[PHONE])
    lookups = harness.svc.stores.lookups

    async def crash() -> None:
        raise ConnectionError("the process died here")

    lookups.before_write = crash
    with pytest.raises(ConnectionError):
        await harness.replicate(snapshot)
    assert await harness.svc.reads.by_phone(PHONE) == []  # the account is stored, its lookup is not
    lookups.before_write = None
    await harness.replicate(redelivered(snapshot))
    assert [a.account_id for a in await harness.svc.reads.by_phone(PHONE)] == ["acc-1"]


async def test_summary_has_the_newest_agreements_and_premises(harness):
    await harness.replicate(account("acc-1"), agreement("ba-1", "acc-1", 2, balance="50.00"),
                            agreement("ba-1", "acc-1", 1, balance="10.00"),
                            premise("pr-1", 1, account_ids=["acc-1"], agreement_ids=["ba-1"]))
    summary = await harness.svc.reads.summary("acc-1")
    assert [(a.business_agreement_id, a.balance) for a in summary.agreements] == [("ba-1", "50.00")]
    assert [p.premise_id for p in summary.premises] == ["pr-1"]


async def test_one_match_is_identified_and_emitted_once_even_when_redelivered(harness):
    await harness.replicate(account("acc-1", phones=[PHONE]))
    envelope = started("ct-1", "030 111111")
    await contact(harness, envelope)
    await contact(harness, redelivered(envelope))
    [event] = harness.published()
    assert (event.data.account_id, event.data.method, event.data.confirmed) == ("acc-1", "auto_number", False)
    assert event.causation_id == envelope.id and event.correlation_id == "ct-1"
    context = (await harness.svc.stores.contexts.get("ct-1")).state
    assert (context.account_id, context.automatic.outcome) == ("acc-1", "identified")


async def test_several_matches_are_candidates_and_none_or_a_handle_emit_nothing(harness):
    await harness.replicate(account("acc-a", phones=[PHONE], name="A"), account("acc-b", phones=[PHONE], name="B"))
    await contact(harness, started("ct-amb", PHONE))
    await contact(harness, started("ct-none", OTHER))
    await contact(harness, started("ct-chat", "visitor-42", channel="chat"))
    assert harness.published() == []
    contexts = harness.svc.stores.contexts
    assert (await contexts.get("ct-amb")).state.automatic.candidates == ("acc-a", "acc-b")
    assert (await contexts.get("ct-none")).state.automatic.outcome == "not_found"
    assert (await contexts.get("ct-chat")).state.automatic.outcome == "not_attempted"


async def test_an_account_hint_wins_when_the_account_exists(harness):
    await harness.replicate(account("acc-1", phones=[PHONE]), account("acc-2"))
    await contact(harness, started("ct-1", PHONE, account_hint="acc-2"))
    await contact(harness, started("ct-2", PHONE, account_hint="acc-missing"))
    assert [(e.data.contact_id, e.data.account_id, e.data.method) for e in harness.published()] == [
        ("ct-1", "acc-2", "customer_provided"), ("ct-2", "acc-1", "auto_number")]


async def test_a_confirmation_is_not_overridden_by_a_late_automatic_identification(harness):
    await harness.replicate(account("acc-1", phones=[PHONE]), account("acc-2"))
    await report(harness, "ct-1")
    await handlers.confirm_context(harness.svc, confirming("ct-1", "acc-2"))
    await contact(harness, started("ct-1", PHONE))
    [event] = harness.published()
    assert (event.data.account_id, event.data.confirmed, event.data.agent_id) == ("acc-2", True, "a-1")
    context = (await harness.svc.stores.contexts.get("ct-1")).state
    assert (context.account_id, context.automatic.account_id) == ("acc-2", "acc-1")


async def test_a_confirmation_checks_that_the_objects_exist_and_belong_together(harness):
    await harness.replicate(account("acc-1"), account("acc-2"), agreement("ba-2", "acc-2"),
                            premise("pr-2", account_ids=["acc-2"]))
    await report(harness, "ct-1")

    def confirm(**fields):
        return handlers.confirm_context(harness.svc, confirming(**{"contact_id": "ct-1", "account_id": "acc-1",
                                                                   **fields}))

    for fields, error, field in (({"account_id": "acc-x"}, UnknownReference, "account_id"),
                                 ({"business_agreement_id": "ba-x"}, UnknownReference, "business_agreement_id"),
                                 ({"business_agreement_id": "ba-2"}, Mismatch, "business_agreement_id"),
                                 ({"premise_id": "pr-2"}, Mismatch, "premise_id")):
        with pytest.raises(error) as refused:
            await confirm(**fields)
        assert refused.value.extensions["field"] == field
    assert (await harness.svc.stores.contexts.get("ct-1")).state.confirmed is None and harness.published() == []
    stored = await confirm(account_id="acc-2", business_agreement_id="ba-2", premise_id="pr-2")
    assert [c.premise_id for c in stored.state.history] == ["pr-2"]


async def test_a_context_is_set_only_for_a_reported_contact_by_its_agent_or_a_supervisor(harness):
    await harness.replicate(account("acc-1"))
    with pytest.raises(ContactNotReported):
        await handlers.confirm_context(harness.svc, confirming("ct-phantom", "acc-1", supervisor=True))
    assert await harness.svc.stores.contexts.get("ct-phantom") is None and harness.published() == []
    await report(harness, "ct-1", agent_id=None)  # the IVR: reported, no agent yet
    with pytest.raises(NotTheContactsAgent):
        await handlers.confirm_context(harness.svc, confirming("ct-1", "acc-1", "a-1"))
    transferred = segment("ct-1", "a-2", 2)
    for envelope in (segment("ct-1", "a-1", 1), transferred, redelivered(transferred)):
        await handlers.on_contact_segment(harness.svc, envelope.data, envelope)
    assert (await harness.svc.stores.contexts.get("ct-1")).state.agent_ids == ("a-1", "a-2")
    with pytest.raises(NotTheContactsAgent):
        await handlers.confirm_context(harness.svc, confirming("ct-1", "acc-1", "a-3"))
    assert harness.published() == []
    for agent_id, supervisor in (("a-2", False), ("s-1", True)):
        await handlers.confirm_context(harness.svc, confirming("ct-1", "acc-1", agent_id, supervisor=supervisor))
    assert [e.data.agent_id for e in harness.published()] == ["a-2", "s-1"]


async def test_a_callback_caller_is_looked_up_once(harness):
    await harness.replicate(account("acc-1", phones=[PHONE]))
    request = new_envelope(CallbackRequested(request_id="cbr-1", callback_number=PHONE, channel="web"), source="/t")
    named = new_envelope(CallbackRequested(request_id="cbr-2", callback_number=PHONE, channel="web",
                                           account_id="acc-1"), source="/t")
    for envelope in (request, redelivered(request), named):
        await handlers.on_callback_requested(harness.svc, envelope.data, envelope)
    [event] = harness.published()
    assert (event.data.request_id, event.data.account_id, event.data.candidates) == ("cbr-1", "acc-1", ["acc-1"])
    assert await harness.svc.stores.caller_lookups.get("cbr-2") is None


def create(name="Ana Núñez", phones=("030 333333",), emails=("ana@example.org",)):
    return handlers.CreateAccount(kind="person", name=name, phones=list(phones), emails=list(emails), address=None,
                                  actor=Actor("a-1"))


async def test_creating_an_account_stores_it_indexes_it_and_emits_once(harness):
    created = await handlers.create_account(harness.svc, create())
    [event] = harness.published()
    assert (event.type, event.data.account_id, event.data.created_by) == (
        "ic.identity.account-created.v1", created.account_id, "a-1")
    assert [a.account_id for a in await harness.svc.reads.by_email("ana@example.org")] == [created.account_id]


async def test_probable_duplicates_are_refused_naming_them(harness):
    await harness.replicate(account("acc-1", name="Ana Nunez", phones=["030 333333"]))
    with pytest.raises(DuplicateAccount) as same_phone_and_name:
        await handlers.create_account(harness.svc, create(emails=()))
    assert same_phone_and_name.value.duplicates == ["acc-1"]
    first = await handlers.create_account(harness.svc, create(name="Pablo", phones=()))
    with pytest.raises(DuplicateAccount) as same_email:
        await handlers.create_account(harness.svc, create(name="Other", phones=()))
    assert same_email.value.extensions["duplicates"] == [first.account_id]


async def test_simultaneous_creations_of_one_customer_create_one_account(harness):
    harness.svc.stores.creation_claims.before_write = lambda: asyncio.sleep(random.uniform(0, 0.002))
    answers = await asyncio.gather(*(handlers.create_account(harness.svc, create()) for _ in range(8)),
                                   return_exceptions=True)
    created = [a for a in answers if not isinstance(a, BaseException)]
    refused = [a for a in answers if isinstance(a, DuplicateAccount)]
    assert len(created) == 1 and len(refused) == 7, answers
    assert {r.account_id for r in refused} == {created[0].account_id}


async def test_a_failed_creation_gives_its_claims_back(harness):
    async def unreachable() -> None:
        raise ConnectionError("database unreachable")

    harness.svc.stores.accounts.before_write = unreachable
    with pytest.raises(ConnectionError):
        await handlers.create_account(harness.svc, create())
    harness.svc.stores.accounts.before_write = None
    created = await handlers.create_account(harness.svc, create())
    assert await harness.svc.reads.account(created.account_id) is not None


async def test_search_ranks_identifiers_then_names(harness):
    await harness.replicate(account("acc-1", phones=[PHONE], name="Erika Mustermann"),
                            account("acc-2", name="Erika Schmidt"))
    ranked, _ = await harness.svc.search.search(SearchCriteria(name="Erika Mustermann", postcode="10115"))
    assert [(c.account_id, c.matched_by) for c in ranked] == [("acc-1", ["name_exact", "name"]), ("acc-2", ["name"])]


async def test_a_business_agreement_or_premise_confirmed_alone_derives_its_one_account(harness):
    await harness.replicate(account("acc-1"), account("acc-2"), agreement("ba-1", "acc-1"),
                            premise("pr-1", account_ids=["acc-1"], agreement_ids=["ba-1"]),
                            premise("pr-shared", account_ids=["acc-1", "acc-2"]),
                            premise("pr-by-agreement", agreement_ids=["ba-1"]))
    await report(harness, "ct-1")
    for fields, account_id in (({"business_agreement_id": "ba-1"}, "acc-1"), ({"premise_id": "pr-1"}, "acc-1"),
                               ({"premise_id": "pr-by-agreement"}, "acc-1")):
        stored = await handlers.confirm_context(harness.svc, confirming("ct-1", None, **fields))
        assert stored.state.confirmed.account_id == account_id
    with pytest.raises(AmbiguousAccount) as several:
        await handlers.confirm_context(harness.svc, confirming("ct-1", None, premise_id="pr-shared"))
    assert several.value.extensions["candidates"] == ["acc-1", "acc-2"]
    assert [e.data.account_id for e in harness.published()] == ["acc-1"] * 3


async def test_premises_are_found_by_postcode_and_by_business_agreement(harness):
    await harness.replicate(premise("pr-1", agreement_ids=["ba-1"], street="Hauptstraße 5"),
                            premise("pr-2", street="Lindenweg 1"), premise("pr-3", postcode="20095"))
    assert [p.premise_id for p in await harness.svc.reads.premises_in("10115")] == ["pr-1", "pr-2"]
    assert [p.premise_id for p in await harness.svc.reads.premises_under("ba-1")] == ["pr-1"]
    await harness.replicate(premise("pr-1", 2, street="Hauptstraße 5"))  # no longer under ba-1
    assert await harness.svc.reads.premises_under("ba-1") == []


async def test_a_duplicate_is_created_when_allowed_and_linked_to_the_contact_as_confirmed(harness):
    await harness.replicate(account("acc-1", name="Ana Nunez", phones=["030 333333"]))
    await report(harness, "ct-1")
    with pytest.raises(DuplicateAccount):
        await handlers.create_account(harness.svc, create(emails=()))
    insisted = replace(create(emails=()), allow_duplicate=True, contact_id="ct-1")
    created = await handlers.create_account(harness.svc, insisted)
    context = (await harness.svc.stores.contexts.get("ct-1")).state
    assert (context.confirmed.account_id, context.confirmed.agent_id) == (created.account_id, "a-1")
    assert [(e.type, e.data.account_id) for e in harness.published()] == [
        ("ic.identity.account-created.v1", created.account_id), ("ic.identity.contact-identified.v1", created.account_id)]
    with pytest.raises(NotTheContactsAgent):  # checked before anything is created
        await handlers.create_account(harness.svc, replace(insisted, actor=Actor("a-9")))
    with pytest.raises(ContactNotReported):
        await handlers.create_account(harness.svc, replace(insisted, contact_id="ct-phantom"))
    assert harness.published() == []


async def test_a_name_with_typing_errors_is_found_below_exact_matches(harness):
    await harness.replicate(account("acc-typo", name="Erika Mustermann"), account("acc-exact", name="Erika Musterman"),
                            account("acc-other", name="Erika Schmidt"), account("acc-far", name="Erika Mustermann",
                                                                                 postcode="20095"))
    ranked, _ = await harness.svc.search.search(SearchCriteria(name="Erika Musterman", postcode="10115"))
    assert [(c.account_id, c.matched_by) for c in ranked] == [
        ("acc-exact", ["name_exact", "name"]), ("acc-typo", ["name", "name_similar"]), ("acc-other", ["name"])]
    ranked, _ = await harness.svc.search.search(SearchCriteria(name="Mustremann", postcode="10115"))
    assert [c.account_id for c in ranked][:1] == ["acc-typo"]
    await harness.replicate(account("acc-typo", 2, name="Erika Mustermann", postcode="20095"))  # moved away
    ranked, _ = await harness.svc.search.search(SearchCriteria(name="Erika Musterman", postcode="10115"))
    assert "acc-typo" not in [c.account_id for c in ranked]


async def test_a_batch_of_contact_events_is_one_write_per_contact_and_redelivery_changes_nothing(harness):
    await harness.replicate(account("acc-1", phones=[PHONE]))
    batch = [started("ct-1", PHONE), segment("ct-1", None, 1), segment("ct-1", "a-1", 2), started("ct-2", OTHER)]
    await handlers.on_contact_events(harness.svc, batch)
    first = await harness.svc.stores.contexts.get("ct-1")
    assert (first.state.account_id, first.state.agent_ids, first.version) == ("acc-1", ("a-1",), 1)
    await handlers.on_contact_events(harness.svc, [redelivered(e) for e in batch])
    assert (await harness.svc.stores.contexts.get("ct-1")).version == 1
    assert [(e.data.contact_id, e.data.account_id) for e in harness.published()] == [("ct-1", "acc-1")]
