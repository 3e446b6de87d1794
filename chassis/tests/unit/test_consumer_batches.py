"""The optional batch handler of a consumer: one call per batch, and event-by-event when it fails."""

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from icsuite_chassis.consumer import ConsumerSpec, EventConsumer
from icsuite_contracts.cloudevents import new_envelope, to_kafka
from icsuite_contracts.contacts_v1 import ContactStarted

pytestmark = pytest.mark.unit


@dataclass
class _Record:
    headers: list
    value: bytes
    topic: str = "ic.contacts.v1"
    partition: int = 0
    offset: int = 0
    key: bytes = b"k"


class _Publisher:
    def __init__(self) -> None:
        self.raw: list[str] = []

    async def publish_raw(self, topic, value, *, key, headers) -> None:
        self.raw.append(headers["dlq_reason"])


def _record(contact_id: str) -> _Record:
    event = ContactStarted(contact_id=contact_id, channel="phone", direction="inbound", from_address="+4930123456",
                           started_at=datetime.now(UTC))
    kafka = to_kafka(new_envelope(event, source="/test"))
    return _Record(kafka.headers, kafka.value)


async def test_a_batch_handler_gets_the_decodable_events_in_one_call() -> None:
    batches, single = [], []

    async def one(envelope) -> None:
        single.append(envelope.data.contact_id)

    async def many(envelopes) -> None:
        batches.append([e.data.contact_id for e in envelopes])

    publisher = _Publisher()
    spec = ConsumerSpec(name="t", topics=["ic.contacts.v1"], handlers={"ic.contact.started.v1": one},
                        batch_handler=many)
    consumer = EventConsumer(spec, publisher)  # type: ignore[arg-type]
    await consumer._process_batch([_record("c-1"), _Record([], b"{"), _record("c-2")])
    assert batches == [["c-1", "c-2"]] and single == []
    assert publisher.raw == ["missing_header"]


async def test_a_failing_batch_handler_falls_back_to_the_event_handlers() -> None:
    single = []

    async def one(envelope) -> None:
        single.append(envelope.data.contact_id)

    async def many(envelopes) -> None:
        raise RuntimeError("bulk write refused")

    spec = ConsumerSpec(name="t", topics=["ic.contacts.v1"], handlers={"ic.contact.started.v1": one},
                        batch_handler=many)
    await EventConsumer(spec, _Publisher())._process_batch([_record("c-1"), _record("c-2")])  # type: ignore[arg-type]
    assert single == ["c-1", "c-2"]


async def test_a_handler_losing_compare_and_set_races_is_retried_past_the_retry_limit_not_dead_lettered() -> None:
    """Contention is not a bad message: a VersionConflict is retried like an unreachable database."""
    from icsuite_chassis.store import StoreConflict as VersionConflict

    calls = []

    async def one(envelope) -> None:
        calls.append(envelope.data.contact_id)
        if len(calls) <= 4:  # more than `retries` (1) failures in a row
            raise VersionConflict("the record kept changing")

    publisher = _Publisher()
    spec = ConsumerSpec(name="t", topics=["ic.contacts.v1"], handlers={"ic.contact.started.v1": one},
                        retries=1, retry_backoff_s=0.0)
    await EventConsumer(spec, publisher)._process(_record("c-1"))  # type: ignore[arg-type]
    assert calls == ["c-1"] * 5 and publisher.raw == []
