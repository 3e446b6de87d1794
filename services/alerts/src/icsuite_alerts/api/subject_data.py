"""What alerts holds about an account, for the data subject's copy (administrators): its alerts, the facts
kept for its rules, its contacts, and the event log entries that name it or one of its contacts."""

from __future__ import annotations

from typing import Any

from icsuite_chassis.subject_data import Found, SubjectSection, by_field, subject_data_router


def _event_log(account_id: str, found: Found) -> dict[str, Any]:
    contacts = [doc["_id"] for doc in found.get("contacts", [])]
    naming = [{"data.account_id": account_id}, {"subject": account_id}]
    if contacts:
        naming += [{"data.contact_id": {"$in": contacts}}, {"correlation_id": {"$in": contacts}}]
    return {"$or": naming}


router = subject_data_router("alerts", (
    SubjectSection("alerts", "alerts", by_field("account_id")),
    SubjectSection("account_facts", "accounts", by_field("_id")),
    SubjectSection("contacts", "contacts", by_field("account_id")),
    SubjectSection("event_log", "event_log", _event_log),
))
