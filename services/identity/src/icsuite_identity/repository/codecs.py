"""Codecs: each aggregate's typed state to the fields of its document and back.

The store keeps ``_id`` to itself, so each document also carries its id under its own name
(``account_id``, ``contact_id``, ``key``...).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

from ..domain.accounts import AccountRecord, CreationClaim
from ..domain.callers import CallerLookup
from ..domain.context import AutomaticIdentification, Confirmation, ContactContext, ReportedContact
from ..domain.lookups import Lookup
from ..domain.masterdata import Agreement, OpenBillState, Premise

Doc = Mapping[str, Any]


_ALWAYS = frozenset({"account_id", "kind", "name", "status", "source_version"})


class AccountCodec:
    def encode(self, state: AccountRecord) -> dict[str, Any]:
        """Fields that are empty or unset are left out (``decode`` gives their defaults): an account is
        stored a million times over in the bench, and every field costs the MongoDB-wire server a map
        entry and its name (see bench/README.md, "Memory per account"). The lookup keys are not stored:
        readers derive them from the record (``AccountRecord.keys``)."""
        fields = {"account_id": state.account_id, "kind": state.kind, "name": state.name, "phones": list(state.phones),
                  "phones_e164": list(state.phones_e164), "emails": list(state.emails),
                  "address": dict(state.address) if state.address else None, "flags": list(state.flags),
                  "status": state.status, "source_version": state.source_version,
                  "created_by": state.created_by, "created_at": state.created_at,
                  "_retired_keys": list(state.retired_keys)}
        return {name: value for name, value in fields.items() if name in _ALWAYS or value not in (None, [])}

    def decode(self, doc: Doc) -> AccountRecord:
        return AccountRecord(
            account_id=doc["account_id"], kind=doc.get("kind", "person"), name=doc.get("name", ""),
            phones=tuple(doc.get("phones", ())), phones_e164=tuple(doc.get("phones_e164", ())),
            emails=tuple(doc.get("emails", ())), address=doc.get("address"), flags=tuple(doc.get("flags", ())),
            status=doc.get("status", "active"), source_version=int(doc.get("source_version", -1)),
            created_by=doc.get("created_by"), created_at=doc.get("created_at"),
            retired_keys=tuple(doc.get("_retired_keys", ())))


class AgreementCodec:
    def encode(self, state: Agreement) -> dict[str, Any]:
        return {"business_agreement_id": state.business_agreement_id, "account_id": state.account_id, "balance": state.balance, "currency": state.currency,
                "open_bills": [asdict(b) for b in state.open_bills], "dunning_level": state.dunning_level,
                "credit_status": state.credit_status, "source_version": state.source_version,
                "_retired_keys": list(state.retired_keys)}

    def decode(self, doc: Doc) -> Agreement:
        bills = tuple(OpenBillState(str(b["bill_id"]), str(b["amount"]), str(b["due_date"]))
                      for b in doc.get("open_bills", ()))
        return Agreement(doc["business_agreement_id"], doc["account_id"], str(doc["balance"]), doc["currency"], bills,
                         int(doc["dunning_level"]), doc["credit_status"], int(doc["source_version"]),
                         tuple(doc.get("_retired_keys", ())))


class PremiseCodec:
    def encode(self, state: Premise) -> dict[str, Any]:
        return {"premise_id": state.premise_id, "address": dict(state.address), "account_ids": list(state.account_ids),
                "business_agreement_ids": list(state.business_agreement_ids),
                "source_version": state.source_version, "_retired_keys": list(state.retired_keys)}

    def decode(self, doc: Doc) -> Premise:
        return Premise(doc["premise_id"], dict(doc["address"]), tuple(doc.get("account_ids", ())),
                       tuple(doc.get("business_agreement_ids", ())), int(doc["source_version"]),
                       tuple(doc.get("_retired_keys", ())))


class LookupCodec:
    def encode(self, state: Lookup) -> dict[str, Any]:
        fields: dict[str, Any] = {"key": state.key, "ids": list(state.ids)}
        if state.labels:
            fields["labels"] = dict(state.labels)
        return fields

    def decode(self, doc: Doc) -> Lookup:
        return Lookup(doc["key"], tuple(doc.get("ids", ())), dict(doc.get("labels") or {}))


def _automatic(doc: Doc | None) -> AutomaticIdentification | None:
    if doc is None:
        return None
    return AutomaticIdentification(doc["outcome"], doc.get("method"), doc.get("account_id"),
                                   tuple(doc.get("candidates", ())), doc.get("looked_up"), doc["at"])


def _confirmation(doc: Doc | None) -> Confirmation | None:
    if doc is None:
        return None
    return Confirmation(doc["account_id"], doc.get("business_agreement_id"), doc.get("premise_id"),
                        doc["agent_id"], doc["method"], doc["confirmed_at"])


class ContextCodec:
    def encode(self, state: ContactContext) -> dict[str, Any]:
        automatic = asdict(state.automatic) if state.automatic else None
        if automatic is not None:
            automatic["candidates"] = list(state.automatic.candidates)  # type: ignore[union-attr]
        return {"contact_id": state.contact_id, "contact": asdict(state.contact) if state.contact else None,
                "reported": state.reported, "agent_ids": list(state.agent_ids),
                "automatic": automatic, "confirmed": asdict(state.confirmed) if state.confirmed else None,
                "history": [asdict(c) for c in state.history], "created_at": state.created_at,
                "updated_at": state.updated_at}

    def decode(self, doc: Doc) -> ContactContext:
        contact = doc.get("contact")
        return ContactContext(
            contact_id=doc["contact_id"], created_at=doc["created_at"], updated_at=doc.get("updated_at", doc["created_at"]),
            contact=ReportedContact(**contact) if contact else None,
            reported=bool(doc.get("reported", contact is not None)), agent_ids=tuple(doc.get("agent_ids", ())),
            automatic=_automatic(doc.get("automatic")), confirmed=_confirmation(doc.get("confirmed")),
            history=tuple(c for c in map(_confirmation, doc.get("history", ())) if c is not None))


class CallerLookupCodec:
    def encode(self, state: CallerLookup) -> dict[str, Any]:
        return {"request_id": state.request_id, "callback_number": state.callback_number, "account_id": state.account_id,
                "candidates": list(state.candidates), "identified_at": state.identified_at}

    def decode(self, doc: Doc) -> CallerLookup:
        return CallerLookup(doc["request_id"], doc["callback_number"], doc.get("account_id"),
                            tuple(doc.get("candidates", ())), doc["identified_at"])


class CreationClaimCodec:
    def encode(self, state: CreationClaim) -> dict[str, Any]:
        return {"key": state.key, "account_id": state.account_id, "at": state.at}

    def decode(self, doc: Doc) -> CreationClaim:
        return CreationClaim(doc["key"], doc.get("account_id"), doc["at"])
