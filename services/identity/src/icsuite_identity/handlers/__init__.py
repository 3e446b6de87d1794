"""Use cases: load, decide (in :mod:`..domain`), save through the store."""

from .accounts import CreateAccount, create_account
from .context import ConfirmContext, confirm_context, surviving_accounts
from .identification import (
    on_callback_requested,
    on_contact_events,
    on_contact_segment,
    on_contact_started,
    on_snapshot,
    on_snapshots,
)
from .service import IdentityService

__all__ = ["ConfirmContext", "CreateAccount", "IdentityService", "confirm_context", "create_account", "surviving_accounts",
           "on_callback_requested", "on_contact_events", "on_contact_segment", "on_contact_started", "on_snapshot", "on_snapshots"]
