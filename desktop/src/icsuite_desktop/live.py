"""The current contact pushed to the agent's page: a feed of ``ic.contacts.v1`` and ``ic.identity.v1``.

Every desktop process reads both topics from their end, without a consumer group (each replica must see
every event, and a missed event is harmless: a page that connects reads the current state first). When an
agent's segment starts the feed tells that agent's open pages which contact it is, with what the channel
reported when the contact started; an identification of that contact tells them again. The feed holds
only the recent contacts, bounded, and nothing survives a restart.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from icsuite_chassis.logging import get_logger
from icsuite_chassis.shredding import erase_sealed
from icsuite_contracts.cloudevents import Envelope, from_kafka
from icsuite_contracts.contacts_v1 import TOPIC as CONTACTS_TOPIC
from icsuite_contracts.contacts_v1 import ContactSegmentRecorded, ContactStarted
from icsuite_contracts.identity_v1 import TOPIC as IDENTITY_TOPIC
from icsuite_contracts.identity_v1 import ContactIdentified

from .settings import DesktopSettings

_log = get_logger(__name__)
QUEUE_SIZE = 32
RETRY_S = 2.0


@dataclass(frozen=True)
class ContactPush:
    """What an agent's page is told: the contact, and what its channel reported (None when not seen)."""

    contact_id: str
    started: dict[str, Any] | None


class ContactFeed:
    """Which agent handles which recent contact, and the queues of the agents' open pages."""

    def __init__(self, max_contacts: int = 10_000):
        self.max_contacts = max_contacts
        self._started: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._agent_of: OrderedDict[str, str] = OrderedDict()
        self._latest_of: OrderedDict[str, str] = OrderedDict()  # agent -> the contact of its newest segment
        self._pages: dict[str, set[asyncio.Queue[ContactPush]]] = {}
        self.positioned = asyncio.Event()
        """Set once the feed knows where the topics end: an event published after that is not missed."""

    def subscribe(self, agent_id: str) -> asyncio.Queue[ContactPush]:
        queue: asyncio.Queue[ContactPush] = asyncio.Queue(QUEUE_SIZE)
        self._pages.setdefault(agent_id, set()).add(queue)
        return queue

    def unsubscribe(self, agent_id: str, queue: asyncio.Queue[ContactPush]) -> None:
        pages = self._pages.get(agent_id)
        if pages is not None:
            pages.discard(queue)
            if not pages:
                del self._pages[agent_id]

    def on_events(self, envelopes: Iterable[Envelope]) -> None:
        for envelope in envelopes:
            self.on_event(envelope.data)

    def on_event(self, event: object) -> None:
        if isinstance(event, ContactStarted):
            self._remember(self._started, event.contact_id, event.model_dump(mode="json"))
        elif isinstance(event, ContactSegmentRecorded):
            if event.kind == "agent" and event.agent_id and event.ended_at is None:
                self._remember(self._agent_of, event.contact_id, event.agent_id)
                self._remember(self._latest_of, event.agent_id, event.contact_id)
                self._tell(event.agent_id, event.contact_id)
        elif isinstance(event, ContactIdentified):
            agent = self._agent_of.get(event.contact_id)
            if agent is not None and self._latest_of.get(agent) == event.contact_id:  # never back to an older one
                self._tell(agent, event.contact_id)

    def _remember(self, table: OrderedDict[str, Any], key: str, value: Any) -> None:
        table[key] = value
        table.move_to_end(key)
        while len(table) > self.max_contacts:
            table.popitem(last=False)

    def _tell(self, agent_id: str, contact_id: str) -> None:
        push = ContactPush(contact_id, self._started.get(contact_id))
        for queue in self._pages.get(agent_id, ()):
            if queue.full():  # a page that does not read keeps only the newest pushes
                queue.get_nowait()
            queue.put_nowait(push)


def _consumer(settings: DesktopSettings) -> Any:
    from aiokafka import AIOKafkaConsumer

    security: dict[str, Any] = {}
    if settings.kafka_security_protocol != "PLAINTEXT":
        security = {"security_protocol": settings.kafka_security_protocol,
                    "sasl_mechanism": settings.kafka_sasl_mechanism,
                    "sasl_plain_username": settings.kafka_sasl_username,
                    "sasl_plain_password": settings.kafka_sasl_password}
        if settings.kafka_security_protocol == "SASL_SSL":
            from aiokafka.helpers import create_ssl_context

            security["ssl_context"] = create_ssl_context()
    return AIOKafkaConsumer(CONTACTS_TOPIC, IDENTITY_TOPIC, bootstrap_servers=settings.kafka_bootstrap_servers,
                            group_id=None, enable_auto_commit=False, auto_offset_reset="latest",
                            fetch_max_wait_ms=settings.live_fetch_max_wait_ms, client_id="icsuite-desktop-live",
                            **security)


def _decode(record: Any) -> Envelope | None:
    """The event, its sealed personal fields (crypto-shredding) in their erased form: the feed needs only ids
    and agents, so the desktop never reads the key vault."""
    try:
        return from_kafka(record.headers or [], record.value or b"", unseal=erase_sealed)
    except Exception:  # an event this feed cannot read is someone else's dead letter, never its problem
        return None


async def _position_at_end(consumer: Any) -> None:
    """Resolve the end of every partition now. Left to the first fetch, "latest" is looked up lazily, and a
    contact published between the page opening and that lookup was skipped (the agent never saw the call)."""
    await consumer.seek_to_end()
    for partition in consumer.assignment():
        await consumer.position(partition)


async def run_feed(settings: DesktopSettings, feed: ContactFeed) -> None:
    """Read both topics until cancelled; a broker that is away is retried every few seconds."""
    while True:
        consumer = _consumer(settings)
        try:
            await consumer.start()
            await _position_at_end(consumer)
            feed.positioned.set()
            _log.info("live contact feed reading", topics=[CONTACTS_TOPIC, IDENTITY_TOPIC])
            while True:
                batches = await consumer.getmany(timeout_ms=1000, max_records=500)
                for records in batches.values():
                    feed.on_events(e for e in map(_decode, records) if e is not None)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            _log.warning("live contact feed interrupted; retrying", error=type(exc).__name__)
            await asyncio.sleep(RETRY_S)
        finally:
            await consumer.stop()
