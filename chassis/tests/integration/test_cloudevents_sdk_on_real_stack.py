"""Events written by the official CloudEvents SDK (binary, percent-encoded binary, structured) on the real
Kafka are handled by the consumer chassis; what the chassis publishes is read back by the SDK."""

from datetime import UTC, datetime

import pytest
from cloudevents.core.bindings import kafka as sdk_kafka
from cloudevents.core.bindings.common import encode_header_value
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent

from icsuite_chassis.runtime import ServiceRuntime
from icsuite_chassis.settings import ServiceSettings
from icsuite_chassis.shredding import TOKEN_PREFIX, open_data
from icsuite_chassis.testing import eventually, publish_raw, read_topic, unique
from icsuite_contracts.cloudevents import new_envelope, to_document
from icsuite_contracts.contacts_v1 import ContactStarted
from icsuite_contracts.interactions_v1 import NoteAdded
from icsuite_contracts.personal import ERASED

pytestmark = [pytest.mark.integration]

AT = datetime(2026, 12, 1, 0, 55, 59, tzinfo=UTC)
STABLE_HEADERS = {"content-type", "ce_specversion", "ce_type", "ce_source", "ce_traceparent"}
TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def _started(contact_id: str) -> ContactStarted:
    return ContactStarted(contact_id=contact_id, channel="phone", direction="inbound",
                          from_address="+4930123456", started_at=AT)


def _sdk_event(contact_id: str, **extensions: str) -> CloudEvent:
    data = _started(contact_id)
    return CloudEvent(attributes={"type": data.ce_type, "source": "/cti/sdk", "time": AT,
                                  "subject": f"contact {contact_id}", "partitionkey": contact_id,
                                  "datacontenttype": "application/json", **extensions},
                      data=data.model_dump(mode="json"))


def _percent_encoded(message: sdk_kafka.KafkaMessage) -> dict[str, bytes]:
    return {name: encode_header_value(value.decode()).encode() if name.startswith("ce_") else value
            for name, value in message.headers.items()}


async def test_sdk_messages_in_both_modes_are_handled(stack) -> None:
    settings = ServiceSettings(service_name="chassis-sdk", kafka_bootstrap_servers=stack.kafka_bootstrap,
                               mongodb_uri=stack.mongodb_uri, mongodb_database=unique("sdk").replace("-", "_"))
    runtime = ServiceRuntime(settings)
    handled: dict[str, object] = {}

    async def remember(envelope) -> None:
        handled[envelope.data.contact_id] = envelope

    runtime.add_consumer(unique("sdk"), ["ic.contacts.v1"], {"ic.contact.started.v1": remember})
    binary, encoded, structured = unique("c-bin"), unique("c-pct"), unique("c-str")
    messages = [
        sdk_kafka.to_binary(_sdk_event(binary, correlationid="corr-b", traceparent=TRACEPARENT), JSONFormat()),
        sdk_kafka.to_binary(_sdk_event(encoded), JSONFormat()),
        sdk_kafka.to_structured(_sdk_event(structured, correlationid="corr-s"), JSONFormat()),
    ]
    encoded_headers = _percent_encoded(messages[1])
    assert b"%3A" in encoded_headers["ce_time"]
    for message, headers in zip(messages, (messages[0].headers, encoded_headers, messages[2].headers)):
        await publish_raw(stack.kafka_bootstrap, "ic.contacts.v1", message.value, key=message.key.encode(),
                          headers=list(headers.items()))
    await runtime.start()
    try:
        await eventually(lambda: _all_handled(handled, binary, encoded, structured), timeout=30)
    finally:
        await runtime.stop()
    assert handled[binary].correlation_id == "corr-b" and handled[binary].traceparent == TRACEPARENT
    assert handled[encoded].time == AT and handled[encoded].subject == f"contact {encoded}"
    assert handled[encoded].correlation_id == encoded  # none given: the contact, as in every service
    assert handled[structured].correlation_id == "corr-s" and handled[structured].time == AT


async def _all_handled(handled: dict[str, object], *contacts: str) -> bool:
    return all(contact in handled for contact in contacts)


