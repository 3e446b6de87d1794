"""The service's consumer groups and what each one handles."""

from __future__ import annotations

from icsuite_chassis.runtime import ServiceRuntime

from .handlers import EventHandlers
from .settings import InteractionsSettings
from .timeline import TIMELINE_TYPES, Timeline


def register_consumers(runtime: ServiceRuntime, settings: InteractionsSettings, handlers: EventHandlers,
                       timeline: Timeline) -> None:
    batch = {"batch_handler": handlers.on_contact_batch} if settings.contacts_batch else {}
    runtime.add_consumer("contacts", ["ic.contacts.v1"], handlers.contact_handlers(), **batch)
    runtime.add_consumer("identity", ["ic.identity.v1"],
                         {"ic.identity.contact-identified.v1": handlers.on_contact_identified})
    runtime.add_consumer("callbacks", ["ic.callbacks.v1"], {"ic.callback.started.v1": handlers.on_callback_started})
    runtime.add_consumer("followups", ["ic.followups.v1"], {"ic.followup.created.v1": handlers.on_followup_created})
    runtime.add_consumer("timeline", ["ic.interactions.v1"], {t: timeline.apply for t in TIMELINE_TYPES},
                         batch_handler=timeline.apply_in_order, fetch_min_bytes=settings.timeline_fetch_min_bytes)
