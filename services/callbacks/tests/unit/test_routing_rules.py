"""Routing by skill and language (issue 17): the rule, the claim decisions, and claim-next and the general inbox
on the in-memory store. A token without skills (languages) claims has none: it is offered only items that need
no skill (no language)."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from icsuite_callbacks import handlers
from icsuite_callbacks.domain import SEED_PROFILES, Actor, CallbackRequest, IntakePolicy, NotQualified, ReasonProfile
from icsuite_callbacks.domain import lifecycle as lc
from icsuite_callbacks.domain.intake import decide_enter_inbox, new_work_item
from icsuite_callbacks.domain.routing import can_serve, language_code

from .test_handlers import request, service

pytestmark = [pytest.mark.unit]
NOW = datetime(2025, 3, 2, 9, 0, tzinfo=UTC)
NO_CLAIMS = Actor("newbie")                                     # a token without skills and languages claims
BILLING = Actor("bea", skills=frozenset({"billing"}))
GERMAN_BILLING = Actor("gus", skills=frozenset({"billing", "moves"}), languages=frozenset({"de-AT", "en"}))
SUPERVISOR = Actor("sue", supervisor=True)


def item(skill: str | None = None, language: str | None = None):
    profile = replace(SEED_PROFILES[0], skill=skill, language=language)
    request_ = CallbackRequest(request_id="cbr-1", callback_number="+4930123456", channel="web", account_id="acc-1")
    queued, _ = decide_enter_inbox(new_work_item(request_, profile, NOW, IntakePolicy()), NOW)
    return queued


@pytest.mark.parametrize(("actor", "skill", "language", "served"), [
    (NO_CLAIMS, None, None, True),              # unrestricted work is for everyone
    (NO_CLAIMS, "billing", None, False),        # no skills claim: no skills, not every skill
    (NO_CLAIMS, None, "de", False),             # no languages claim: no languages
    (BILLING, "billing", None, True),
    (BILLING, "moves", None, False),
    (BILLING, "billing", "de", False),          # both must hold
    (GERMAN_BILLING, "billing", "de", True),    # de-AT speaks de
    (GERMAN_BILLING, "moves", "DE-CH", True),   # the primary language, without case
    (GERMAN_BILLING, "billing", "fr", False),
    (SUPERVISOR, "grid", "fr", True),           # supervisors may take any item
])
def test_who_can_serve_an_item(actor: Actor, skill: str | None, language: str | None, served: bool) -> None:
    assert can_serve(actor, item(skill, language)) is served


def test_language_codes_compare_the_primary_language() -> None:
    assert [language_code(t) for t in ("de", "de-AT", "EN-gb", "zh-Hant-TW")] == ["de", "de", "en", "zh"]


def test_claiming_an_item_one_cannot_serve_is_refused_naming_what_it_needs() -> None:
    with pytest.raises(NotQualified) as refused:
        lc.decide_claim(item("billing"), lc.Claim(NO_CLAIMS), NOW)
    assert refused.value.extensions == {"reason": "skill-required", "skill": "billing"}
    with pytest.raises(NotQualified) as refused:
        lc.decide_claim(item("billing", "fr"), lc.Claim(GERMAN_BILLING), NOW)
    assert refused.value.extensions == {"reason": "language-required", "language": "fr"}
    claimed, [event] = lc.decide_claim(item("billing"), lc.Claim(BILLING), NOW)
    assert (claimed.owner, event.agent_id) == ("bea", "bea")


def test_claim_next_skips_an_item_the_actor_cannot_serve() -> None:
    assert lc.decide_claim_next(item("billing"), lc.Claim(NO_CLAIMS), NOW) is None
    assert lc.decide_claim_next(item("billing"), lc.Claim(BILLING), NOW) is not None


async def _routed(svc, n: int, reason: str | None, **fields) -> str:
    return (await handlers.submit_request(svc, request(n, reason_code=reason, **fields))).callback_id


async def test_claim_next_offers_only_what_the_agent_can_serve_even_behind_many_restricted_items() -> None:
    svc = service()
    await handlers.seed_profiles(svc)   # billing_question needs the skill billing, priority 3 (default: 1)
    restricted = [await _routed(svc, n, "billing_question") for n in range(40)]   # more than a read's candidates
    open_to_all = await _routed(svc, 99, None)
    got = await handlers.claim_next(svc, NO_CLAIMS)
    assert got is not None and got.callback_id == open_to_all
    assert await handlers.claim_next(svc, NO_CLAIMS) is None               # only restricted items are left
    assert await handlers.general_inbox(svc, NO_CLAIMS, 50, None) == []    # the inbox shows what it can serve
    supervisor_view = await handlers.general_inbox(svc, SUPERVISOR, 50, None)
    assert {i.callback_id for i in supervisor_view} == set(restricted)
    assert len(await handlers.general_inbox(svc, BILLING, 50, None)) == 40
    taken = await handlers.claim_next(svc, BILLING)
    assert taken is not None and taken.callback_id in restricted and taken.owner == "bea"


async def test_claim_by_id_of_a_restricted_item_is_refused_and_leaves_it_queued() -> None:
    svc = service()
    await handlers.seed_profiles(svc)
    restricted = await _routed(svc, 1, "billing_question")
    with pytest.raises(NotQualified):
        await handlers.claim(svc, restricted, lc.Claim(NO_CLAIMS))
    assert (await handlers.get_callback(svc, restricted)).status == "queued"
    assert (await handlers.claim(svc, restricted, lc.Claim(BILLING))).owner == "bea"


async def test_language_routing_by_the_profile() -> None:
    svc = service()
    await handlers.put_profile(svc, ReasonProfile("turkish_line", "callback", 1, 60, "general", None, 3, 60.0,
                                                  language="tr"))
    wanted = await _routed(svc, 1, "turkish_line", language="tr")
    assert await handlers.claim_next(svc, GERMAN_BILLING) is None
    speaker = Actor("tara", languages=frozenset({"tr-TR"}))
    assert (await handlers.claim_next(svc, speaker)).callback_id == wanted


async def test_half_the_agents_skilled_every_item_claimed_once_and_each_restricted_one_by_a_skilled_agent() -> None:
    svc = service()
    await handlers.seed_profiles(svc)
    created = [await _routed(svc, n, "billing_question" if n % 2 else None, preferred_to=NOW + timedelta(hours=8))
               for n in range(120)]
    svc.items.published()
    agents = [Actor(f"a-{n}", skills=frozenset({"billing"}) if n % 2 else frozenset()) for n in range(30)]

    async def work(agent: Actor) -> list[tuple[str, str | None]]:
        mine = []
        while (got := await handlers.claim_next(svc, agent)) is not None:
            mine.append((got.callback_id, got.routing.skill))
        return mine

    results = await asyncio.gather(*(work(a) for a in agents))
    every = [cid for mine in results for cid, _ in mine]
    assert sorted(every) == sorted(created)                         # every item once, none twice
    for agent, mine in zip(agents, results, strict=True):
        assert all(skill is None or skill in agent.skills for _, skill in mine)
    claims = Counter(e.data.callback_id for e in svc.items.published() if e.type == "ic.callback.claimed.v1")
    assert claims == Counter(created)
    assert any(mine for agent, mine in zip(agents, results, strict=True) if not agent.skills)


async def test_an_agent_without_the_skill_is_answered_by_one_read_that_reads_none_of_the_restricted_items() -> None:
    """The database is asked only for items the caller can serve: before, an agent without the skill read the whole
    queue in growing rounds and checked every restricted item (at 200 agents, 75 % of the service's CPU)."""
    svc = service()
    await handlers.seed_profiles(svc)
    for n in range(300):
        await _routed(svc, n, "billing_question")
    reads: list[int] = []
    find = svc.items._find

    async def counting_find(*args):
        found = await find(*args)
        reads.append(len(found))
        return found

    svc.items._find = counting_find
    assert await asyncio.gather(*(handlers.claim_next(svc, Actor(f"new-{n}")) for n in range(5))) == [None] * 5
    assert reads == [0]                                             # one shared read, no restricted item in it
    assert await handlers.claim_next(svc, NO_CLAIMS) is None and reads == [0]   # then the queue's head answers
    taken = await handlers.claim_next(svc, BILLING)
    assert taken is not None and taken.routing.skill == "billing" and len(reads) == 2
