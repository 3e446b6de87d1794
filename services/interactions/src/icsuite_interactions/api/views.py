"""How records and timeline entries read back through the gateway (storage fields left out)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from ..domain.record import MediaItem, Record
from ..projections.timeline import TimelineEntry

HEADER_FIELDS = (
    "status", "origin", "contact_id", "callback_id", "channel", "direction", "from_address", "to_address",
    "queue", "account_hint", "account_id", "business_agreement_id", "premise_id", "opened_at", "closed_at",
    "closed_by", "outcome", "result", "reason_code", "duration_s",
)


def _by_start(item: Any) -> tuple[bool, float, str]:
    started: datetime | None = item.started_at
    key = getattr(item, "segment_id", None) or getattr(item, "media_item_id", "")
    return started is None, started.timestamp() if started else 0.0, str(key)


def media_item_view(item: MediaItem) -> dict[str, Any]:
    return {"media_item_id": item.media_item_id, "media": item.media, "channel": item.media,
            "direction": item.direction, "started_at": item.started_at, "ended_at": item.ended_at,
            "end_reason": item.end_reason, "segments": [asdict(s) for s in sorted(item.segments.values(), key=_by_start)]}


def summary_view(record: Record) -> dict[str, Any]:
    """A record in a list: the header without the parts."""
    view: dict[str, Any] = {"interaction_id": record.interaction_id}
    view.update({name: getattr(record, name) for name in HEADER_FIELDS})
    view["agent_ids"] = list(record.agent_ids)
    view["identification"] = record.identification.kind if record.identification else None
    view["identified_by"] = ({"method": record.identification.method, "agent_id": record.identification.agent_id}
                             if record.identification else None)
    return view


def record_view(record: Record) -> dict[str, Any]:
    """The whole record as the gateway answers it."""
    return summary_view(record) | {
        "media_items": [media_item_view(i) for i in sorted(record.media.values(), key=_by_start)],
        "activities": [asdict(a) for a in record.activities],
        "notes": [asdict(n) for n in record.notes],
        "attachments": [attachment_view(asdict(a)) for a in record.attachments],
        "linked_objects": [asdict(o) for o in record.linked_objects],
        "late_events": [asdict(e) for e in record.late_events],
        "attributes": dict(record.attributes),
        "scratch_pad": scratch_pad_view(record),
    }


def scratch_pad_view(record: Record) -> dict[str, Any]:
    pad = record.scratch_pad
    return asdict(pad) if pad is not None else {"text": "", "updated_at": None, "updated_by": None}


def attachment_view(fields: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if k != "file_id"}


def entry_view(entry: TimelineEntry) -> dict[str, Any]:
    view = {k: v for k, v in asdict(entry).items() if k != "link_sequence"}
    view["agent_ids"] = list(entry.agent_ids)
    view["media"] = list(entry.media)
    return view
