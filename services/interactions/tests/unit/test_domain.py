"""The record's rules without I/O: ids, the codec, self-service, bulk blockers, closing, views, attachments."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from icsuite_contracts.interactions_v1 import MAX_DURATION_S

from icsuite_interactions.api.views import record_view
from icsuite_interactions.domain import rules
from icsuite_interactions.domain.attachments import clean_name, content_disposition, normalize_media_type
from icsuite_interactions.domain.ids import field_key, interaction_id_for_callback, interaction_id_for_contact
from icsuite_interactions.domain.record import (
    Activity,
    Attachment,
    Identification,
    LateEvent,
    MediaItem,
    Note,
    Record,
    ScratchPad,
    Segment,
    changed,
    duration_s,
)
from icsuite_interactions.repository import RecordCodec

pytestmark = pytest.mark.unit
T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
GRACE = timedelta(seconds=3)


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


def _full_record() -> Record:
    segment = Segment("seg.1", "agent", T0, "a-1", "billing", T0 + timedelta(minutes=1))
    return Record(
        "int-1", created_at=T0, origin="contact", contact_id="ct.1", channel="phone", direction="inbound",
        opened_at=T0, account_id="acc-1", identification=Identification("automatic", "auto_number"),
        agent_ids=("a-1",), has_agent=True, contact_ended=True, link_sequence=1,
        media={"ct.1": MediaItem("ct.1", "phone", "inbound", T0, T0 + timedelta(minutes=2), "hangup",
                                 {"seg.1": segment})},
        activities=(Activity("act-1", "fax_sent", T0, "a-1", {"to": "x"}, "ct.1"),),
        notes=(Note("n-1", "note", "de", "text", "a-1", T0),),
        attachments=(Attachment("att-1", "a.pdf", "application/pdf", 3, "abc", "a-1", T0, "file-1"),),
        late_events=(LateEvent("e-1", "t", "/s", T0, {"x": 1}),), scratch_pad=ScratchPad("pad", T0, "a-1"),
        attributes={"order": "7"})


def test_the_codec_round_trips_a_full_record_with_unsafe_keys() -> None:
    codec, record = RecordCodec(), _full_record()
    doc = codec.encode(record)
    assert "kct" not in str(list(doc["media"])) and all("." not in key for key in doc["media"])
    assert codec.decode(doc) == record
    assert codec.decode({**doc, "interaction_id": None, "_id": "int-1"}) == record


def test_changed_copies_like_dataclasses_replace_and_leaves_the_original() -> None:
    record = _full_record()
    copy = changed(record, contact_id="ct.2", has_agent=False, agent_ids=("a-2",))
    assert copy == replace(record, contact_id="ct.2", has_agent=False, agent_ids=("a-2",))
    assert record == _full_record() and copy is not record
    item = changed(record.media["ct.1"], ended_at=None)
    assert item == replace(record.media["ct.1"], ended_at=None) and record.media["ct.1"].ended_at is not None
    with pytest.raises(TypeError, match="no field 'contact'"):
        changed(record, contact="ct.2")
    with pytest.raises(AttributeError):  # the copy is as frozen as the original
        copy.status = "closed"  # type: ignore[misc]


def test_a_document_written_before_the_store_reads_back() -> None:
    old = {"_id": "int-9", "status": "closed", "created_at": T0, "_v": "random", "_completion": None,
           "identified_by": {"method": "agent_search", "agent_id": "a-1"}, "account_id": "acc-1",
           "media": {"kc": {"media_item_id": "c", "channel": "phone", "segments": {}}}}
    record = RecordCodec().decode(old)
    assert record.read_only and record.identification == Identification("confirmed", "agent_search", "a-1")
    assert record.media["c"].media == "phone"


def _ended(**changes) -> Record:
    record = Record("int-1", created_at=T0, status="open", opened_at=T0, contact_ended=True, contact_id="ct-1",
                    media={"ct-1": MediaItem("ct-1", ended_at=T0 + timedelta(minutes=3))})
    return replace(record, **changes)


@pytest.mark.parametrize(("record", "expected"), [
    (_ended(status="closed"), "let go"),
    (_ended(has_agent=True), "let go"),
    (_ended(contact_ended=False), "later"),  # not ended yet
    (_ended(opened_at=None), "later"),  # not started yet (events in any order)
    (_ended(), "closed"),
])
def test_self_service(record: Record, expected: str) -> None:
    now = T0 + timedelta(minutes=10)
    after, events = rules.self_service(replace(record, self_service_due_at=now), now, GRACE)
    outcome = ("closed" if after.status == "closed" and events else
               "later" if after.self_service_due_at == now + GRACE else "let go")
    assert outcome == expected and (after.self_service_due_at is None) == (expected != "later")
    if expected == "closed":
        assert after.duration_s == 180.0 and after.outcome == "self_service" and after.closed_by is None


def test_bulk_blockers_name_every_blocking_record_in_order() -> None:
    records = {"a": _ended(interaction_id="a", account_id="acc"), "b": _ended(status="closed", account_id="acc"),
               "c": _ended(account_id="other")}
    records["d"] = _ended(interaction_id="d", account_id="acc", agent_ids=("a-2",))
    agent = rules.Actor("a-1")
    assert rules.bulk_blockers("acc", ["a", "b", "c", "d", "e"], records, agent) == [
        {"interaction_id": "b", "reason": "closed"}, {"interaction_id": "c", "reason": "other_account"},
        {"interaction_id": "d", "reason": "not_an_agent"}, {"interaction_id": "e", "reason": "not_found"}]
    assert rules.bulk_blockers("acc", ["a", "d"], records, rules.Actor("s-1", supervisor=True)) == []


def test_duration_is_bounded_to_what_the_contract_carries() -> None:
    assert duration_s(T0, T0 + timedelta(minutes=10)) == 600.0
    assert duration_s(T0, T0 - timedelta(minutes=1)) == 0.0
    assert duration_s(None, T0) is None
    assert duration_s(T0, T0 + timedelta(days=800)) == MAX_DURATION_S


def test_the_record_view_orders_segments_by_time_and_hides_storage_fields() -> None:
    segments = {"s2": Segment("s2", "agent", T0 + timedelta(minutes=2)), "s1": Segment("s1", "ivr", T0)}
    record = replace(_full_record(), media={"c": MediaItem("c", "phone", segments=segments)})
    view = record_view(record)
    assert [s["segment_id"] for s in view["media_items"][0]["segments"]] == ["s1", "s2"]
    assert "file_id" not in view["attachments"][0] and view["identification"] == "automatic"
    assert view["media_items"][0]["media"] == "phone"


def test_attachment_names() -> None:
    assert normalize_media_type("Image/PNG; name=x") == "image/png"
    assert normalize_media_type(None) == "application/octet-stream"
    assert clean_name("C:\\temp\\../evil\"\n.pdf", "f") == "evil.pdf"
    assert clean_name("", "attachment") == "attachment"
    header = content_disposition("Überweisung 請求書.pdf")
    header.encode("latin-1")  # every header value must be Latin-1: the exact name travels percent-encoded
    assert header == ("attachment; filename=\"_berweisung ___.pdf\"; "
                      "filename*=UTF-8''%C3%9Cberweisung%20%E8%AB%8B%E6%B1%82%E6%9B%B8.pdf")
    assert content_disposition('a"b\\c%.pdf').startswith('attachment; filename="a_b_c_.pdf"')
