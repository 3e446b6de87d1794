"""Helpers for the suite's tests: publish envelopes, read topics, wait for effects, run an app in-process."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any, TypeVar

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from fastapi import FastAPI
from icsuite_contracts.cloudevents import DecodeError, Envelope, to_kafka

from .auth import mint_token
from .data_keys import KeyRing
from .settings import DEVELOPMENT_JWT_SECRET
from .shredding import TOKEN_PREFIX, open_data

T = TypeVar("T")


class SettableClock:
    """A clock for tests, called like ``icsuite_chassis.clock.Clock``: it stands at ``now`` until a test sets
    ``now`` or calls ``advance``."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float = 0.0, **delta: float) -> None:
        """Move on by ``seconds`` and any other ``timedelta`` fields (``minutes=2``, ``days=7``)."""
        self.now += timedelta(seconds=seconds, **delta)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def bearer(sub: str, *roles: str, secret: str = DEVELOPMENT_JWT_SECRET, skills: list[str] | None = None,
           languages: list[str] | None = None) -> dict[str, str]:
    token = mint_token(secret, sub, list(roles), skills=skills, languages=languages)
    return {"Authorization": f"Bearer {token}"}


async def publish_envelopes(bootstrap: str, *envelopes: Envelope) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        for envelope in envelopes:
            record = to_kafka(envelope)
            await producer.send_and_wait(record.topic, record.value, key=record.key, headers=record.headers)
    finally:
        await producer.stop()


async def publish_raw(bootstrap: str, topic: str, value: bytes, *, key: bytes | None = None,
                      headers: list[tuple[str, bytes | str]] | None = None) -> None:
    encoded = [(k, v.encode() if isinstance(v, str) else v) for k, v in headers or ()]
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", max_request_size=4 * 1024 * 1024)
    await producer.start()
    try:
        await producer.send_and_wait(topic, value, key=key, headers=encoded)
    finally:
        await producer.stop()


async def opened_record(record: Any, key_ring: KeyRing | None) -> Any:
    """``record`` with its value as the producer's plain JSON data: the personal fields the services seal
    (crypto-shredding, on by default) opened with ``key_ring``, or in their erased form for an erased account.
    A record that does not decode (a poison message) or no key ring: the record as it is."""
    if key_ring is None or TOKEN_PREFIX.encode() not in (record.value or b""):
        return record
    try:
        data = await open_data(record.headers or [], record.value, key_ring)
    except DecodeError:
        return record
    return dataclasses.replace(record, value=json.dumps(data, ensure_ascii=False).encode())


async def read_topic(bootstrap: str, topic: str, predicate: Callable[[Any], bool], *, expect: int,
                     timeout: float = 30.0, key_ring: KeyRing | None = None) -> list[Any]:
    """Read ``topic`` from the beginning until ``expect`` records match ``predicate`` (or time runs out).

    With ``key_ring`` the records that match come opened (:func:`opened_record`); the predicate sees the raw
    record (keys, headers and ids are never sealed), so a shared topic's other records cost no key lookup."""
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest",
                                enable_auto_commit=False, group_id=None)
    await consumer.start()
    found: list[Any] = []

    async def take(batches: dict[Any, list[Any]]) -> None:
        for records in batches.values():
            for record in records:
                if predicate(record):
                    found.append(await opened_record(record, key_ring))

    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline and len(found) < expect:
            await take(await consumer.getmany(timeout_ms=200))
        # keep reading briefly to see records beyond the expected count (duplicates)
        settle = time.monotonic() + 1.0
        while time.monotonic() < settle:
            await take(await consumer.getmany(timeout_ms=200))
    finally:
        await consumer.stop()
    return found


def header(record: Any, name: str) -> str | None:
    for key, value in record.headers or ():
        if key == name:
            return value.decode() if isinstance(value, bytes) else value
    return None


async def eventually(check: Callable[[], Awaitable[T]], *, timeout: float = 20.0, interval: float = 0.1) -> T:
    """Call ``check`` until it returns a truthy value or stops raising AssertionError; return that value."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            result = await check()
            if result:
                return result
            error: BaseException = AssertionError(f"{check} stayed falsy")
        except AssertionError as exc:
            error = exc
        if time.monotonic() > deadline:
            raise error
        await asyncio.sleep(interval)


@asynccontextmanager
async def running_app(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """Start ``app``'s lifespan (broker, consumers, relay, jobs) and give an HTTP client to it."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client


async def commit_group_at_end(bootstrap: str, group: str, topics: Sequence[str]) -> int:
    """Commit ``group``'s offsets at the current end of ``topics``, so that an app started with it reads only
    what comes later, not what earlier runs left on a shared broker. Answers the partitions committed."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        described = await admin.describe_topics(list(topics))
    finally:
        await admin.close()
    partitions = [TopicPartition(t["topic"], p["partition"]) for t in described for p in t["partitions"]]
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign(partitions)
        await consumer.commit(dict(await consumer.end_offsets(partitions)))
    finally:
        await consumer.stop()
    return len(partitions)


async def start_consumers_at_the_end(app: FastAPI, bootstrap: str) -> int:
    """Commit every consumer group of ``app`` (built, not started) at the current end of its topics.

    A test that counts what a service holds (a report, a purge metric) must see only the events it publishes
    itself: a new group otherwise reads the shared topics from their start and brings in every earlier test's
    contacts and requests. Answers the partitions committed."""
    committed = 0
    for consumer in app.state.runtime.consumers:
        committed += await commit_group_at_end(bootstrap, consumer.spec.name, tuple(consumer.spec.topics))
    return committed

