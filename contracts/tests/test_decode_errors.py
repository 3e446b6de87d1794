import pytest
from icsuite_contracts import DecodeError, from_document, from_kafka, new_envelope, to_document, to_kafka
from icsuite_contracts.cloudevents import MAX_EVENT_BYTES
from icsuite_contracts.contacts_v1 import ContactStarted
from icsuite_contracts.testing import sample_event

pytestmark = pytest.mark.unit


@pytest.fixture
def record():
    return to_kafka(new_envelope(sample_event(ContactStarted), source="/cti"))


def _replace(headers, name, value):
    return [(n, value if n == name else v) for n, v in headers]


def _without(headers, name):
    return [(n, v) for n, v in headers if n != name]


def _kind(headers, value):
    with pytest.raises(DecodeError) as info:
        from_kafka(headers, value)
    return info.value.kind


def test_body_that_is_not_json(record):
    assert _kind(record.headers, b"{not json") == "not_json"


def test_body_with_a_non_json_constant(record):
    assert _kind(record.headers, b'{"contact_id": NaN}') == "not_json"


def test_body_of_another_content_type(record):
    assert _kind(_replace(record.headers, "content-type", b"application/avro"), record.value) == "not_json"


def test_body_that_fails_its_model(record):
    assert _kind(record.headers, b'{"contact_id": "ct-1", "channel": "pigeon"}') == "invalid_model"


def test_body_that_is_json_but_not_an_object(record):
    assert _kind(record.headers, b"[1, 2]") == "invalid_model"


def test_unknown_event_type(record):
    headers = _replace(record.headers, "ce_type", b"ic.contact.teleported.v1")

    assert _kind(headers, record.value) == "unknown_type"


@pytest.mark.parametrize("name", ["ce_id", "ce_type", "ce_source", "ce_time", "ce_specversion"])
def test_missing_required_header(record, name):
    assert _kind(_without(record.headers, name), record.value) == "missing_header"


@pytest.mark.parametrize(("name", "value"), [("ce_time", b"yesterday"), ("ce_specversion", b"0.3")])
def test_unusable_required_header(record, name, value):
    assert _kind(_replace(record.headers, name, value), record.value) == "missing_header"


def test_body_larger_than_the_limit(record):
    assert _kind(record.headers, b" " * (MAX_EVENT_BYTES + 1)) == "too_large"


def test_decode_error_names_its_kind_in_the_message(record):
    with pytest.raises(DecodeError, match="^unknown_type: "):
        from_kafka(_replace(record.headers, "ce_type", b"x"), record.value)


def test_producer_refuses_to_build_an_oversized_record():
    event = sample_event(ContactStarted)
    big = event.model_copy(update={"from_address": "x" * (MAX_EVENT_BYTES + 1)})  # bypasses validation

    with pytest.raises(ValueError, match="more than"):
        to_kafka(new_envelope(big, source="/cti"))


@pytest.mark.parametrize(
    ("change", "kind"),
    [
        (lambda d: d.pop("id"), "missing_header"),
        (lambda d: d.update(type="ic.unknown.v1"), "unknown_type"),
        (lambda d: d["data"].update(channel="pigeon"), "invalid_model"),
        (lambda d: d.pop("data"), "missing_header"),
    ],
    ids=["no-id", "unknown-type", "invalid-data", "no-data"],
)
def test_bad_outbox_documents(change, kind):
    doc = to_document(new_envelope(sample_event(ContactStarted), source="/cti"))
    change(doc)

    with pytest.raises(DecodeError) as info:
        from_document(doc)
    assert info.value.kind == kind
