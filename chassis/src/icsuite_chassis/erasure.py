"""One service's part of an account's erasure (``ic.privacy.erasure-requested.v1``), the same in every service.

A run is a small document in the service's ``erasures`` collection (``_id`` = ``erasure_id``), changed
only through the store, and goes through three steps, each stored before the next:

1. **survey**: count what the service holds for the account, per kind (``notes``, ``attachments``...), and
   store the counts in the run. The counts are taken once, so a run that resumes after a crash confirms
   the same figures as one that did not crash.
2. **erase**: the service's own erase function, a series of idempotent store changes (erasing an item
   already erased changes nothing).
3. **confirm**: mark the run done with the ``ic.privacy.erased.v1`` confirmation in its outbox, with an
   id derived from the erasure and the service, so a repeated confirmation is recognised as the same one.

The consumer commits the request only after the handler returned, so a crash anywhere resumes the run on
redelivery. A redelivered request of a finished run erases again (finding nothing) and confirms again
with the same content and the same event id.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from icsuite_contracts.cloudevents import Envelope, derive_event_id, new_envelope
from icsuite_contracts.privacy_v1 import TOPIC as PRIVACY
from icsuite_contracts.personal import ERASED
from icsuite_contracts.privacy_v1 import Erased, ErasureRequested

from .clock import Clock
from .consumer import Reject
from .runtime import ServiceRuntime
from .store import AggregateStore, Change, MongoAggregateStore, Stored

__all__ = ["ERASED", "ERASURES", "ErasureRun", "ErasureRunCodec", "add_erasure_consumer", "erasure_runs", "run_erasure"]

ERASURES = "erasures"
"""The collection of a service's erasure runs (in its ``outbox_collections``)."""

Survey = Callable[[str], Awaitable[dict[str, int]]]
Erase = Callable[[str], Awaitable[None]]


@dataclass(frozen=True)
class ErasureRun:
    erasure_id: str
    account_id: str
    counts: Mapping[str, int] = field(default_factory=dict)
    done: bool = False
    erased_at: datetime | None = None


class ErasureRunCodec:
    def encode(self, state: ErasureRun) -> dict[str, Any]:
        return {"erasure_id": state.erasure_id, "account_id": state.account_id, "counts": dict(state.counts),
                "done": state.done, "erased_at": state.erased_at}

    def decode(self, doc: Mapping[str, Any]) -> ErasureRun:
        return ErasureRun(doc["erasure_id"], doc["account_id"], dict(doc.get("counts") or {}),
                          bool(doc.get("done")), doc.get("erased_at"))


def decide_survey(current: Stored[ErasureRun] | None, request: ErasureRequested,
                  counts: Mapping[str, int]) -> Change[ErasureRun] | None:
    """Store the counts of a new run; a run already surveyed keeps its counts."""
    if current is not None:
        return None
    return Change(ErasureRun(request.erasure_id, request.account_id, dict(counts)))


def decide_confirm(current: Stored[ErasureRun] | None, confirmation: Envelope,
                   now: datetime) -> Change[ErasureRun] | None:
    """Mark the run done and (again) publish its confirmation: the same content, the same event id."""
    if current is None:
        return None
    run = current.state if current.state.done else replace(current.state, done=True, erased_at=now)
    return Change(run, [confirmation])


def confirmation(request: ErasureRequested, cause: Envelope, service: str, counts: Mapping[str, int],
                 at: datetime) -> Envelope:
    """The ``ic.privacy.erased.v1`` of ``service`` for ``request``, with an id derived from both."""
    event = Erased(erasure_id=request.erasure_id, account_id=request.account_id, service=service,
                   erased={kind: n for kind, n in counts.items()}, erased_at=at)
    return new_envelope(event, source=f"/{service}", id=derive_event_id(request.erasure_id, f"erased:{service}"),
                        correlation_id=request.erasure_id, causation_id=cause.id)


async def run_erasure(runs: AggregateStore[ErasureRun], request: ErasureRequested, cause: Envelope, *,
                      service: str, survey: Survey, erase: Erase, clock: Clock) -> ErasureRun:
    """Survey, erase and confirm this service's part of ``request`` (see the module's description)."""
    current = await runs.get(request.erasure_id)
    if current is None:
        counts = await survey(request.account_id)
        await runs.change(request.erasure_id, lambda stored: decide_survey(stored, request, counts))
        current = await runs.get(request.erasure_id)
        assert current is not None
    await erase(request.account_id)
    now = clock()
    at = current.state.erased_at or now
    envelope = confirmation(request, cause, service, current.state.counts, at)
    outcome = await runs.change(request.erasure_id, lambda stored: decide_confirm(stored, envelope, at))
    assert outcome.stored is not None
    return outcome.stored.state


def erasure_runs(runtime: ServiceRuntime) -> MongoAggregateStore[ErasureRun]:
    """The store of the service's erasure runs (declare :data:`ERASURES` among its outbox collections)."""
    return MongoAggregateStore(runtime.db, ERASURES, ErasureRunCodec(), kick=runtime.kick_outbox)


def add_erasure_consumer(runtime: ServiceRuntime, runs: AggregateStore[ErasureRun], *, service: str,
                         survey: Survey, erase: Erase, clock: Clock) -> None:
    """Consume ``ic.privacy.erasure-requested.v1`` (group ``<service>.privacy``) into :func:`run_erasure`."""
    async def on_request(envelope: Envelope) -> None:
        if not isinstance(envelope.data, ErasureRequested):
            raise Reject(f"{envelope.type} did not decode to ErasureRequested")
        if runtime.key_ring is not None:  # shred the account's fields in every topic's history (idempotent)
            await runtime.key_ring.erase(envelope.data.account_id)
        await run_erasure(runs, envelope.data, envelope, service=service, survey=survey, erase=erase, clock=clock)
    runtime.add_consumer("privacy", [PRIVACY], {ErasureRequested.ce_type: on_request})
