"""What identity holds about an account, for the data subject's copy (administrators)."""

from __future__ import annotations

from icsuite_chassis.subject_data import SubjectSection, by_any, by_field, subject_data_router

SECTIONS = (
    SubjectSection("accounts", "accounts", by_field("_id")),
    SubjectSection("business_agreements", "business_agreements", by_field("account_id")),
    SubjectSection("premises", "premises", by_field("account_ids")),
    SubjectSection("contexts", "contexts", by_any("confirmed.account_id", "automatic.account_id",
                                                  "automatic.candidates", "history.account_id")),
    SubjectSection("caller_lookups", "caller_lookups", by_any("account_id", "candidates")),
    SubjectSection("lookups", "lookups", by_field("ids")),
    SubjectSection("creation_claims", "creation_claims", by_field("account_id")),
)

router = subject_data_router("identity", SECTIONS)
