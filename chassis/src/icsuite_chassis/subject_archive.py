"""The data-subject export's archive format, one for every writer of it (the desktop and ``icsuite privacy
export``): a zip with ``manifest.json`` (format, account, export record, each file's size and sha256) and the
files collected from the five services."""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile
from dataclasses import dataclass, field
from typing import Any

FORMAT = "icsuite-subject-export/1"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def as_json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True).encode()


def safe_name(name: str) -> str:
    """A file name that stays inside its folder of the archive."""
    return _UNSAFE.sub("_", name).strip("._")[:120] or "attachment"


@dataclass
class SubjectArchive:
    """The files of an export as they are collected, with each file's manifest entry."""

    account_id: str
    files: dict[str, bytes] = field(default_factory=dict)
    entries: list[dict[str, Any]] = field(default_factory=list)
    attachments: list[dict[str, Any]] = field(default_factory=list)
    services: dict[str, dict[str, Any]] = field(default_factory=dict)

    def add(self, name: str, content: bytes, **about: Any) -> None:
        self.files[name] = content
        self.entries.append({"name": name, "bytes": len(content), "sha256": hashlib.sha256(content).hexdigest(),
                             **about})

    def zip(self, manifest: dict[str, Any]) -> bytes:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("manifest.json", as_json(manifest))
            for name, content in self.files.items():
                archive.writestr(name, content)
        return buffer.getvalue()
