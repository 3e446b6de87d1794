"""Unit tests of the desktop run without a broker: the live contact feed stays off (tests/browser runs it)."""

import os

os.environ.setdefault("IC_DESKTOP_LIVE_CONTACTS", "false")
