"""Every retry of a consumer ends: lost races and failing dead-letter publishes give up into a named,
visible state, and dead-letter records fit the broker and carry no input values."""

import json
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from aiokafka.errors import KafkaConnectionError

from icsuite_chassis.consumer import ConsumerSpec, EventConsumer
from icsuite_chassis.dead_letters import DLQ_VALUE_LIMIT, MAX_HEADER_BYTES
from icsuite_chassis.metrics import CONSUMER_WAITING, DEAD_LETTERS_PARKED, EVENTS_DEAD_LETTERED
from icsuite_chassis.store import StoreConflict as VersionConflict
from icsuite_contracts.cloudevents import new_envelope, to_kafka
from icsuite_contracts.contacts_v1 import ContactStarted

pytestmark = pytest.mark.unit
BROKER_LIMIT = 1_048_576


@dataclass
class _Record:
    headers: list
    value: bytes
    topic: str = "ic.contacts.v1"
    partition: int = 0
    offset: int = 7
    key: bytes = b"k"


class _Publisher:
    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.sent: list[tuple[bytes, bytes | None, dict[str, str]]] = []
        self.tries = 0

    async def publish_raw(self, topic, value, *, key, headers) -> None:
        self.tries += 1
        if self.tries <= self.failures:
            raise KafkaConnectionError("dead-letter topic not writable")
        self.sent.append((value, key, headers))


class _Parked:
    def __init__(self) -> None:
        self.docs: dict[str, dict] = {}

    async def update_one(self, filter, update, upsert=False) -> None:
        self.docs.setdefault(filter["_id"], update["$setOnInsert"])


def _record(**overrides) -> _Record:
    event = ContactStarted(contact_id="c-1", channel="phone", direction="inbound", from_address="+4930123456",
                           started_at=datetime.now(UTC))
    kafka = to_kafka(new_envelope(event, source="/test"))
    return _Record(overrides.pop("headers", kafka.headers), overrides.pop("value", kafka.value), **overrides)


def _spec(handler, **options) -> ConsumerSpec:
    return ConsumerSpec(name="t-retries", topics=["ic.contacts.v1"], handlers={"ic.contact.started.v1": handler},
                        retry_backoff_s=0, **options)


async def test_a_handler_that_keeps_losing_races_is_dead_lettered_after_the_conflict_retries() -> None:
    calls = []

    async def racing(envelope) -> None:
        calls.append(1)
        raise VersionConflict("lost again")

    publisher = _Publisher()
    before = EVENTS_DEAD_LETTERED.labels("t-retries", "ic.contacts.v1", "conflict_retries_exhausted")._value.get()
    await EventConsumer(_spec(racing, conflict_retries=4), publisher)._process(_record())  # type: ignore[arg-type]
    assert len(calls) == 5
    _, _, headers = publisher.sent[0]
    assert headers["dlq_reason"] == "conflict_retries_exhausted"
    assert headers["dlq_error_location"].startswith("test_consumer_retries.py:") and "racing" in headers["dlq_error_location"]
    after = EVENTS_DEAD_LETTERED.labels("t-retries", "ic.contacts.v1", "conflict_retries_exhausted")._value.get()
    assert after == before + 1


async def test_an_outage_is_waited_for_visibly_and_not_dead_lettered() -> None:
    calls, waiting = [], []

    async def outage_then_ok(envelope) -> None:
        calls.append(1)
        waiting.append(CONSUMER_WAITING.labels("t-retries")._value.get())
        if len(calls) < 6:
            raise KafkaConnectionError("down")

    publisher = _Publisher()
    await EventConsumer(_spec(outage_then_ok, retries=1), publisher)._process(_record())  # type: ignore[arg-type]
    assert len(calls) == 6 and publisher.sent == []
    assert waiting[1:] == [1] * 5 and CONSUMER_WAITING.labels("t-retries")._value.get() == 0


