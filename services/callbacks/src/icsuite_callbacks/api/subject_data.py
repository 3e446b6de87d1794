"""What callbacks holds about an account, for the data subject's copy (administrators): the work items with
their numbers and attributes, the identifications of its requests and the account's dialable numbers."""

from __future__ import annotations

from icsuite_chassis.subject_data import SubjectSection, by_any, by_field, linked, subject_data_router

from ..projections.accounts import ACCOUNT_PHONES
from ..repository import COLLECTION, IDENTIFICATIONS, SLOTS

SECTIONS = (
    SubjectSection("work_items", COLLECTION, by_any("account_id", "candidates")),
    SubjectSection("caller_identifications", IDENTIFICATIONS, by_any("account_id", "candidates")),
    SubjectSection("account_phones", ACCOUNT_PHONES, by_field("_id")),
    SubjectSection("open_requests_by_number", SLOTS, linked("work_items", "_id", "callback_number")),
)

router = subject_data_router("callbacks", SECTIONS)
