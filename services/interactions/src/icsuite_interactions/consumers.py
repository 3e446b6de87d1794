"""The service's consumer groups. Each consumed event is typed by its model (``EventIntake.item`` narrows
``envelope.data`` by ``isinstance``, no downcasts); a batch is one ``change_many`` of the store."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from icsuite_chassis.account_merge import Movable, register_merge_consumer
from icsuite_chassis.consumer import Reject
from icsuite_chassis.errors import DomainError
from icsuite_chassis.runtime import ServiceRuntime
from icsuite_chassis.store import AggregateStore
from icsuite_contracts import callbacks_v1, contacts_v1, followups_v1, identity_v1, interactions_v1
from icsuite_contracts.cloudevents import Envelope

from .projections.timeline import TIMELINE_TYPES
from .service import InteractionsService

CONSUMED = {
    "contacts": (contacts_v1.TOPIC, (contacts_v1.ContactStarted, contacts_v1.ContactSegmentRecorded,
                                     contacts_v1.ContactEnded)),
    "identity": (identity_v1.TOPIC, (identity_v1.ContactIdentified,)),
    "callbacks": (callbacks_v1.TOPIC, (callbacks_v1.CallbackStarted, callbacks_v1.CallbackCompleted,
                                       callbacks_v1.CallbackAttemptFailed, callbacks_v1.CallbackExpired,
                                       callbacks_v1.CallbackCancelled)),
    "followups": (followups_v1.TOPIC, (followups_v1.FollowupCreated,)),
}


def register_consumers(runtime: ServiceRuntime, service: InteractionsService) -> None:
    intake, timeline = service.intake, service.timeline

    async def batch(envelopes: Sequence[Envelope]) -> None:
        """If one event of the batch is refused, the chassis falls back to the per-event handler."""
        await intake.on_events(envelopes)

    async def one(envelope: Envelope) -> None:
        try:
            await intake.on_events([envelope])
        except DomainError as exc:  # the event can never apply (a segment that ends before it starts)
            raise Reject(exc.detail) from exc

    for name, (topic, models) in CONSUMED.items():
        options = {"batch_handler": batch} if name != "contacts" or service.settings.contacts_batch else {}
        runtime.add_consumer(name, [topic], {model.ce_type: one for model in models}, **options)

    async def project(envelopes: Sequence[Envelope]) -> None:
        await timeline.apply(envelopes)

    async def project_one(envelope: Envelope) -> None:
        await timeline.apply([envelope])

    runtime.add_consumer("timeline", [interactions_v1.TOPIC], {t: project_one for t in TIMELINE_TYPES},
                         batch_handler=project, fetch_min_bytes=service.settings.timeline_fetch_min_bytes)


def register_merges(runtime: ServiceRuntime, service: InteractionsService, merges: AggregateStore[Any]) -> None:
    """Merged accounts: the records follow the surviving account, and so do their timeline entries.

    The entries of the records that now belong to the account are moved by the timeline writer's ``assign``
    (written to its correction log first, so a rebuild of the timeline moves them again, in order with the
    merge's unmerge and with retention's purges)."""

    async def move_timeline(interaction_ids: Sequence[str], account_id: str) -> None:
        records = await service.store.get_many(interaction_ids)
        moved = [i for i in interaction_ids if i in records and records[i].state.account_id == account_id]
        await service.timeline.assign(moved, "account_id", account_id)

    movables = [Movable("interactions", service.store, after=move_timeline)]
    register_merge_consumer(runtime, merges, movables, service.clock)
