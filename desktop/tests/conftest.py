"""Unit tests of the desktop run without a broker: the live contact feed stays off (tests/browser runs it).

Set per test with ``monkeypatch``, never in ``os.environ`` for the whole session: the browser suite starts its
desktop as a subprocess that inherits the session's environment, and a session-wide ``false`` left from the
desktop unit tests turned its live contact feed off (the two live-contact browser tests then failed in every
full run, while passing when tests/browser ran alone).
"""

import pytest


@pytest.fixture(autouse=True)
def _no_live_contact_feed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IC_DESKTOP_LIVE_CONTACTS", "false")
