"""What the gateways answer about merged accounts in tests/integration/test_merges.py: the alerts service's
facts and alert lists by account, and the candidate lists (contact contexts, callback items, identity's
stored answers about a number)."""

from __future__ import annotations

import asyncio

import httpx
from icsuite_chassis.testing import eventually, publish_envelopes, unique
from icsuite_contracts.cloudevents import new_envelope
from icsuite_contracts.contacts_v1 import ContactStarted

from e2e_steps import headers, now, poll_json


class Answers:
    """What the gateways answer about accounts: the alerts service's facts and alerts, and the candidate lists."""

    def __init__(self, client: httpx.AsyncClient, suite, identifications) -> None:
        """``identifications``: callbacks' ``caller_identifications`` collection."""
        self.client, self.suite, self.identifications = client, suite, identifications
        self.supervisor = headers(suite, "sup-1", "supervisor")
        self.contacts: list[str] = []
        self.callbacks: list[str] = []

    async def _get(self, service: str, path: str, **params) -> dict:
        r = await self.client.get(self.suite.url(service, path), headers=self.supervisor, params=params)
        assert r.status_code == 200, r.text
        return r.json()

    async def facts(self, account_id: str) -> dict:
        return (await self._get("alerts", f"/v1/accounts/{account_id}/facts"))["facts"]

    async def alerts(self, account_id: str) -> list[str]:
        return sorted(a["alert_id"] for a in (await self._get("alerts", "/v1/alerts", account_id=account_id,
                                                              limit=200))["items"])

    async def candidate_lists(self) -> dict[str, tuple]:
        """Each list as answered: a context's account and candidates, an item's account and candidates, and
        the stored answer identity gave about an item's number."""
        lists: dict[str, tuple] = {}
        for contact in self.contacts:
            body = await self._get("identity", f"/v1/contacts/{contact}/context")
            lists[f"context:{contact}"] = (body["account_id"], *body["candidates"])
        for callback in self.callbacks:
            body = await self._get("callbacks", f"/v1/callbacks/{callback}")
            lists[f"callback:{callback}"] = (body["account_id"], *body["candidates"])
            stored = await self.identifications.find_one({"_id": body["request_id"]}) or {"account_id": "?", "candidates": []}
            lists[f"identity-answer:{callback}"] = (stored["account_id"], *stored["candidates"])
        return lists

    async def settled(self, read, *args, quiet_s: float = 3.0):
        """``read(*args)`` once it answers the same for ``quiet_s``."""
        last = await read(*args)
        while True:
            await asyncio.sleep(quiet_s)
            now_ = await read(*args)
            if now_ == last:
                return now_
            last = now_

    async def until(self, expected, read, *args, timeout: float = 90):
        async def equal():
            got = await read(*args)
            assert got == expected, got
            return got
        return await eventually(equal, timeout=timeout, interval=0.5)


def merged_lists(lists: dict[str, tuple], source: str, target: str) -> dict[str, tuple]:
    """The lists as a merge answers them: the source is the target, each candidate once. The stored answer
    identity gave about a number it found on several accounts stays as given (callbacks moves only answers
    that named an account; the item not identified shows its candidates through the merge records)."""
    def answered(values: tuple) -> tuple:
        account, *candidates = values
        return (target if account == source else account,
                *dict.fromkeys(target if c == source else c for c in candidates))
    return {key: values if key.startswith("identity-answer:") and values[0] is None else answered(values)
            for key, values in lists.items()}


def combined_facts(a: dict, b: dict) -> dict:
    """The facts of a merge group of two accounts that share nothing."""
    summed = ("balance", "open_callbacks", "overdue_followups", "contacts_last_7d", "contacts_last_30d",
              "overdue_bills", "overdue_amount")
    return {**a, **{k: round(a[k] + b[k], 2) for k in summed}, "dunning_level": max(a["dunning_level"],
                                                                                    b["dunning_level"])}


async def contacts_from(client: httpx.AsyncClient, suite, answers: Answers, phones: dict[str, str]) -> None:
    """One call from each number (identity identifies it or finds several accounts), waited for until identity
    answered and interactions opened its record."""
    supervisor = answers.supervisor
    for phone, outcome in phones.items():
        contact = unique("c-merge")
        await publish_envelopes(suite.kafka_bootstrap, new_envelope(ContactStarted(
            contact_id=contact, channel="phone", direction="inbound", from_address=phone, to_address="+493011880",
            queue="billing", started_at=now()), source="/cti", correlation_id=contact))
        await poll_json(client, suite.url("identity", f"/v1/contacts/{contact}/context"), supervisor,
                        lambda b, o=outcome: (b.get("identification") or {}).get("outcome") == o)
        await poll_json(client, suite.url("interactions", f"/v1/interactions?contact_id={contact}"), supervisor,
                        lambda b: bool(b.get("items")))
        answers.contacts.append(contact)
