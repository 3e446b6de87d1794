"""The wired service object: the one thing the gateway finds on ``app.state.service``."""

from __future__ import annotations

from dataclasses import dataclass

from icsuite_chassis.clock import Clock
from icsuite_chassis.store import AggregateStore
from icsuite_chassis.store.projection import ProjectionWriter

from .attachments import AttachmentStore
from .domain.record import Record
from .handlers import EventIntake, RecordCommands
from .projections.timeline import TimelineEntry, TimelineQueries
from .repository import InteractionsRepository
from .settings import InteractionsSettings


@dataclass(frozen=True)
class InteractionsService:
    settings: InteractionsSettings
    store: AggregateStore[Record]
    records: InteractionsRepository
    commands: RecordCommands
    intake: EventIntake
    timeline: ProjectionWriter[TimelineEntry]
    timeline_queries: TimelineQueries
    attachments: AttachmentStore
    clock: Clock
