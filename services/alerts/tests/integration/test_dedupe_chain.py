"""The de-duplication claim: a chain of immutable documents keyed by ``_id``, one per raise."""

import asyncio
from datetime import timedelta

import pytest
from icsuite_chassis.testing import unique

from icsuite_alerts.domain.evaluation import Match
from icsuite_alerts.domain.rules import Rule, RuleSpec
from icsuite_alerts.repository import DEDUPE_READ_AHEAD, Claim, dedupe_id

pytestmark = [pytest.mark.integration]


def match(rule: Rule, alert_id: str, account: str, contact: str, at) -> Match:
    return Match(alert_id, rule, "m", account, contact, "a-1", at, f"ev-{alert_id}", "ic.identity.contact-identified.v1")


def rule(window_s: int) -> Rule:
    spec = RuleSpec("r", ("ic.identity.contact-identified.v1",), "true", "info", "m", "agent", window_s)
    return Rule(unique("rule"), 1, spec)


async def test_concurrent_claims_of_one_window_let_exactly_one_raise(alerts) -> None:
    repo = alerts.app.state.service.alerts
    r, account, contact, t = rule(600), unique("acc"), unique("ct"), alerts.now()
    contenders = [match(r, unique("al"), account, contact, t + timedelta(seconds=i)) for i in range(8)]
    results = await asyncio.gather(*(repo.claim_dedupe(m) for m in contenders))
    assert sorted(c.value for c in results) == ["new"] + ["refused"] * 7
    winner = contenders[[c is Claim.NEW for c in results].index(True)]
    assert await repo.claim_dedupe(winner) is Claim.AGAIN  # a redelivery of the winner
    after_window = match(r, unique("al"), account, contact, t + timedelta(seconds=700))
    other = match(r, unique("al"), account, unique("ct"), t)
    assert await repo.claim_dedupe_many([after_window, other]) == [Claim.NEW, Claim.NEW]
    assert await repo.claim_dedupe_many([after_window, winner]) == [Claim.AGAIN, Claim.REFUSED]


async def test_a_long_chain_and_an_earlier_single_document_are_followed(alerts) -> None:
    repo = alerts.app.state.service.alerts
    r, account, contact, t = rule(0), unique("acc"), unique("ct"), alerts.now()
    first = match(r, unique("al"), account, contact, t)
    # a document as earlier versions kept it (one per key, updated in place) counts as generation 1
    await repo.dedupe.insert_one({"_id": first.dedupe_key, "last_at": t, "alert_id": first.alert_id})
    assert await repo.claim_dedupe(first) is Claim.AGAIN
    raised = [match(r, unique("al"), account, contact, t + timedelta(seconds=i))
              for i in range(1, 2 * DEDUPE_READ_AHEAD + 3)]
    for m in raised:
        assert await repo.claim_dedupe(m) is Claim.NEW
    assert await repo.claim_dedupe(raised[-1]) is Claim.AGAIN
    assert await repo.claim_dedupe(raised[3]) is Claim.REFUSED  # older than the last raise
    last = await repo.dedupe.find_one({"_id": dedupe_id(first.dedupe_key, len(raised) + 1)})
    assert last["alert_id"] == raised[-1].alert_id
