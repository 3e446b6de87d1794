"""Binary and structured mode, percent-encoded headers, correlation and trace context, checked against
the official CloudEvents SDK (``cloudevents`` on PyPI) as writer and as reader."""

import base64
import json
from datetime import UTC, datetime

import pytest
from cloudevents.core.bindings import kafka as sdk_kafka
from cloudevents.core.bindings.common import decode_header_value, encode_header_value
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent
from icsuite_contracts import DecodeError, from_kafka, new_envelope, to_kafka
from icsuite_contracts.cloudevents import STRUCTURED_CONTENT_TYPE, default_correlation_id
from icsuite_contracts.contacts_v1 import ContactStarted
from icsuite_contracts.masterdata_v1 import AccountUpserted
from icsuite_contracts.testing import sample_event
from icsuite_contracts.tracecontext import trace_scope

pytestmark = pytest.mark.unit

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
AT = datetime(2026, 12, 1, 0, 55, 59, tzinfo=UTC)


def _sdk_event(event, **extra):
    attributes = {"type": event.ce_type, "source": "/cti/sdk", "time": AT, "datacontenttype": "application/json",
                  **extra}
    return CloudEvent(attributes=attributes, data=event.model_dump(mode="json"))


def _percent_encoded(message):
    return {name: encode_header_value(value.decode()).encode() if name.startswith("ce_") else value
            for name, value in message.headers.items()}


def test_binary_mode_written_by_the_sdk_is_read():
    event = sample_event(ContactStarted)
    message = sdk_kafka.to_binary(_sdk_event(event, correlationid="corr-1", traceparent=TRACEPARENT),
                                  JSONFormat())

    env = from_kafka(message.headers, message.value)

    assert (env.data, env.source, env.time, env.correlation_id) == (event, "/cti/sdk", AT, "corr-1")
    assert env.traceparent == TRACEPARENT


def test_percent_encoded_header_values_are_decoded():
    event = sample_event(ContactStarted)
    message = sdk_kafka.to_binary(_sdk_event(event, subject="contact 1/ä"), JSONFormat())
    headers = _percent_encoded(message)
    assert headers["ce_time"] == b"2026-12-01T00%3A55%3A59Z"

    env = from_kafka(headers, message.value)

    assert (env.time, env.subject, env.source) == (AT, "contact 1/ä", "/cti/sdk")


def test_structured_mode_written_by_the_sdk_is_read():
    event = sample_event(ContactStarted)
    message = sdk_kafka.to_structured(_sdk_event(event, correlationid="corr-2", causationid="ev-0"),
                                      JSONFormat())
    assert message.headers["content-type"] == STRUCTURED_CONTENT_TYPE.encode()

    env = from_kafka(message.headers, message.value)

    assert (env.data, env.type, env.correlation_id, env.causation_id) == (event, event.ce_type, "corr-2", "ev-0")


def test_structured_mode_with_base64_data_is_read():
    event = sample_event(AccountUpserted)
    body = {"specversion": "1.0", "id": "ev-1", "type": event.ce_type, "source": "/erp",
            "time": "2026-12-01T00:55:59+01:00", "datacontenttype": "application/json",
            "data_base64": base64.b64encode(event.model_dump_json().encode()).decode()}

    env = from_kafka([("Content-Type", b"application/cloudevents+json; charset=utf-8")], json.dumps(body))

    assert env.data == event and env.time.utcoffset().total_seconds() == 3600


@pytest.mark.parametrize(
    ("change", "kind"),
    [(lambda b: b.pop("id"), "missing_header"),
     (lambda b: b.update(datacontenttype="application/xml"), "not_json"),
     (lambda b: b.update(type="ic.nothing.v1"), "unknown_type"),
     (lambda b: b.update(data={"contact_id": "x"}), "invalid_model"),
     (lambda b: b.update(data_base64="***"), "not_json")],
    ids=["no-id", "xml-data", "unknown-type", "invalid-data", "bad-base64"])
def test_unreadable_structured_events_name_why(change, kind):
    message = sdk_kafka.to_structured(_sdk_event(sample_event(ContactStarted)), JSONFormat())
    body = json.loads(message.value)
    change(body)

    with pytest.raises(DecodeError) as info:
        from_kafka(message.headers, json.dumps(body).encode())
    assert info.value.kind == kind