async def test_a_dead_letter_publish_that_keeps_failing_parks_the_record_and_the_batch_goes_on() -> None:
    publisher, parked = _Publisher(failures=100), _Parked()
    consumer = EventConsumer(_spec(None, dead_letter_retries=3), publisher, parked)  # type: ignore[arg-type]
    before = DEAD_LETTERS_PARKED.labels("t-retries", "ic.contacts.v1")._value.get()
    await consumer._process(_Record([], b"{"))  # no headers: dead-lettered as missing_header
    assert publisher.tries == 4 and publisher.sent == []
    doc = parked.docs["ic.contacts.v1:0:7:t-retries"]
    assert doc["topic"] == "ic.contacts.v1.dlq" and doc["headers"]["dlq_reason"] == "missing_header"
    assert DEAD_LETTERS_PARKED.labels("t-retries", "ic.contacts.v1")._value.get() == before + 1


async def test_without_a_place_to_park_the_failure_is_raised_after_the_retries() -> None:
    publisher = _Publisher(failures=100)
    consumer = EventConsumer(_spec(None, dead_letter_retries=2), publisher)  # type: ignore[arg-type]
    with pytest.raises(KafkaConnectionError):
        await consumer._process(_Record([], b"{"))
    assert publisher.tries == 3


async def test_a_dead_letter_record_fits_the_broker_whatever_the_original_carried() -> None:
    huge = [("ce_subject", b"s" * 500_000), ("x-trace", b"t" * 500_000), ("x-other", b"o")]
    record = _record(headers=[*_record().headers, *huge], value=b"x" * 1_000_000, key=b"k" * 10_000)
    publisher = _Publisher()
    await EventConsumer(_spec(None), publisher)._process(record)  # type: ignore[arg-type]
    value, key, headers = publisher.sent[0]
    size = len(value) + len(key) + sum(len(k) + len(v.encode()) for k, v in headers.items())
    assert size < BROKER_LIMIT - 64 * 1024
    assert len(value) == DLQ_VALUE_LIMIT and headers["dlq_truncated_from"] == "1000000"
    assert "x-trace" not in headers and "x-other" not in headers  # only the CloudEvents headers are kept
    assert len(headers["ce_subject"].encode()) <= MAX_HEADER_BYTES and headers["ce_type"] == "ic.contact.started.v1"


async def test_dead_letter_headers_name_the_kind_and_location_not_the_input_values() -> None:
    secret = "Erika Mustermann, Hauptstr. 5"
    bad_model = _record(value=json.dumps({"contact_id": "c-1", "channel": secret, "direction": "inbound",
                                          "from_address": "+4930123456", "started_at": "x" + secret}).encode())
    failing_text = "customer Erika Mustermann owes 300"

    async def failing(envelope) -> None:
        raise KeyError(failing_text)

    unknown = _record(headers=[(k, b"ic.contact.teleported.v1" if k == "ce_type" else v) for k, v in _record().headers])
    publisher = _Publisher()
    consumer = EventConsumer(_spec(failing, retries=0), publisher)  # type: ignore[arg-type]
    for record in (bad_model, _record(), unknown, _record(value=b"{" + secret.encode())):
        await consumer._process(record)
    by_reason = {h["dlq_reason"]: h for _, _, h in publisher.sent}
    assert set(by_reason) == {"invalid_model", "handler_failed", "unknown_type", "not_json"}
    assert by_reason["invalid_model"]["dlq_error_location"] == "channel,started_at"
    assert by_reason["handler_failed"]["dlq_error_kind"] == "KeyError"
    assert "in failing" in by_reason["handler_failed"]["dlq_error_location"]
    assert by_reason["unknown_type"]["dlq_error_location"] == "ce_type"
    assert by_reason["not_json"]["dlq_error_location"] == "body"
    for headers in by_reason.values():
        dlq = " ".join(v for k, v in headers.items() if k.startswith("dlq_"))
        assert "Erika" not in dlq and "Hauptstr" not in dlq and "300" not in dlq
