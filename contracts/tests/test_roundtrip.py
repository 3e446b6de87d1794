import json

import pytest
from icsuite_contracts import (
    all_event_types,
    derive_event_id,
    from_document,
    from_kafka,
    new_envelope,
    to_document,
    to_kafka,
)
from icsuite_contracts.testing import sample_event

pytestmark = pytest.mark.unit

EVENT_TYPES = all_event_types()
ids = [m.ce_type for m in EVENT_TYPES]


def _envelope(model):
    return new_envelope(
        sample_event(model), source="/tests/contracts", correlation_id="ct-1", causation_id="ev-0", subject="s-1"
    )


@pytest.mark.parametrize("model", EVENT_TYPES, ids=ids)
def test_every_event_round_trips_through_kafka(model):
    env = _envelope(model)

    record = to_kafka(env)

    assert record.topic == model.topic
    assert record.key == env.data.key().encode()
    assert from_kafka(record.headers, record.value) == env


@pytest.mark.parametrize("model", EVENT_TYPES, ids=ids)
def test_every_event_round_trips_through_an_outbox_document(model):
    env = _envelope(model)

    doc = json.loads(json.dumps(to_document(env)))  # JSON-safe, as MongoDB would store it

    assert doc["topic"] == model.topic
    assert doc["key"] == env.key
    assert from_document(doc) == env


def test_headers_carry_the_cloudevents_attributes():
    env = new_envelope(sample_event(all_event_types()[0]), source="/cti", correlation_id="ct-9")

    headers = dict(to_kafka(env).headers)

    assert headers["ce_specversion"] == b"1.0"
    assert headers["ce_id"] == env.id.encode()
    assert headers["ce_type"] == env.type.encode()
    assert headers["ce_source"] == b"/cti"
    assert headers["ce_correlationid"] == b"ct-9"
    assert headers["content-type"] == b"application/json"
    assert headers["ce_subject"] == env.key.encode()  # the aggregate id, in every service
    assert "ce_causationid" not in headers and "correlation_id" not in headers


def test_value_is_compact_json_with_money_as_numbers():
    from icsuite_contracts.masterdata_v1 import BusinessAgreementUpserted

    env = new_envelope(sample_event(BusinessAgreementUpserted, balance="120.75"), source="/erp")

    value = to_kafka(env).value

    assert b": " not in value and b", " not in value
    body = json.loads(value)
    assert body["balance"] == 120.75
    assert body["open_bills"][0]["amount"] == 84.5


@pytest.mark.parametrize("as_mapping", [False, True])
def test_headers_may_be_text_or_bytes_in_pairs_or_a_mapping(as_mapping):
    env = _envelope(EVENT_TYPES[0])
    record = to_kafka(env)
    text_headers = [(name, value.decode()) for name, value in record.headers]

    headers = dict(text_headers) if as_mapping else text_headers

    assert from_kafka(headers, record.value.decode()) == env


def test_derived_event_ids_are_stable_and_distinct_per_purpose():
    assert derive_event_id("ev-1", "queued") == derive_event_id("ev-1", "queued")
    assert derive_event_id("ev-1", "queued") != derive_event_id("ev-1", "alert")
    assert derive_event_id("ev-1", "queued") != derive_event_id("ev-2", "queued")


def test_new_envelope_defaults_to_a_fresh_id_and_an_aware_time():
    first, second = (new_envelope(sample_event(EVENT_TYPES[0]), source="/t") for _ in range(2))

    assert first.id != second.id
    assert first.time.utcoffset() is not None
