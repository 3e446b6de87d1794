"""How much one record may hold: every growing part has a cap, so no record nears MongoDB's 16 MB limit.

A gateway change past a cap answers 409 (``LimitReachedError``); a consumed event past one is kept as far
as it fits (a late event past its cap is only counted).
"""

NOTES = 100
ACTIVITIES = 200
ATTACHMENTS = 20
ATTACHMENT_BYTES_PER_RECORD = 50 * 1024 * 1024
MEDIA_ITEMS = 20
SEGMENTS_PER_MEDIA_ITEM = 200
LINKED_OBJECTS = 100
LATE_EVENTS = 50
AGENTS = 50
