"""Fixtures of the followups tests: settings on the session's stack, unique per test module."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from icsuite_chassis.testing import header, read_topic, unique

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
