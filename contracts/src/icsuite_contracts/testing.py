"""Valid sample events for tests, one factory per event type, with fresh ids on every call.

    from icsuite_contracts.testing import sample_event
    event = sample_event(CallbackQueued, priority=9)
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

from . import alerts_v1 as al
from . import callback_requests_v1 as cr
from . import callbacks_v1 as cb
from . import contacts_v1 as co
from . import followups_v1 as fu
from . import identity_v1 as idn
from . import interactions_v1 as ia
from . import masterdata_v1 as md
from . import account_merges_v1 as am
from . import privacy_v1 as pv
from .base import Event

__all__ = ["FACTORIES", "sample_event", "unique_id", "unique_phone"]

E = TypeVar("E", bound=Event)
T0 = datetime(2025, 3, 1, 9, 15, tzinfo=UTC)


def unique_id(prefix: str) -> str:
    """A fresh id such as ``acc-3f2a9c1b``."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def unique_phone() -> str:
    """A fresh E.164 number, so that sample events never match real or demo data by number."""
    return "+4930" + str(uuid.uuid4().int)[:9]


def _address() -> md.Address:
    return md.Address(street="Hauptstr. 5", postcode="10115", city="Berlin", country="DE")


def _note(**extra: Any) -> dict[str, Any]:
    return dict(
        note_id=unique_id("n"), type="note", language="de", text="Kunde bittet um Rückruf.",
        author="a-17", created_at=T0, **extra,
    )


def _callback(**extra: Any) -> dict[str, Any]:
    return dict(callback_id=unique_id("cb"), request_id=unique_id("cbr"), account_id=unique_id("acc"), at=T0, **extra)


def _followup(**extra: Any) -> dict[str, Any]:
    return dict(followup_id=unique_id("fu"), account_id=unique_id("acc"), **extra)


