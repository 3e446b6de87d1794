import pytest
from icsuite_contracts import TOPICS, all_event_types, all_topic_specs, model_for_type, topic, topic_for_type
from icsuite_contracts.base import Event
from icsuite_contracts.testing import sample_event

pytestmark = pytest.mark.unit

PARTITIONS = {
    "ic.contacts.v1": 6,
    "ic.masterdata.v1": 6,
    "ic.identity.v1": 6,
    "ic.interactions.v1": 6,
    "ic.callback-requests.v1": 3,
    "ic.callbacks.v1": 3,
    "ic.followups.v1": 3,
    "ic.alerts.v1": 3,
    "ic.privacy.v1": 6,
    "ic.account-merges.v1": 6,
}


def test_the_ten_v1_topics_with_their_partitions():
    assert {t.name: t.partitions for t in TOPICS} == PARTITIONS


def test_every_ce_type_is_unique_and_versioned():
    types = [m.ce_type for m in all_event_types()]

    assert len(types) == len(set(types))
    assert all(t.startswith("ic.") and t.endswith(".v1") for t in types)


@pytest.mark.parametrize("model", all_event_types(), ids=lambda m: m.ce_type)
def test_every_model_is_found_by_its_type_and_lives_on_an_existing_topic(model):
    assert issubclass(model, Event)
    assert model_for_type(model.ce_type) is model
    assert topic_for_type(model.ce_type) is topic(model.topic)
    assert model in topic(model.topic).event_types


def test_unknown_names_raise_key_error():
    with pytest.raises(KeyError):
        model_for_type("ic.nothing.v1")
    with pytest.raises(KeyError):
        topic_for_type("ic.nothing.v1")
    with pytest.raises(KeyError):
        topic("ic.nothing.v1")


def test_all_topic_specs_lists_every_topic_and_its_single_partition_dlq():
    specs = dict(all_topic_specs())

    for t in TOPICS:
        assert specs[t.name] == t.partitions
        assert specs[t.dlq] == 1
        assert t.dlq == f"{t.name}.dlq"
    assert len(specs) == 2 * len(TOPICS)


KEY_EXCEPTIONS = {  # events whose key is not the topic's key field (see CONTRACT.md)
    "ic.identity.caller-identified.v1": lambda e: e.request_id,
    "ic.identity.account-created.v1": lambda e: e.account_id,
    "ic.masterdata.premise-upserted.v1": lambda e: e.account_ids[0],
}


@pytest.mark.parametrize("model", all_event_types(), ids=lambda m: m.ce_type)
def test_the_key_is_the_aggregate_id_named_by_the_contract(model):
    event = sample_event(model)
    expected = KEY_EXCEPTIONS.get(model.ce_type, lambda e: getattr(e, topic(model.topic).key_field))

    assert event.key() == expected(event)
