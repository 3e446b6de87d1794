"""The contacts projection: which account and which agent a contact belongs to (``contacts``, by contact)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from icsuite_chassis.store.projection import ProjectionWriter
from icsuite_contracts.cloudevents import Envelope
from pymongo.asynchronous.database import AsyncDatabase

from ..domain.contacts import ContactState, apply_to_contact
from .event_log import observation_of


class ContactCodec:
    def encode(self, state: ContactState) -> dict[str, Any]:
        return state.to_doc()

    def decode(self, doc: Mapping[str, Any]) -> ContactState:
        return ContactState.from_doc(doc)


def _project(state: ContactState | None, envelope: Envelope) -> ContactState | None:
    return apply_to_contact(state or ContactState(), observation_of(envelope))


def _contact_of(envelope: Envelope) -> str | None:
    return observation_of(envelope).contact_id


CONTACTS = ("contacts", ContactCodec(), _project, _contact_of)
"""The arguments of the contacts' ProjectionWriter after the database (name, codec, project, key)."""


def contact_writer(db: AsyncDatabase[dict[str, Any]]) -> ProjectionWriter[ContactState]:
    return ProjectionWriter(db, *CONTACTS)