async def test_published_records_carry_cloudevents_headers_only_and_the_sdk_reads_them(stack) -> None:
    settings = ServiceSettings(service_name="chassis-sdk-out", kafka_bootstrap_servers=stack.kafka_bootstrap,
                               mongodb_uri=stack.mongodb_uri, mongodb_database=unique("sdk").replace("-", "_"))
    runtime = ServiceRuntime(settings)
    contact = unique("c-out")
    envelope = new_envelope(_started(contact), source="/chassis-test", traceparent=TRACEPARENT)
    await runtime.broker.start()
    try:
        await runtime.publish_now(envelope)
    finally:
        await runtime.broker.stop()
        await runtime.mongo.close()
    [record] = await read_topic(stack.kafka_bootstrap, "ic.contacts.v1",
                                lambda r: r.key == contact.encode(), expect=1)

    names = {name for name, _ in record.headers}
    assert names == {"content-type", "ce_specversion", "ce_id", "ce_type", "ce_source", "ce_time",
                     "ce_subject", "ce_correlationid", "ce_traceparent"}
    event = sdk_kafka.from_binary(sdk_kafka.KafkaMessage(dict(record.headers), record.key, record.value),
                                  JSONFormat())
    assert (event.get_id(), event.get_subject(), event.get_extension("correlationid")) == (envelope.id, contact,
                                                                                           contact)
    assert event.get_data()["contact_id"] == contact


async def test_a_sealed_event_is_valid_cloudevents_json_for_the_sdk_and_opens_with_the_key_ring(stack) -> None:
    """Crypto-shredding is on by default: a personal field travels as a token string, so the record stays a
    CloudEvent with JSON data any SDK reads; only the key ring turns the token back into the text."""
    settings = ServiceSettings(service_name="chassis-sdk-sealed", kafka_bootstrap_servers=stack.kafka_bootstrap,
                               mongodb_uri=stack.mongodb_uri, mongodb_database=unique("sdk").replace("-", "_"))
    assert settings.crypto_shredding
    runtime = ServiceRuntime(settings)
    interaction, account = unique("i-sealed"), unique("acc-sealed")
    note = NoteAdded(interaction_id=interaction, account_id=account, note_id="n-1", type="note", language="de",
                     text="Kunde bittet um Ratenzahlung", author="a-1", created_at=AT)
    await runtime.broker.start()
    try:
        await runtime.publish_now(new_envelope(note, source="/chassis-test"))
        [record] = await read_topic(stack.kafka_bootstrap, "ic.interactions.v1",
                                    lambda r: r.key == interaction.encode(), expect=1)
        event = sdk_kafka.from_binary(sdk_kafka.KafkaMessage(dict(record.headers), record.key, record.value),
                                      JSONFormat())
        data = event.get_data()
        assert data["text"].startswith(TOKEN_PREFIX) and data["account_id"] == account
        assert "Ratenzahlung" not in record.value.decode()
        assert (await open_data(record.headers, record.value, runtime.key_ring))["text"] == note.text
        await runtime.key_ring.erase(account)
        assert (await open_data(record.headers, record.value, runtime.key_ring))["text"] == ERASED
    finally:
        await runtime.broker.stop()
        await runtime.mongo.close()


async def test_the_relays_send_writes_the_record_the_brokers_publish_writes(stack) -> None:
    """The outbox relay hands records to the broker's aiokafka producer directly (issue 22: the broker's publish
    cost as much again per record); what reaches Kafka is the record the broker's own publish writes."""
    settings = ServiceSettings(service_name="chassis-sdk-send", kafka_bootstrap_servers=stack.kafka_bootstrap,
                               mongodb_uri=stack.mongodb_uri, mongodb_database=unique("sdk").replace("-", "_"),
                               crypto_shredding=False)
    runtime = ServiceRuntime(settings)
    published, sent = unique("c-pub"), unique("c-send")
    envelopes = {contact: new_envelope(_started(contact), source="/chassis-test", traceparent=TRACEPARENT)
                 for contact in (published, sent)}
    await runtime.broker.start()
    try:
        assert runtime.publisher._producer() is not None  # the direct path is the one taken
        await runtime.publisher.publish(envelopes[published])
        await (await runtime.publisher.send_document(to_document(envelopes[sent])))
    finally:
        await runtime.broker.stop()
        await runtime.mongo.close()
    records = {contact: (await read_topic(stack.kafka_bootstrap, "ic.contacts.v1",
                                          lambda r, c=contact: r.key == c.encode(), expect=1))[0]
               for contact in (published, sent)}

    def comparable(record, contact):  # the ids, times and contacts of the two events differ
        headers = [(name, value if name in STABLE_HEADERS else None) for name, value in record.headers]
        return headers, record.value.replace(contact.encode(), b"C")

    assert comparable(records[sent], sent) == comparable(records[published], published)
    assert dict(records[sent].headers)["content-type"] == b"application/json"
