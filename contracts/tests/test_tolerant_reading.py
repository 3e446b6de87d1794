import json
from datetime import datetime

import pydantic
import pytest
from icsuite_contracts import from_document, from_kafka, new_envelope, to_document, to_kafka
from icsuite_contracts.followups_v1 import FollowupCreated
from icsuite_contracts.masterdata_v1 import AccountUpserted, BusinessAgreementUpserted
from icsuite_contracts.testing import sample_event

pytestmark = pytest.mark.unit


def _with_body(env, mutate):
    record = to_kafka(env)
    body = json.loads(record.value)
    mutate(body)
    return record.headers, json.dumps(body).encode()


def test_unknown_top_level_field_is_ignored():
    env = new_envelope(sample_event(AccountUpserted), source="/erp")

    headers, value = _with_body(env, lambda b: b.update(loyalty_tier="gold"))

    assert from_kafka(headers, value) == env


@pytest.mark.parametrize(
    ("model", "mutate"),
    [
        (AccountUpserted, lambda b: b["address"].update(district="Mitte")),
        (BusinessAgreementUpserted, lambda b: b["open_bills"][0].update(dunning_block=True)),
        (FollowupCreated, lambda b: b["source"].update(display_area="linked_objects")),
    ],
    ids=["address", "list-item", "source-ref"],
)
def test_unknown_nested_field_is_ignored(model, mutate):
    env = new_envelope(sample_event(model), source="/t")

    headers, value = _with_body(env, mutate)

    assert from_kafka(headers, value) == env


def test_outbox_documents_are_read_tolerantly_too():
    env = new_envelope(sample_event(AccountUpserted), source="/erp")
    doc = to_document(env)
    doc["data"]["address"]["district"] = "Mitte"
    doc["_id"] = "outbox-1"

    assert from_document(doc) == env


def test_producer_refuses_an_unknown_field():
    with pytest.raises(pydantic.ValidationError, match="extra"):
        sample_event(AccountUpserted, loyalty_tier="gold")


def test_producer_refuses_an_unknown_nested_field():
    address = {"street": "Hauptstr. 5", "postcode": "10115", "city": "Berlin", "country": "DE", "district": "Mitte"}

    with pytest.raises(pydantic.ValidationError, match="extra"):
        sample_event(AccountUpserted, address=address)


def test_tolerant_reading_leaves_the_producer_model_strict():
    env = new_envelope(sample_event(AccountUpserted), source="/erp")
    headers, value = _with_body(env, lambda b: b.update(loyalty_tier="gold"))
    from_kafka(headers, value)

    with pytest.raises(pydantic.ValidationError):
        AccountUpserted.model_validate_json(value)


def test_events_are_frozen():
    event = sample_event(AccountUpserted)

    with pytest.raises(pydantic.ValidationError):
        event.name = "someone else"


def test_naive_times_are_refused():
    with pytest.raises(pydantic.ValidationError, match="timezone"):
        sample_event(FollowupCreated, created_at=datetime(2025, 3, 1, 9, 0))
