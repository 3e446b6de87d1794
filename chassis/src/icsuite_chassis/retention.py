"""Retention: records that are done go once their retention period has passed, in bounded batches.

A service declares one :class:`RetentionRule` per kind of data: the store the records live in, the filter
of the records that are done and older than a cutoff (never open work), the period, and what else refers to
them (read models such as a timeline, files), which is purged with them. :func:`purge_expired` is its periodic
job: it deletes through the store's ``purge`` (only records with no event waiting in their outbox, the filter
checked again by the delete itself), counts ``ic_retention_purged_total{kind}`` and logs one line per kind.
What refers to a batch goes before the batch's records do: a crash in between leaves records past their
retention, which the next round finds and purges again with their references (purging those twice changes
nothing), never references (a timeline entry, an attachment) of records that are gone and that no round
would find again.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from .clock import Clock
from .logging import get_logger
from .metrics import RETENTION_PURGED
from .settings import ServiceSettings
from .store import AggregateStore

_log = get_logger(__name__)


@dataclass(frozen=True)
class RetentionRule:
    kind: str
    """The label of ``ic_retention_purged_total`` and of the log line, e.g. ``closed_interactions``."""
    store: AggregateStore[Any]
    expired: Callable[[datetime], Mapping[str, Any]]
    """The filter of the records that are done and older than the cutoff it is given."""
    days: float
    """The retention period."""
    also: Callable[[Sequence[Any]], Awaitable[Any]] | None = None
    """Purges what refers to the ids about to be purged (read models, files), just before they go; it must
    be idempotent (after a crash the same ids come again)."""


async def purge_expired(rules: Sequence[RetentionRule], now: datetime, *, batch_size: int,
                        max_batches: int) -> dict[str, int]:
    """One round: per rule at most ``max_batches`` batches of ``batch_size``; the number purged per kind."""
    purged: dict[str, int] = {}
    for rule in rules:
        cutoff = now - timedelta(days=rule.days)
        purged[rule.kind] = await _purge_rule(rule, cutoff, batch_size, max_batches)
        if purged[rule.kind]:
            RETENTION_PURGED.labels(rule.kind).inc(purged[rule.kind])
            _log.info("retention purged", kind=rule.kind, purged=purged[rule.kind], cutoff=cutoff.isoformat())
    return purged


def retention_job(rules: Sequence[RetentionRule], settings: ServiceSettings,
                  clock: Clock) -> Callable[[], Awaitable[dict[str, int]]]:
    """The periodic job of a service's rules, bounded by its ``retention_batch_size``/``_max_batches``."""

    async def run() -> dict[str, int]:
        return await purge_expired(rules, clock(), batch_size=settings.retention_batch_size,
                                   max_batches=settings.retention_max_batches)

    return run


async def _purge_rule(rule: RetentionRule, cutoff: datetime, batch_size: int, max_batches: int) -> int:
    total = 0
    for _ in range(max_batches):
        ids = await rule.store.purge(rule.expired(cutoff), limit=batch_size, before_delete=rule.also)
        total += len(ids)
        if len(ids) < batch_size:
            break
    return total
