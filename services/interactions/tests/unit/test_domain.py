"""The record's rules without I/O: ids, self-service, bulk blockers, closing, views, attachments."""

from datetime import UTC, datetime, timedelta

import pytest

from icsuite_interactions.domain.attachments import (
    AttachmentTooLarge,
    AttachmentTypeRefused,
    check_media_type,
    check_size,
    clean_name,
    normalize_media_type,
)
from icsuite_interactions.domain.completion import Blocker, Completion, bulk_blockers, closing_fields
from icsuite_interactions.domain.ids import field_key, interaction_id_for_callback, interaction_id_for_contact
from icsuite_interactions.domain.record import SelfServiceDecision, decide_self_service, record_view

pytestmark = pytest.mark.unit
T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


def test_ids_derive_deterministically_and_fit_the_contract() -> None:
    assert interaction_id_for_contact("ct-1") == interaction_id_for_contact("ct-1")
    assert interaction_id_for_contact("ct-1") != interaction_id_for_contact("ct-2")
    assert interaction_id_for_callback("cb-1", 1) != interaction_id_for_callback("cb-1", 2)
    assert len(interaction_id_for_contact("x" * 128)) <= 128


def test_field_keys_are_safe_mongodb_field_names() -> None:
    assert field_key("seg-1") == "kseg-1"
    for raw in ("a.b", "$where", "x" * 200, "ä"):
        key = field_key(raw)
        assert "." not in key and not key.startswith("$") and len(key) <= 65
    assert field_key("a.b") != field_key("a_b")


@pytest.mark.parametrize(("record", "decision"), [
    ({"status": "closed"}, SelfServiceDecision.DROP),
    ({"status": "open", "has_agent": True, "contact_ended": True, "opened_at": T0}, SelfServiceDecision.DROP),
    ({"status": "open", "contact_ended": True}, SelfServiceDecision.WAIT),  # not started yet
    ({"status": "open", "opened_at": T0}, SelfServiceDecision.WAIT),  # not ended yet
    ({"status": "open", "contact_ended": True, "opened_at": T0, "_completion": {"token": "t"}},
     SelfServiceDecision.WAIT),
    ({"status": "open", "contact_ended": True, "opened_at": T0}, SelfServiceDecision.CLOSE),
])
def test_self_service_decision(record, decision) -> None:
    assert decide_self_service(record) is decision


def test_bulk_blockers_name_every_blocking_record_in_order() -> None:
    records = {"a": {"status": "open", "account_id": "acc"}, "b": {"status": "closed", "account_id": "acc"},
               "c": {"status": "open", "account_id": "other"}, "d": {"status": "open", "account_id": "acc",
                                                                      "_completion": {"token": "t"}}}
    assert bulk_blockers("acc", ["a", "b", "c", "d", "e"], records) == [
        Blocker("b", "closed"), Blocker("c", "other_account"), Blocker("d", "being_completed"),
        Blocker("e", "not_found")]
    assert bulk_blockers("acc", ["a"], records) == []


def test_closing_a_self_service_contact_lasts_until_it_ended() -> None:
    record = {"opened_at": T0, "media": {"k1": {"ended_at": T0 + timedelta(minutes=3)}}}
    completion = Completion("self_service", None, None, T0 + timedelta(minutes=10), None)
    assert closing_fields(record, completion, self_service=True)["duration_s"] == 180.0
    assert closing_fields(record, completion)["duration_s"] == 600.0
    assert closing_fields({}, completion)["duration_s"] is None


def test_the_record_view_orders_segments_by_time_and_hides_storage_fields() -> None:
    doc = {"_id": "int-1", "media": {"kc": {"media_item_id": "c", "started_at": T0, "segments": {
        "k2": {"segment_id": "s2", "started_at": T0 + timedelta(minutes=2)},
        "k1": {"segment_id": "s1", "started_at": T0}}}},
        "attachments": [{"attachment_id": "att-1", "file_id": "secret"}], "_applied": ["e"]}
    view = record_view(doc)
    assert [s["segment_id"] for s in view["media_items"][0]["segments"]] == ["s1", "s2"]
    assert view["attachments"] == [{"attachment_id": "att-1"}] and "_applied" not in view
    assert view["status"] == "open" and view["late_events"] == []


def test_attachment_rules() -> None:
    assert normalize_media_type("Image/PNG; name=x") == "image/png"
    assert normalize_media_type(None) == "application/octet-stream"
    check_media_type("image/png", {"image/png"})
    with pytest.raises(AttachmentTypeRefused):
        check_media_type("application/x-msdownload", {"image/png"})
    check_size(10, 10)
    with pytest.raises(AttachmentTooLarge):
        check_size(11, 10)
    assert clean_name("C:\\temp\\../evil\"\n.pdf", "f") == "evil.pdf"
    assert clean_name("", "attachment") == "attachment"
