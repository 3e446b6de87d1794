"""The live contact feed: an agent's segment start tells only that agent's pages, with what the channel
reported; an identification tells them again; the stream renders the contact before its record exists."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from icsuite_contracts.contacts_v1 import ContactEnded, ContactSegmentRecorded, ContactStarted
from icsuite_contracts.identity_v1 import ContactIdentified
from icsuite_desktop.live import ContactFeed, ContactPush
from icsuite_desktop.routes_live import render_contact

pytestmark = pytest.mark.unit
T0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def _started(contact: str) -> ContactStarted:
    return ContactStarted(contact_id=contact, channel="phone", direction="inbound", from_address="+4930123",
                          queue="billing", started_at=T0)


def _segment(contact: str, agent: str, kind: str = "agent", ended: bool = False) -> ContactSegmentRecorded:
    return ContactSegmentRecorded(contact_id=contact, segment_id="s-1", kind=kind, agent_id=agent, started_at=T0,
                                  ended_at=T0 if ended else None)


def test_the_agents_segment_start_tells_that_agents_pages_only() -> None:
    feed = ContactFeed()
    mine, other = feed.subscribe("a-1"), feed.subscribe("a-2")
    feed.on_event(_started("ct-1"))
    feed.on_event(_segment("ct-1", "a-1", kind="queue"))
    feed.on_event(_segment("ct-1", "a-1", ended=True))
    assert mine.empty(), "a queue segment or a finished one is no new contact for the agent"
    feed.on_event(_segment("ct-1", "a-1"))
    push = mine.get_nowait()
    assert push.contact_id == "ct-1" and push.started is not None and push.started["from_address"] == "+4930123"
    assert other.empty()
    feed.on_event(ContactIdentified(contact_id="ct-1", account_id="acc-1", candidates=["acc-1"],
                                    method="auto_number", confirmed=False))
    assert mine.get_nowait().contact_id == "ct-1"
    feed.on_event(ContactEnded(contact_id="ct-1", ended_at=T0))
    assert mine.empty()
    feed.on_event(_segment("ct-2", "a-1"))
    assert mine.get_nowait().contact_id == "ct-2"
    feed.on_event(ContactIdentified(contact_id="ct-1", account_id="acc-1", method="auto_number", confirmed=True))
    assert mine.empty(), "a late identification of an older contact does not take the page back to it"


def test_the_feed_is_bounded_and_forgets_closed_pages() -> None:
    feed = ContactFeed(max_contacts=2)
    page = feed.subscribe("a-1")
    for n in range(3):
        feed.on_event(_started(f"ct-{n}"))
    feed.on_event(_segment("ct-0", "a-1"))
    assert page.get_nowait() == ContactPush("ct-0", None), "the oldest started contact was forgotten"
    for n in range(40):
        feed.on_event(_segment(f"ct-x{n}", "a-1"))
    assert page.qsize() == 32 and page.get_nowait().contact_id == "ct-x8", "a slow page keeps the newest pushes"
    feed.unsubscribe("a-1", page)
    feed.on_event(_segment("ct-1", "a-1"))
    assert page.qsize() == 31


def test_a_pushed_contact_shows_the_caller_before_its_record_exists() -> None:
    record = {"contact_id": "ct-1", "channel": "phone", "direction": "inbound", "from_address": "+4930123",
              "queue": "billing", "interaction_id": None}
    html = render_contact({"record": record, "context": None})
    assert "+4930123" in html and "being recorded" in html and "identifying" in html
    assert 'data-contact-id="ct-1"' in html and "hx-trigger" not in html, "nothing polls"
    assert "No open contact" in render_contact(None)


def test_subscribing_needs_no_running_loop_until_used() -> None:
    feed = ContactFeed()
    queue = feed.subscribe("a-1")
    feed.on_event(_started("ct-1"))
    feed.on_event(_segment("ct-1", "a-1"))
    assert asyncio.run(asyncio.wait_for(queue.get(), 1)).contact_id == "ct-1"


class _Request:
    async def is_disconnected(self) -> bool:
        return False


def test_the_stream_sends_the_state_then_the_push_then_the_record_when_it_appears() -> None:
    import httpx

    from icsuite_desktop.gateways import Gateways
    from icsuite_desktop.routes_live import contact_stream
    from icsuite_desktop.session import User
    from icsuite_desktop.settings import DesktopSettings

    lists = {"n": 0}
    record = {"interaction_id": "int-9", "contact_id": "ct-1", "channel": "phone", "from_address": "+4930123"}

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/interactions":
            lists["n"] += 1
            return httpx.Response(200, json={"items": [record] if lists["n"] >= 3 else [], "next_cursor": None})
        return httpx.Response(404, json={"title": "Not found", "status": 404, "detail": "no context yet"})

    async def run() -> list[str]:
        settings = DesktopSettings(jwt_secret="unit-secret-" + "x" * 32)
        gw = Gateways(settings, transport=httpx.MockTransport(answer))
        feed = ContactFeed()
        user = User(sub="a-1", roles=frozenset({"agent"}), token="t")
        stream = contact_stream(_Request(), gw, feed, user)  # type: ignore[arg-type]
        events = [await anext(stream), await anext(stream)]
        feed.on_event(_started("ct-1"))
        feed.on_event(_segment("ct-1", "a-1"))
        events += [await asyncio.wait_for(anext(stream), 5) for _ in range(3)]
        await stream.aclose()
        await gw.close()
        assert not feed._pages, "a closed stream leaves the feed"
        return events

    events = asyncio.run(run())
    assert "No open contact" in events[1]
    assert "+4930123" in events[2] and "being recorded" in events[2], "the caller at once, as reported"
    assert lists["n"] >= 2 and "+4930123" in events[3] and "being recorded" in events[3]
    assert 'href="/interactions/int-9"' in events[4], "shown again once the record exists"
