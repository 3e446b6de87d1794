"""The live contact feed: an agent's segment start tells only that agent's pages, with what the channel
reported; an identification tells them again; the stream renders the contact before its record exists, and
again when the record or identity's outcome (which no event announces for an unknown caller) appears."""

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


NOT_FOUND_CONTEXT = {"contact_id": "ct-1", "account_id": None, "business_agreement_id": None, "premise_id": None,
                     "confirmed": False, "candidates": [], "identification": {"outcome": "not_found"},
                     "confirmation": None, "history": [], "agent_ids": ["a-1"]}


def _late_identity(record: dict, calls: dict[str, int], context_from: int):
    """Interactions has the record at once; identity answers 404 until its ``context_from``-th context read."""
    import httpx

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/interactions":
            return httpx.Response(200, json={"items": [record] if calls["started"] else [], "next_cursor": None})
        calls["context"] += 1
        if calls["context"] < context_from:
            return httpx.Response(404, json={"title": "Not found", "status": 404, "detail": "no context yet"})
        return httpx.Response(200, json=NOT_FOUND_CONTEXT)
    return answer


async def _until_shown(stream, text: str, within_s: float = 12.0) -> list[str]:
    """The stream's next events up to the first that shows ``text``, bounded (before the keepalive, 15 s)."""
    seen: list[str] = []
    try:
        async with asyncio.timeout(within_s):
            while not seen or text not in seen[-1]:
                seen.append(await anext(stream))
    except TimeoutError:
        raise AssertionError(f"{text!r} not shown within {within_s} s: {seen}") from None
    return seen


def _stream_with(answer, feed: ContactFeed):
    import httpx

    from icsuite_desktop.gateways import Gateways
    from icsuite_desktop.routes_live import contact_stream
    from icsuite_desktop.session import User
    from icsuite_desktop.settings import DesktopSettings

    gw = Gateways(DesktopSettings(jwt_secret="unit-secret-" + "x" * 32), transport=httpx.MockTransport(answer))
    user = User(sub="a-1", roles=frozenset({"agent"}), token="t")
    return gw, contact_stream(_Request(), gw, feed, user)  # type: ignore[arg-type]


def test_an_unknown_callers_outcome_stored_after_the_record_still_reaches_the_page() -> None:
    """Identity publishes no event for a caller it found no account for: when its context is stored only after
    the interaction record exists, the stream must still look again (it stopped at the record, and the page
    said "identifying..." for good - the browser test's flake under load)."""
    calls = {"context": 0, "started": 0}
    record = {"interaction_id": "int-9", "contact_id": "ct-1", "channel": "phone", "from_address": "+4930123"}

    async def run() -> list[str]:
        feed = ContactFeed()
        gw, stream = _stream_with(_late_identity(record, calls, context_from=4), feed)
        assert "No open contact" in (await anext(stream) + await anext(stream))
        calls["started"] = 1
        feed.on_event(_started("ct-1"))
        feed.on_event(_segment("ct-1", "a-1"))
        events = await _until_shown(stream, "not identified")
        await stream.aclose()
        await gw.close()
        return events

    events = asyncio.run(run())
    assert 'href="/interactions/int-9"' in events[1] and "identifying" in events[1], "the record, no context yet"
    assert calls["context"] == 4 and 'href="/interactions/int-9"' in events[-1]


def test_a_page_that_connects_before_identity_stored_the_outcome_gets_it() -> None:
    calls = {"context": 0, "started": 1}
    record = {"interaction_id": "int-9", "contact_id": "ct-1", "channel": "phone", "from_address": "+4930123"}

    async def run() -> list[str]:
        gw, stream = _stream_with(_late_identity(record, calls, context_from=3), ContactFeed())
        events = await _until_shown(stream, "not identified")
        await stream.aclose()
        await gw.close()
        return events

    events = asyncio.run(run())
    assert "identifying" in events[1], "the state read on connecting has the record but no context yet"
    assert calls["context"] == 3
