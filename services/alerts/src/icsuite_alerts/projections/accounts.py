"""The account facts projection (``accounts``, by account): master data, callbacks, follow-ups, contacts."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from icsuite_chassis.store.projection import ProjectionWriter
from icsuite_contracts.cloudevents import Envelope
from pymongo.asynchronous.database import AsyncDatabase

from ..domain.facts import AccountState, apply_to_account
from ..repository import aware
from .event_log import observation_of


class AccountCodec:
    def encode(self, state: AccountState) -> dict[str, Any]:
        return {
            "agreements": [{"id": key, **value} for key, value in sorted(state.agreements.items())],
            "account_version": state.account_version,
            "flags": list(state.flags),
            "open_callbacks": sorted(state.open_callbacks),
            "overdue_followups": sorted(state.overdue_followups),
            "contacts": [{"ref": ref, "at": at} for ref, at in state.contacts],
            "last_outcome": state.last_outcome,
            "last_outcome_at": state.last_outcome_at,
        }

    def decode(self, doc: Mapping[str, Any]) -> AccountState:
        return AccountState(
            agreements={a["id"]: {k: v for k, v in a.items() if k != "id"} for a in doc.get("agreements") or ()},
            account_version=doc.get("account_version"),
            flags=tuple(doc.get("flags") or ()),
            open_callbacks=frozenset(doc.get("open_callbacks") or ()),
            overdue_followups=frozenset(doc.get("overdue_followups") or ()),
            contacts=tuple((c["ref"], aware(c["at"])) for c in doc.get("contacts") or ()),
            last_outcome=doc.get("last_outcome"),
            last_outcome_at=aware(doc.get("last_outcome_at")),
        )


def _project(state: AccountState | None, envelope: Envelope) -> AccountState | None:
    return apply_to_account(state or AccountState(), observation_of(envelope))


class AccountFacts:
    """The account an event changes is the event's own ``account_id`` or, without one, its contact's
    account (known only after the contacts projection took the event): the caller names it per event."""

    def __init__(self, make_writer: Callable[..., Any]):
        """``make_writer(name, codec, project, key)``: a ProjectionWriter (or its in-memory twin in tests)."""
        self._routes: dict[str, str] = {}
        self.writer = make_writer("accounts", AccountCodec(), _project, self._account_of)

    def _account_of(self, envelope: Envelope) -> str | None:
        return self._routes.get(envelope.id)

    async def after_each(self, envelopes: Sequence[Envelope],
                         account_ids: Sequence[str | None]) -> list[AccountState | None]:
        """Apply each event to its account (once; ``None``: none); each account's state right after its event."""
        routed = {e.id: a for e, a in zip(envelopes, account_ids, strict=True) if a is not None}
        self._routes.update(routed)
        try:
            outcomes = iter(await self.writer.apply(envelopes))
        finally:
            for event_id in routed:
                self._routes.pop(event_id, None)
        after: list[AccountState | None] = []
        for account_id in account_ids:
            stored = next(outcomes).stored if account_id is not None else None
            after.append(None if account_id is None else stored.state if stored is not None else AccountState())
        return after

    async def get(self, account_id: str) -> AccountState | None:
        stored = await self.writer.store.get(account_id)
        return stored.state if stored is not None else None


def account_writer(db: AsyncDatabase[dict[str, Any]]) -> AccountFacts:
    return AccountFacts(lambda *args: ProjectionWriter(db, *args))
