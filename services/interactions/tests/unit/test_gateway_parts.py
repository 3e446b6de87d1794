"""Cursor handling and settings validation (no I/O)."""

from datetime import UTC, datetime

import pytest
from icsuite_chassis.pagination import InvalidCursor, encode_cursor
from pydantic import ValidationError

from icsuite_interactions.schemas import page_cursor, read_cursor
from icsuite_interactions.settings import InteractionsSettings

pytestmark = pytest.mark.unit


def test_a_cursor_round_trips() -> None:
    moment = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
    assert read_cursor(page_cursor(moment, "int-1")) == (moment, "int-1")
    assert read_cursor(None) is None and page_cursor(None, "int-1") is None


@pytest.mark.parametrize("cursor", ["%%%", encode_cursor({"t": 1, "id": "x"}), encode_cursor({"t": "noon", "id": "x"}),
                                    encode_cursor({"t": "2025-03-01T09:00:00", "id": "x"}),
                                    encode_cursor({"t": "2025-03-01T09:00:00+00:00", "id": 5}),
                                    encode_cursor({"id": "x"})])
def test_a_malformed_cursor_is_refused(cursor: str) -> None:
    with pytest.raises(InvalidCursor):
        read_cursor(cursor)


def test_settings_keep_room_for_attachments_and_normalize_media_types() -> None:
    with pytest.raises(ValidationError):
        InteractionsSettings(attachment_max_bytes=2_000_000, max_request_bytes=1_000_000)
    settings = InteractionsSettings(attachment_media_types=[" Image/PNG ", ""])
    assert settings.attachment_media_types == ["image/png"]
