"""What an attachment may be: a size limit and an allow-list of media types, a sha256 checksum."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime


class AttachmentTooLarge(Exception):
    """The content is larger than the configured limit."""


class AttachmentTypeRefused(Exception):
    """The media type is not on the allow-list."""


@dataclass(frozen=True)
class AttachmentMeta:
    attachment_id: str
    name: str
    media_type: str
    size: int
    sha256: str
    uploaded_by: str
    uploaded_at: datetime


def normalize_media_type(declared: str | None) -> str:
    """``Image/PNG; name=x`` -> ``image/png``; an absent type is ``application/octet-stream``."""
    return (declared or "application/octet-stream").split(";")[0].strip().lower()


def check_media_type(media_type: str, allowed: Collection[str]) -> None:
    if media_type not in allowed:
        raise AttachmentTypeRefused(f"media type {media_type!r} is not accepted; accepted: {', '.join(sorted(allowed))}")


def check_size(size: int, limit: int) -> None:
    if size > limit:
        raise AttachmentTooLarge(f"the attachment is larger than {limit} bytes")


def clean_name(name: str | None, fallback: str) -> str:
    """A file name without path parts or control characters, at most 255 characters."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in base if ch.isprintable() and ch not in "\"").strip()
    return (base or fallback)[:255]
