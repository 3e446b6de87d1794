"""Events in: master-data snapshots, contacts and callback requests, and what identity makes of them."""

from __future__ import annotations

from collections.abc import Sequence

from icsuite_chassis.store import Item
from icsuite_contracts.callback_requests_v1 import CallbackRequested
from icsuite_contracts.cloudevents import Envelope
from icsuite_contracts.contacts_v1 import ContactSegmentRecorded, ContactStarted
from icsuite_contracts.identity_v1 import CallerIdentified
from icsuite_contracts.masterdata_v1 import AccountUpserted, BusinessAgreementUpserted, PremiseUpserted

from ..domain.callers import caller_lookup, decide_caller
from ..domain.context import ContactContext, ReportedContact, decide_automatic, decide_segment, identify_automatically
from ..domain.normalize import ContactAddress, classify_contact_address, try_phone_to_e164
from ..projections.masterdata import index
from .service import IdentityService, caused_by


SNAPSHOT_KINDS = {AccountUpserted.ce_type: "accounts", BusinessAgreementUpserted.ce_type: "agreements",
                  PremiseUpserted.ce_type: "premises"}


async def on_snapshots(svc: IdentityService, envelopes: Sequence[Envelope]) -> None:
    """Project a batch of master-data snapshots, then bring the records' lookups in line with them."""
    for kind, run in _runs_of_one_kind(envelopes):
        outcomes = await svc.replicas[kind].apply(run)
        await index(svc.stores.lookups, [o.stored for o in outcomes if o.stored is not None])


def _runs_of_one_kind(envelopes: Sequence[Envelope]) -> list[tuple[str, list[Envelope]]]:
    """The batch cut where the kind changes, so snapshots are applied in the order they came."""
    runs: list[tuple[str, list[Envelope]]] = []
    for envelope in envelopes:
        kind = SNAPSHOT_KINDS[envelope.type]
        if runs and runs[-1][0] == kind:
            runs[-1][1].append(envelope)
        else:
            runs.append((kind, [envelope]))
    return runs


async def on_snapshot(svc: IdentityService, envelope: Envelope) -> None:
    await on_snapshots(svc, [envelope])


async def on_contact_started(svc: IdentityService, event: ContactStarted, envelope: Envelope) -> None:
    await on_contact_events(svc, [envelope])


async def on_contact_segment(svc: IdentityService, event: ContactSegmentRecorded, envelope: Envelope) -> None:
    await on_contact_events(svc, [envelope])


async def on_contact_events(svc: IdentityService, envelopes: Sequence[Envelope]) -> None:
    """Contacts started and their segments, a consumer batch at once: one read and one write per contact."""
    items = [await _contact_item(svc, envelope) for envelope in envelopes]
    await svc.stores.contexts.change_many(items)


async def _contact_item(svc: IdentityService, envelope: Envelope) -> Item[ContactContext]:
    event, now = envelope.data, svc.clock()
    if isinstance(event, ContactSegmentRecorded):
        return Item(event.contact_id, lambda current: decide_segment(current, event.contact_id, event.agent_id, now),
                    envelope.id)
    assert isinstance(event, ContactStarted)
    customer = event.to_address if event.direction == "outbound" and event.to_address else event.from_address
    address = classify_contact_address(customer, svc.default_region)
    hinted = event.account_hint if event.account_hint and await svc.reads.account(event.account_hint) else None
    matches = await svc.reads.by_contact_address(address) if address and not hinted else []
    found = identify_automatically(address, matches, now, hinted_account=hinted)
    contact = ReportedContact(event.channel, event.direction, customer, event.started_at,
                              envelope.correlation_id or event.contact_id)
    emit = caused_by(envelope, "contact-identified")
    return Item(event.contact_id, lambda current: decide_automatic(current, event.contact_id, found, contact, emit),
                envelope.id)


async def on_callback_requested(svc: IdentityService, event: CallbackRequested, envelope: Envelope) -> None:
    if event.account_id:
        return  # the customer named the account; nothing to identify
    e164 = try_phone_to_e164(event.callback_number, svc.default_region)
    matches = await svc.reads.by_contact_address(ContactAddress("phone", e164)) if e164 else []
    lookup = caller_lookup(event.request_id, event.callback_number, matches, svc.clock())
    published = caused_by(envelope, "caller-identified")(CallerIdentified(
        request_id=event.request_id, callback_number=event.callback_number, account_id=lookup.account_id,
        candidates=list(lookup.candidates)))
    await svc.stores.caller_lookups.change(event.request_id, lambda current: decide_caller(
        current, lookup, published), event_id=envelope.id)
