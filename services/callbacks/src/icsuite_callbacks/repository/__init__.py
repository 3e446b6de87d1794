"""MongoDB adapters of the callbacks service."""

from .items import COLLECTION, INDEXES, InboxPosition, WorkItems
from .lookups import Identifications, OpenRequestsByNumber, ReasonProfiles

__all__ = ["COLLECTION", "INDEXES", "Identifications", "InboxPosition", "OpenRequestsByNumber",
           "ReasonProfiles", "WorkItems"]
