"""Deterministic ids, so that every event about one contact or callback attempt finds the same record."""

from __future__ import annotations

import hashlib
import re
import uuid
from functools import lru_cache

INTERACTION_NAMESPACE = uuid.UUID("8f0d2c61-4a7e-5b3c-9d10-2e6f4a8b1c37")
"""Never change it: interaction ids derived from contact and callback ids would change with it."""
_SAFE_KEY = re.compile(r"[A-Za-z0-9_-]{1,64}")


@lru_cache(maxsize=4096)
def interaction_id_for_contact(contact_id: str) -> str:
    """The one interaction of a contact: the same id for ``started``, segments, ``ended`` and identification
    (cached: a contact's five or so events arrive close together, and each would hash its id again)."""
    return _derived("int-", "contact", contact_id)


def interaction_id_for_callback(callback_id: str, attempt: int) -> str:
    """The outbound interaction of one attempt of a callback."""
    return _derived("int-", "callback", callback_id, str(attempt))


def derived_id(prefix: str, *parts: str) -> str:
    """A short id derived from ``parts`` (e.g. the activity recorded for one event)."""
    return f"{prefix}-{_uuid(*parts).hex[:16]}"


def _uuid(*parts: str) -> uuid.UUID:
    return uuid.uuid5(INTERACTION_NAMESPACE, "\x1f".join(parts))


def _derived(prefix: str, *parts: str) -> str:
    return f"{prefix}{_uuid(*parts)}"


def field_key(raw_id: str) -> str:
    """A MongoDB field name for an id used as a map key (ids may hold '.' or '$', field names may not)."""
    if _SAFE_KEY.fullmatch(raw_id):
        return f"k{raw_id}"
    return f"h{hashlib.sha256(raw_id.encode()).hexdigest()[:32]}"