def test_a_structured_body_that_is_not_an_object_is_not_json():
    with pytest.raises(DecodeError) as info:
        from_kafka({"content-type": STRUCTURED_CONTENT_TYPE}, b"[1]")
    assert info.value.kind == "not_json"


def test_the_sdk_reads_our_records_with_every_attribute():
    env = new_envelope(sample_event(ContactStarted), source="/cti", causation_id="ev-0",
                       traceparent=TRACEPARENT)
    record = to_kafka(env)

    event = sdk_kafka.from_binary(sdk_kafka.KafkaMessage(dict(record.headers), record.key, record.value),
                                  JSONFormat())

    assert event.get_id() == env.id and event.get_subject() == env.key
    assert event.get_extension("correlationid") == env.data.contact_id
    assert event.get_extension("causationid") == "ev-0"
    assert event.get_extension("traceparent") == TRACEPARENT
    assert event.get_data() == json.loads(record.value)
    assert "correlation_id" not in dict(record.headers)  # only CloudEvents attributes, no duplicate


def test_values_that_need_encoding_survive_the_round_trip():
    env = new_envelope(sample_event(ContactStarted), source="/cti", correlation_id='a "b" 100% ü')
    headers = dict(to_kafka(env).headers)

    assert headers["ce_correlationid"] == b"a%20%22b%22%20100%25%20%C3%BC"
    assert decode_header_value("correlationid", headers["ce_correlationid"].decode()) == 'a "b" 100% ü'
    assert from_kafka(headers, to_kafka(env).value).correlation_id == 'a "b" 100% ü'


def test_correlation_defaults_to_the_contact_then_the_aggregate():
    contact = sample_event(ContactStarted)
    account = sample_event(AccountUpserted)

    assert new_envelope(contact, source="/cti").correlation_id == contact.contact_id
    assert new_envelope(account, source="/erp").correlation_id == account.account_id
    assert default_correlation_id(contact) == contact.contact_id


def test_an_event_without_correlation_gets_the_same_one_in_every_reader():
    event = sample_event(ContactStarted)
    message = sdk_kafka.to_binary(_sdk_event(event), JSONFormat())

    first = from_kafka(message.headers, message.value)
    second = from_kafka(message.headers, message.value)

    assert first.correlation_id == second.correlation_id == event.contact_id


def test_the_old_correlation_header_is_still_read_unless_it_was_the_event_id():
    event = sample_event(ContactStarted)
    message = sdk_kafka.to_binary(_sdk_event(event), JSONFormat())
    event_id = message.headers["ce_id"]

    legacy = from_kafka({**message.headers, "correlation_id": b"corr-old"}, message.value)
    own_id = from_kafka({**message.headers, "correlation_id": event_id}, message.value)

    assert legacy.correlation_id == "corr-old"
    assert own_id.correlation_id == event.contact_id


@pytest.mark.parametrize("value", ["garbage", "00-" + "0" * 32 + "-00f067aa0ba902b7-01",
                                   "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"])
def test_an_invalid_traceparent_is_dropped_not_dead_lettered(value):
    message = sdk_kafka.to_binary(_sdk_event(sample_event(ContactStarted), traceparent=value), JSONFormat())

    assert from_kafka(message.headers, message.value).traceparent is None


def test_a_plain_w3c_traceparent_header_is_read_too():
    message = sdk_kafka.to_binary(_sdk_event(sample_event(ContactStarted)), JSONFormat())

    env = from_kafka({**message.headers, "traceparent": TRACEPARENT.encode()}, message.value)

    assert env.traceparent == TRACEPARENT


def test_events_emitted_in_a_trace_scope_carry_its_traceparent():
    other = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    with trace_scope(TRACEPARENT, causes={"ev-7": other}):
        plain = new_envelope(sample_event(ContactStarted), source="/t")
        caused = new_envelope(sample_event(ContactStarted), source="/t", causation_id="ev-7")
    outside = new_envelope(sample_event(ContactStarted), source="/t")

    assert (plain.traceparent, caused.traceparent, outside.traceparent) == (TRACEPARENT, other, None)
