"""Dead-letter records that always fit the broker, say what went wrong without the input, and never stall.

A dead-letter record keeps the original value (cut at :data:`DLQ_VALUE_LIMIT`), the original key (cut at
:data:`MAX_KEY_BYTES`) and only the original CloudEvents headers (``ce_*``, ``content-type``, each cut at
:data:`MAX_HEADER_BYTES`), so it stays below the broker's 1 MiB limit whatever the original carried. Its
``dlq_*`` headers name the error's kind and location (a field path, a header, ``body``, or the source
line of a handler), never the values of the input.

When the dead-letter topic cannot be written after its retries, the record is parked in the service's
``dead_letters_parked`` collection instead (a metric and a warning say so) and the batch goes on.
"""

from __future__ import annotations

import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection

from .logging import get_logger
from .metrics import DEAD_LETTERS_PARKED

DLQ_VALUE_LIMIT = 900_000
MAX_KEY_BYTES = 1024
MAX_HEADER_BYTES = 256
MAX_KEPT_HEADERS = 16
PARKED_DEAD_LETTERS = "dead_letters_parked"
_DECODE_TEXT = {
    "not_json": ("body", "the body is not a JSON document of the declared content type"),
    "unknown_type": ("ce_type", "no event model has this ce_type"),
    "missing_header": (None, "a required CloudEvents attribute is missing or unusable"),
    "too_large": ("body", "the body is larger than the event limit"),
}
_log = get_logger(__name__)


def error_location(exc: BaseException) -> str:
    """Where ``exc`` was raised: ``file.py:line in function`` of the innermost frame."""
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return "unknown"
    frame = frames[-1]
    return f"{Path(frame.filename).name}:{frame.lineno} in {frame.name}"


def describe(reason: str, error: str, location: str | None) -> tuple[str, str]:
    """The location and a description of the error free of input values."""
    if reason in _DECODE_TEXT:
        where, text = _DECODE_TEXT[reason]
        body = error.split(": ", 1)[1] if ": " in error else error
        return location or where or body.split(" ", 1)[0], text
    if reason == "invalid_model":  # "invalid_model: <ce_type>: loc: msg; loc: msg" (pydantic messages hold no input)
        problems = error.split(": ", 2)[-1]
        places = [part.split(": ", 1)[0] for part in problems.split("; ")]
        return location or ",".join(places)[:MAX_HEADER_BYTES], problems
    return location or "unknown", error


def _cut(data: bytes, limit: int) -> bytes:
    return data if len(data) <= limit else data[:limit]


def _text(value: Any) -> str:
    raw = value if isinstance(value, bytes) else str(value).encode()
    return _cut(raw, MAX_HEADER_BYTES).decode("utf-8", "replace")


def _kept_headers(record: Any) -> dict[str, str]:
    kept: dict[str, str] = {}
    for name, value in record.headers or ():
        key = name.decode("utf-8", "replace") if isinstance(name, bytes) else str(name)
        if (key.startswith("ce_") or key == "content-type") and len(kept) < MAX_KEPT_HEADERS:
            kept[key[:64]] = _text(value)
    return kept


def dead_letter_record(record: Any, consumer: str, reason: str, error: str,
                       location: str | None = None) -> tuple[bytes, bytes | None, dict[str, str]]:
    """The value, key and headers of the dead-letter record of ``record``."""
    where, text = describe(reason, error, location)
    value = record.value or b""
    headers = _kept_headers(record)
    headers.update({
        "dlq_reason": reason,
        "dlq_error_kind": _error_kind(reason, error),
        "dlq_error_location": where[:MAX_HEADER_BYTES],
        "dlq_error": text[:2000],
        "dlq_consumer": consumer,
        "dlq_original_topic": record.topic,
        "dlq_original_partition": str(record.partition),
        "dlq_original_offset": str(record.offset),
        "dlq_failed_at": datetime.now(UTC).isoformat(),
    })
    if len(value) > DLQ_VALUE_LIMIT:
        headers["dlq_truncated_from"] = str(len(value))
        value = value[:DLQ_VALUE_LIMIT]
    key = _cut(record.key, MAX_KEY_BYTES) if record.key is not None else None
    return value, key, headers


def _error_kind(reason: str, error: str) -> str:
    if reason in _DECODE_TEXT or reason == "invalid_model":
        return reason
    return error.split(":", 1)[0][:64] if reason == "handler_failed" else reason


async def park_dead_letter(collection: AsyncCollection[dict[str, Any]], record: Any, *, consumer: str,
                           value: bytes, key: bytes | None, headers: dict[str, str], failure: BaseException) -> None:
    """Keep a dead-letter record the topic would not take; raises if the database cannot store it either."""
    doc_id = f"{record.topic}:{record.partition}:{record.offset}:{consumer}"
    await collection.update_one({"_id": doc_id}, {"$setOnInsert": {
        "topic": f"{record.topic}.dlq", "value": value, "key": key, "headers": headers, "consumer": consumer,
        "publish_error": f"{type(failure).__name__}: {failure}"[:1000], "parked_at": datetime.now(UTC)}},
        upsert=True)
    DEAD_LETTERS_PARKED.labels(consumer, record.topic).inc()
    _log.warning("dead-letter topic not writable: the dead-letter record is parked and the batch goes on",
                 consumer=consumer, topic=record.topic, partition=record.partition, offset=record.offset,
                 parked_collection=PARKED_DEAD_LETTERS, error=type(failure).__name__)
