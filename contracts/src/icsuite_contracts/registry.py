"""Every v1 topic, its Kafka key, its partitions and the event types it carries."""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

from . import (
    account_merges_v1,
    alerts_v1,
    callback_requests_v1,
    callbacks_v1,
    contacts_v1,
    followups_v1,
    identity_v1,
    interactions_v1,
    masterdata_v1,
    privacy_v1,
)
from .base import Event

__all__ = [
    "DLQ_PARTITIONS",
    "TOPICS",
    "Topic",
    "all_event_types",
    "all_topic_specs",
    "model_for_type",
    "topic",
    "topic_for_type",
]

DLQ_PARTITIONS = 1


@dataclass(frozen=True)
class Topic:
    """A Kafka topic of the suite."""

    name: str
    key_field: str
    """The aggregate id used as the Kafka key (see each event's ``key()`` for exceptions)."""
    partitions: int
    event_types: tuple[type[Event], ...]

    @property
    def dlq(self) -> str:
        """The dead-letter topic for messages of this topic that cannot be processed."""
        return f"{self.name}.dlq"


TOPICS: tuple[Topic, ...] = (
    Topic(contacts_v1.TOPIC, "contact_id", 6, contacts_v1.EVENT_TYPES),
    Topic(callback_requests_v1.TOPIC, "request_id", 3, callback_requests_v1.EVENT_TYPES),
    Topic(masterdata_v1.TOPIC, "account_id", 6, masterdata_v1.EVENT_TYPES),
    Topic(identity_v1.TOPIC, "contact_id", 6, identity_v1.EVENT_TYPES),
    Topic(interactions_v1.TOPIC, "interaction_id", 6, interactions_v1.EVENT_TYPES),
    Topic(callbacks_v1.TOPIC, "callback_id", 3, callbacks_v1.EVENT_TYPES),
    Topic(followups_v1.TOPIC, "followup_id", 3, followups_v1.EVENT_TYPES),
    Topic(alerts_v1.TOPIC, "account_id", 3, alerts_v1.EVENT_TYPES),
    Topic(privacy_v1.TOPIC, "account_id", 6, privacy_v1.EVENT_TYPES),
    Topic(account_merges_v1.TOPIC, "merge_id", 6, account_merges_v1.EVENT_TYPES),
)

_TOPICS_BY_NAME = MappingProxyType({t.name: t for t in TOPICS})
_TOPICS_BY_TYPE = MappingProxyType({m.ce_type: t for t in TOPICS for m in t.event_types})
_MODELS_BY_TYPE = MappingProxyType({m.ce_type: m for t in TOPICS for m in t.event_types})


def topic(name: str) -> Topic:
    """The topic called ``name``; ``KeyError`` if the suite has none."""
    return _TOPICS_BY_NAME[name]


def model_for_type(ce_type: str) -> type[Event]:
    """The data model of ``ce_type``; ``KeyError`` if the type is unknown."""
    return _MODELS_BY_TYPE[ce_type]


def topic_for_type(ce_type: str) -> Topic:
    """The topic that carries ``ce_type``; ``KeyError`` if the type is unknown."""
    return _TOPICS_BY_TYPE[ce_type]


def all_event_types() -> list[type[Event]]:
    """Every event model, topic by topic."""
    return [m for t in TOPICS for m in t.event_types]


def all_topic_specs() -> list[tuple[str, int]]:
    """``(name, partitions)`` of every topic and its dead-letter topic, for creating them."""
    specs: list[tuple[str, int]] = []
    for t in TOPICS:
        specs.append((t.name, t.partitions))
        specs.append((t.dlq, DLQ_PARTITIONS))
    return specs
