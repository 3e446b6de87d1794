"""The timeline's ``project``: the same entry whatever the order of one entry's events (what a rebuild needs)."""

from __future__ import annotations

import itertools

import pytest
from icsuite_contracts.cloudevents import new_envelope
from icsuite_contracts.contacts_v1 import ContactStarted
from icsuite_contracts.interactions_v1 import (
    ActivityRecorded,
    InteractionAccountLinked,
    InteractionClosed,
    InteractionOpened,
    NoteAdded,
)
from icsuite_contracts.testing import sample_event

from icsuite_interactions.projections.timeline import EntryCodec, TimelineEntry, entry_key, project

pytestmark = pytest.mark.unit
ID = "int-1"


def _events(*, closed: bool = True) -> list:
    events = [
        sample_event(InteractionOpened, interaction_id=ID, account_id=None, agent_id=None),
        sample_event(InteractionAccountLinked, interaction_id=ID, account_id="acc-1", link_sequence=1),
        sample_event(InteractionAccountLinked, interaction_id=ID, account_id="acc-2", link_sequence=2),
        sample_event(ActivityRecorded, interaction_id=ID, agent_id="a-1"),
        sample_event(NoteAdded, interaction_id=ID, author="a-2"),
    ]
    if closed:
        events.append(sample_event(InteractionClosed, interaction_id=ID, account_id="acc-2", agent_id="a-3",
                                   agent_ids=["a-1"]))
    return [new_envelope(e, source="/tests") for e in events]


def _replay(envelopes) -> TimelineEntry | None:
    entry = None
    for envelope in envelopes:
        entry = project(entry, envelope)
    return entry


@pytest.mark.parametrize("closed", [True, False])
def test_every_order_gives_the_same_entry(closed: bool) -> None:
    envelopes = _events(closed=closed)
    entries = {_replay(order) for order in itertools.permutations(envelopes)}
    assert len(entries) == 1
    [entry] = entries
    assert entry.account_id == "acc-2" and entry.activity_count == 1 and entry.note_count == 1
    assert entry.status == ("closed" if closed else "open") and entry.channel == envelopes[0].data.channel
    assert set(entry.agent_ids) >= {"a-1", "a-2"}


def test_other_events_change_nothing_and_the_codec_round_trips() -> None:
    other = new_envelope(sample_event(ContactStarted), source="/tests")
    assert project(None, other) is None and entry_key(other) is None
    entry = _replay(_events())
    assert EntryCodec().decode(EntryCodec().encode(entry)) == entry
