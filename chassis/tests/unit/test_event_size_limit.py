"""A change whose event would exceed the 512 KiB event limit is refused before it is stored (413)."""

from datetime import UTC, datetime

import pytest

from icsuite_chassis.limits import MAX_EVENT_BYTES, EventTooLarge, check_event_size, encoded_size, largest_field
from icsuite_chassis.outbox import outbox_entries, outbox_push
from icsuite_contracts.cloudevents import new_envelope, to_kafka
from icsuite_contracts.interactions_v1 import ActivityRecorded, NoteAdded

pytestmark = pytest.mark.unit


def _activity(value_chars: int, entries: int = 50) -> ActivityRecorded:
    details = {f"k{i}": "€" * value_chars for i in range(entries)}
    return ActivityRecorded(interaction_id="int-1", activity_id="act-1", kind="search", at=datetime.now(UTC),
                            details=details)


def test_the_measured_size_is_the_published_record_value() -> None:
    envelope = new_envelope(_activity(100), source="/test")
    assert encoded_size(envelope) == len(to_kafka(envelope).value)


def test_an_activity_of_50_multi_byte_texts_of_4096_characters_is_refused_naming_the_field() -> None:
    envelope = new_envelope(_activity(4096), source="/test")  # the 615 kB request of the issue
    assert encoded_size(envelope) > MAX_EVENT_BYTES
    with pytest.raises(EventTooLarge) as refused:
        check_event_size([envelope])
    problem = refused.value
    assert problem.status == 413 and problem.slug == "event-too-large"
    assert problem.extensions["field"] == "details"
    assert problem.extensions["limit_bytes"] == MAX_EVENT_BYTES
    assert problem.extensions["size_bytes"] == encoded_size(envelope)
    assert "details is too large" in problem.detail


def test_the_outbox_write_path_refuses_it_before_anything_is_stored() -> None:
    small = new_envelope(_activity(10), source="/test")
    big = new_envelope(_activity(4096), source="/test")
    assert len(outbox_entries([small])) == 1
    with pytest.raises(EventTooLarge):
        outbox_entries([small, big])
    with pytest.raises(EventTooLarge):
        outbox_push(iter([big]))


def test_one_large_text_is_named_exactly() -> None:
    note = NoteAdded(interaction_id="int-1", note_id="n-1", type="note", language="de", text="x" * 32768,
                     author="a-1", created_at=datetime.now(UTC))
    envelope = new_envelope(note, source="/test")
    check_event_size([envelope])  # a full note is within the limit
    with pytest.raises(EventTooLarge) as refused:
        check_event_size([envelope], limit=20_000)
    assert refused.value.extensions["field"] == "text"


def test_the_largest_field_descends_into_maps_and_stops_at_a_list_without_a_dominant_item() -> None:
    assert largest_field({"a": "x", "b": {"c": "y" * 50, "d": "z"}}) == "b.c"
    assert largest_field({"items": [{"t": "x" * 10}, {"t": "y" * 10}, {"t": "z" * 10}]}) == "items"
    assert largest_field({"items": ["x", "y" * 100]}) == "items[1]"