FACTORIES: dict[type[Event], Callable[[], dict[str, Any]]] = {
    co.ContactStarted: lambda: dict(
        contact_id=unique_id("ct"), channel="phone", direction="inbound", from_address=unique_phone(),
        to_address="+498001234567", queue="billing", started_at=T0, account_hint=unique_id("acc"),
    ),
    co.ContactSegmentRecorded: lambda: dict(
        contact_id=unique_id("ct"), segment_id="seg-1", kind="agent", agent_id="a-17", queue="billing",
        started_at=T0, ended_at=T0 + timedelta(minutes=5),
    ),
    co.ContactEnded: lambda: dict(contact_id=unique_id("ct"), ended_at=T0, reason="caller_hangup"),
    cr.CallbackRequested: lambda: dict(
        request_id=unique_id("cbr"), callback_number=unique_phone(), account_id=unique_id("acc"),
        reason_code="billing_question", preferred_from=T0, preferred_to=T0 + timedelta(hours=2),
        time_zone="Europe/Berlin", language="de", channel="web", attributes={"campaign": "spring"},
    ),
    md.AccountUpserted: lambda: dict(
        account_id=unique_id("acc"), source_version=3, kind="person", name="Erika Mustermann",
        phones=[unique_phone()], emails=[f"{unique_id('erika')}@example.org"], address=_address(), flags=["vip"],
    ),
    md.BusinessAgreementUpserted: lambda: dict(
        business_agreement_id=unique_id("ba"), account_id=unique_id("acc"), source_version=7,
        balance=Decimal("120.75"), currency="EUR", dunning_level=1, credit_status="good",
        open_bills=[md.OpenBill(bill_id=unique_id("bill"), amount=Decimal("84.50"), due_date=date(2025, 3, 15))],
    ),
    md.PremiseUpserted: lambda: dict(
        premise_id=unique_id("pr"), source_version=1, address=_address(),
        account_ids=[unique_id("acc")], business_agreement_ids=[unique_id("ba")],
    ),
    idn.ContactIdentified: lambda: dict(
        contact_id=unique_id("ct"), account_id=unique_id("acc"), business_agreement_id=unique_id("ba"),
        premise_id=unique_id("pr"), method="auto_number", confirmed=False, candidates=["acc-1", "acc-2"],
    ),
    idn.CallerIdentified: lambda: dict(
        request_id=unique_id("cbr"), callback_number=unique_phone(), account_id=unique_id("acc"), candidates=[],
    ),
    idn.AccountCreated: lambda: dict(
        account_id=unique_id("acc"), kind="organisation", name="Muster GmbH", phones=[unique_phone()],
        emails=[], address=_address(), created_by="a-17",
    ),
    ia.InteractionOpened: lambda: dict(
        interaction_id=unique_id("int"), contact_id=unique_id("ct"), origin="contact", channel="phone",
        direction="inbound", account_id=unique_id("acc"), agent_id="a-17", opened_at=T0,
    ),
    ia.InteractionAccountLinked: lambda: dict(
        interaction_id=unique_id("int"), contact_id=unique_id("ct"), account_id=unique_id("acc"),
        business_agreement_id=unique_id("ba"), premise_id=unique_id("pr"),
    ),
    ia.ActivityRecorded: lambda: dict(
        interaction_id=unique_id("int"), activity_id="act-1", kind="payment_arrangement", at=T0,
        agent_id="a-17", account_id=unique_id("acc"), details={"installments": "3"},
    ),
    ia.NoteAdded: lambda: dict(interaction_id=unique_id("int"), **_note(account_id=unique_id("acc"))),
    ia.InteractionClosed: lambda: dict(
        interaction_id=unique_id("int"), contact_id=unique_id("ct"), account_id=unique_id("acc"),
        outcome="resolved", result="payment_plan_agreed", reason_code="billing_question",
        duration_s=389.5, closed_at=T0, agent_id="a-17",
    ),
    ia.MediaItemAdded: lambda: dict(
        interaction_id=unique_id("int"), account_id=unique_id("acc"), media_item_id=unique_id("mi"), media="fax",
        direction="outbound", started_at=T0, ended_at=T0 + timedelta(minutes=1),
    ),
    cb.CallbackQueued: lambda: _callback(
        callback_number=unique_phone(), reason_code="billing_question", profile="billing_question",
        priority=5, due_at=T0 + timedelta(hours=4), queue="general", scheduled_for=T0 + timedelta(hours=1),
    ),
    cb.CallbackClaimed: lambda: _callback(agent_id="a-17"),
    cb.CallbackStarted: lambda: _callback(agent_id="a-17", dial_number=unique_phone(), attempt=1),
    cb.CallbackAttemptFailed: lambda: _callback(
        agent_id="a-17", attempt=2, retain=True, reason="no_answer", next_attempt_at=T0 + timedelta(hours=1),
        final=False,
    ),
    cb.CallbackReleased: lambda: _callback(agent_id=None),
    cb.CallbackIdentified: lambda: _callback(candidates=["acc-100200"]),
    cb.CallbackCompleted: lambda: _callback(agent_id="a-17", outcome="reached"),
    cb.CallbackExpired: lambda: _callback(),
    cb.CallbackCancelled: lambda: _callback(by="a-17", reason="customer_called_in"),
    fu.FollowupCreated: lambda: _followup(
        source=fu.SourceRef(type="interaction", id=unique_id("int")), type="phone_call", channel="phone",
        status="open", priority=3, owner_id="a-17", due_at=T0 + timedelta(days=2), created_by="a-17",
        created_at=T0,
    ),
    fu.FollowupUpdated: lambda: _followup(changed=["due_at"], at=T0, by="a-17"),
    fu.FollowupNoteAdded: lambda: _followup(**_note()),
    fu.FollowupStatusChanged: lambda: _followup(old_status="open", new_status="in_process", at=T0, by="a-17"),
    fu.FollowupOverdue: lambda: _followup(due_at=T0, at=T0 + timedelta(minutes=1)),
    fu.FollowupDue: lambda: _followup(owner_id="a-17", type="phone_call", planned_start=T0),
    al.AlertRaised: lambda: dict(
        alert_id=unique_id("al"), rule_id="rule-high-balance", rule_version=3, severity="warning",
        message="Open balance above 500 EUR.", account_id=unique_id("acc"), contact_id=unique_id("ct"),
        agent_id="a-17", target="agent", raised_at=T0, trigger_event_id=str(uuid.uuid4()),
    ),
    al.AlertAcknowledged: lambda: dict(
        alert_id=unique_id("al"), rule_id="rule-high-balance", account_id=unique_id("acc"), agent_id="a-17",
        acknowledged_at=T0,
    ),
    am.AccountMerged: lambda: dict(
        merge_id=unique_id("mg"), source_account_id=unique_id("acc"), target_account_id=unique_id("acc"),
        merged_by="sup-1", merged_at=T0,
    ),
    am.AccountUnmerged: lambda: dict(
        merge_id=unique_id("mg"), source_account_id=unique_id("acc"), target_account_id=unique_id("acc"),
        unmerged_by="sup-1", unmerged_at=T0,
    ),
    pv.ErasureRequested: lambda: dict(
        erasure_id=unique_id("er"), account_id=unique_id("acc"), requested_by="admin-1", requested_at=T0,
    ),
    pv.Erased: lambda: dict(
        erasure_id=unique_id("er"), account_id=unique_id("acc"), service="interactions",
        erased={"notes": 2, "attachments": 1}, erased_at=T0,
    ),
}


def sample_event(model: type[E], **overrides: Any) -> E:
    """A valid ``model`` instance with fresh ids; ``overrides`` replace single fields."""
    return model(**{**FACTORIES[model](), **overrides})
