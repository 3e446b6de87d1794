"""What an attachment may be called and how its type is read; how its name travels in a download."""

from __future__ import annotations

from urllib.parse import quote


def normalize_media_type(declared: str | None) -> str:
    """``Image/PNG; name=x`` -> ``image/png``; an absent type is ``application/octet-stream``."""
    return (declared or "application/octet-stream").split(";")[0].strip().lower()


def clean_name(name: str | None, fallback: str) -> str:
    """A file name without path parts or control characters, at most 255 characters."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in base if ch.isprintable() and ch not in "\"").strip()
    return (base or fallback)[:255]


def content_disposition(name: str) -> str:
    """``attachment`` with the name as RFC 6266 asks: an ASCII ``filename`` for old clients and the exact
    name as UTF-8 in ``filename*`` (RFC 5987), so that any name can be downloaded."""
    fallback = "".join(ch if 32 <= ord(ch) < 127 and ch not in '"\\%' else "_" for ch in name) or "attachment"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"
