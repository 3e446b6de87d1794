"""Wires the interactions service: settings, Mongo, broker, repositories, handlers, consumers and the gateway."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from fastapi import FastAPI
from icsuite_chassis.app import create_app
from icsuite_chassis.runtime import ServiceRuntime

from . import api, api_parts
from .attachment_cleanup import OrphanedUploadCleaner
from .attachments import UPLOAD_INDEXES, AttachmentStore, utc_now
from .closing import Closer
from .commands import Commands
from .consumers import register_consumers
from .handlers import EventHandlers
from .repository import INDEXES, INTERACTIONS, InteractionsRepository
from .settings import InteractionsSettings
from .timeline import Timeline, timeline_indexes

CONSUMES = ("ic.contacts.v1", "ic.identity.v1", "ic.callbacks.v1", "ic.followups.v1", "ic.interactions.v1")
PRODUCES = ("ic.interactions.v1",)


def build_app(settings: InteractionsSettings, *, clock: Callable[[], datetime] = utc_now) -> FastAPI:
    runtime = ServiceRuntime(settings, outbox_collections=[INTERACTIONS],
                             indexes=[*INDEXES, *UPLOAD_INDEXES, *timeline_indexes(settings.timeline_collection)],
                             consumes=CONSUMES, produces=PRODUCES)
    repo = InteractionsRepository(runtime.db)
    timeline = Timeline(runtime.db[settings.timeline_collection])
    attachments = AttachmentStore(runtime.db, clock=clock)
    kick = runtime.kick_outbox
    handlers = EventHandlers(repo, kick=kick, clock=clock, self_service_grace_s=settings.self_service_grace_s)
    closer = Closer(repo, runtime.db["completions"], kick=kick, clock=clock, grace_s=settings.self_service_grace_s,
                    stale_s=settings.completion_stale_s)
    commands = Commands(repo, attachments, kick=kick, clock=clock)
    register_consumers(runtime, settings, handlers, timeline)
    runtime.add_job("self-service-closer", closer.close_self_service, settings.self_service_sweep_interval_s)
    runtime.add_job("completion-recovery", closer.recover_completions, settings.completion_sweep_interval_s)
    orphans = OrphanedUploadCleaner(attachments, repo.collection, clock=clock,
                                    grace_s=settings.attachment_orphan_grace_s)
    runtime.add_job("attachment-orphan-cleanup", orphans.delete_orphans, settings.attachment_orphan_sweep_interval_s)
    services = api.Services(settings, repo, commands, closer, timeline, attachments)
    return create_app(runtime, title="interactions",
                      description="Interaction records from contact events, notes, activities, attachments, "
                                  "completion and the per-account timeline.",
                      routers=[api.router, api_parts.router], state={"services": services})
