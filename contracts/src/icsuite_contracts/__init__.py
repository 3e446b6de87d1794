"""icsuite_contracts: the versioned event contracts shared by the suite's services.

One module per topic and version (``contacts_v1``, ``callbacks_v1``...) holds frozen Pydantic models;
:mod:`~icsuite_contracts.registry` lists the topics; :mod:`~icsuite_contracts.cloudevents` turns
events into CloudEvents Kafka records and back.
"""

from .base import Event, Value
from .cloudevents import (
    MAX_EVENT_BYTES,
    DecodeError,
    Envelope,
    KafkaRecord,
    derive_event_id,
    from_document,
    from_kafka,
    new_envelope,
    to_document,
    to_kafka,
)
from .registry import (
    TOPICS,
    Topic,
    all_event_types,
    all_topic_specs,
    model_for_type,
    topic,
    topic_for_type,
)

__all__ = [
    "MAX_EVENT_BYTES",
    "TOPICS",
    "DecodeError",
    "Envelope",
    "Event",
    "KafkaRecord",
    "Topic",
    "Value",
    "all_event_types",
    "all_topic_specs",
    "derive_event_id",
    "from_document",
    "from_kafka",
    "model_for_type",
    "new_envelope",
    "to_document",
    "to_kafka",
    "topic",
    "topic_for_type",
]
