"""Attachment content in GridFS (bucket ``attachments``), with its sha256 checksum.

Every upload is first listed in ``attachment_uploads`` (``_id`` = the GridFS file id, the interaction and
attachment ids, ``uploaded_at``), then stored; the file's metadata names the same interaction and attachment.
The list is what :mod:`.attachment_cleanup` works through: an upload whose record never took it (a crash
between the upload and the record write) is deleted once the grace has passed, a recorded one only leaves the
list. So the list holds the uploads of the last grace period and nothing that is done with.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bson import ObjectId
from gridfs import AsyncGridFSBucket
from gridfs.errors import NoFile
from icsuite_chassis.clock import utc_now
from icsuite_chassis.mongo import IndexSpec
from pymongo.asynchronous.database import AsyncDatabase

BUCKET = "attachments"
UPLOADS = "attachment_uploads"
UPLOAD_INDEXES = (IndexSpec(UPLOADS, [("uploaded_at", 1)]),)


@dataclass(frozen=True)
class StoredContent:
    file_id: Any
    sha256: str


class AttachmentStore:
    def __init__(self, db: AsyncDatabase[dict[str, Any]], *, clock: Callable[[], datetime] = utc_now):
        self._db = db
        self._bucket: AsyncGridFSBucket | None = None
        self.uploads = db[UPLOADS]
        self.files = db[f"{BUCKET}.files"]
        self.clock = clock

    @property
    def bucket(self) -> AsyncGridFSBucket:
        if self._bucket is None:  # made lazily: nothing touches the database before the app starts
            self._bucket = AsyncGridFSBucket(self._db, bucket_name=BUCKET)
        return self._bucket

    async def put(self, interaction_id: str, attachment_id: str, name: str, media_type: str,
                  content: bytes) -> StoredContent:
        """List the upload as pending, then store it: no crash can leave a file that nothing lists."""
        sha256 = hashlib.sha256(content).hexdigest()
        file_id = ObjectId()
        await self.uploads.insert_one({"_id": file_id, "interaction_id": interaction_id,
                                       "attachment_id": attachment_id, "uploaded_at": self.clock()})
        await self.bucket.upload_from_stream_with_id(
            file_id, name, content, metadata={"interaction_id": interaction_id, "attachment_id": attachment_id,
                                              "media_type": media_type, "sha256": sha256})
        return StoredContent(file_id, sha256)

    async def get(self, file_id: Any) -> bytes | None:
        try:
            stream = await self.bucket.open_download_stream(file_id)
        except NoFile:
            return None
        return await stream.read()

    async def delete_of_interactions(self, interaction_ids: Sequence[str]) -> int:
        """Delete every file of the interactions ``interaction_ids`` (their records were purged)."""
        named = {"metadata.interaction_id": {"$in": list(interaction_ids)}}
        found = [doc["_id"] async for doc in self.files.find(named, {"_id": 1})]
        for file_id in found:
            await self.delete(file_id)
        return len(found)

    async def delete(self, file_id: Any) -> None:
        """Delete the content (chunks too, even of an unfinished upload), then its pending listing."""
        try:
            await self.bucket.delete(file_id)
        except NoFile:
            pass
        await self.uploads.delete_one({"_id": file_id})
