"""The service's use cases: load, decide (in :mod:`icsuite_interactions.domain`), save through the store."""

from .commands import RecordCommands
from .intake import EventIntake

__all__ = ["EventIntake", "RecordCommands"]
