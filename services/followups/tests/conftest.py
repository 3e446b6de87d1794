"""Fixtures of the followups tests: settings on the session's stack, unique per test module."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from datetime import UTC, datetime

from icsuite_chassis.testing import eventually, header, publish_envelopes, read_topic, unique
from icsuite_contracts.cloudevents import new_envelope
from icsuite_contracts.interactions_v1 import InteractionOpened

from icsuite_followups.settings import FollowupsSettings

FOLLOWUPS_TOPIC = "ic.followups.v1"


@pytest.fixture(scope="session")
def followups_settings(stack: Any) -> Callable[..., FollowupsSettings]:
    """A factory of settings with their own database and consumer groups (pass ``database`` to share one)."""

    def make(database: str | None = None, **overrides: Any) -> FollowupsSettings:
        name = database or unique("followups").replace("-", "_")
        values: dict[str, Any] = {
            "kafka_bootstrap_servers": stack.kafka_bootstrap, "mongodb_uri": stack.mongodb_uri,
            "mongodb_database": name, "consumer_group_prefix": f"{name}.", "environment": "test",
            "consumer_retry_backoff_s": 0.01, "outbox_sweep_interval_s": 1.0, "overdue_check_interval_s": 0.25,
            **overrides,
        }
        return FollowupsSettings(**values)

    return make


@pytest.fixture(scope="session")
def followup_events(stack: Any) -> Callable[..., Awaitable[list[Any]]]:
    """Read the ``ic.followups.v1`` records of one follow-up (optionally of one ``ce_type``)."""

    async def read(followup_id: str, ce_type: str | None = None, *, expect: int = 1,
                   timeout: float = 15.0) -> list[Any]:
        def wanted(record: Any) -> bool:
            return record.key == followup_id.encode() and (ce_type is None or header(record, "ce_type") == ce_type)

        return await read_topic(stack.kafka_bootstrap, FOLLOWUPS_TOPIC, wanted, expect=expect, timeout=timeout)

    return read


@pytest.fixture(scope="session")
def caught_up(stack: Any) -> Callable[[Any], Awaitable[None]]:
    """Wait until a new app's interactions consumer has read the shared topic's backlog (a new consumer
    group starts at the earliest offset, and other sessions fill the topic): a marker it projects."""

    async def wait(app: Any) -> None:
        marker = unique("int-marker")
        await publish_envelopes(stack.kafka_bootstrap, new_envelope(InteractionOpened(
            interaction_id=marker, origin="contact", channel="phone", direction="inbound",
            opened_at=datetime.now(UTC)), source="/test"))
        sources = app.state.runtime.db["interaction_sources"]
        await eventually(lambda: sources.find_one({"_id": marker}), timeout=240)

    return wait
