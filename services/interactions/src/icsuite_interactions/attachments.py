"""Attachment content in GridFS (bucket ``attachments``), with its sha256 checksum."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from gridfs import AsyncGridFSBucket
from gridfs.errors import NoFile
from pymongo.asynchronous.database import AsyncDatabase

BUCKET = "attachments"


@dataclass(frozen=True)
class StoredContent:
    file_id: Any
    sha256: str


class AttachmentStore:
    def __init__(self, db: AsyncDatabase[dict[str, Any]]):
        self._db = db
        self._bucket: AsyncGridFSBucket | None = None

    @property
    def bucket(self) -> AsyncGridFSBucket:
        if self._bucket is None:  # made lazily: nothing touches the database before the app starts
            self._bucket = AsyncGridFSBucket(self._db, bucket_name=BUCKET)
        return self._bucket

    async def put(self, interaction_id: str, attachment_id: str, name: str, media_type: str,
                  content: bytes) -> StoredContent:
        sha256 = hashlib.sha256(content).hexdigest()
        file_id = await self.bucket.upload_from_stream(
            name, content, metadata={"interaction_id": interaction_id, "attachment_id": attachment_id,
                                     "media_type": media_type, "sha256": sha256})
        return StoredContent(file_id, sha256)

    async def get(self, file_id: Any) -> bytes | None:
        try:
            stream = await self.bucket.open_download_stream(file_id)
        except NoFile:
            return None
        return await stream.read()

    async def delete(self, file_id: Any) -> None:
        try:
            await self.bucket.delete(file_id)
        except NoFile:
            pass
