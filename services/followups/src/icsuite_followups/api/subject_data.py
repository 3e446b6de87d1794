"""What followups holds about an account, for the data subject's copy (administrators): the follow-ups with
their notes history and scratch pad, and the interactions they may be created from."""

from __future__ import annotations

from icsuite_chassis.subject_data import SubjectSection, by_field, subject_data_router

from ..projections.interaction_sources import INTERACTION_SOURCES
from ..repository import FOLLOWUPS

router = subject_data_router("followups", (
    SubjectSection("followups", FOLLOWUPS, by_field("account_id")),
    SubjectSection("interaction_sources", INTERACTION_SOURCES, by_field("account_id")),
))
