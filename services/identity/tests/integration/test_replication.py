"""Master data replication: full snapshots in any order; an older version never overwrites a newer one."""

import random

import pytest
from icsuite_chassis.testing import eventually, unique

from .conftest import REPLAY_TIMEOUT_S


pytestmark = pytest.mark.integration

ORDERS = [[1, 2, 3, 4, 5], [5, 4, 3, 2, 1], [3, 5, 1, 4, 2], [2, 1, 5, 3, 4]]


async def test_snapshots_in_shuffled_order_end_at_the_newest_version(identity) -> None:
    rng = random.Random(20250301)
    cases = []
    for order in ORDERS + [rng.sample(range(1, 6), 5) for _ in range(2)]:
        account_id = unique("acc")
        phones = {v: identity.random_phone()[0] for v in range(1, 6)}
        snapshots = {v: identity.account_snapshot(account_id, v, name=f"Name V{v}", phones=[phones[v]]) for v in range(1, 6)}
        ba_id, premise_id = unique("ba"), unique("pr")
        envelopes = [snapshots[v] for v in order] + [snapshots[order[0]]]  # and a redelivery
        envelopes += [identity.agreement_snapshot(ba_id, account_id, v, balance=f"{v}0.00") for v in order]
        envelopes += [identity.premise_snapshot(premise_id, v, account_ids=[account_id], street=f"Weg {v}") for v in order]
        cases.append((account_id, ba_id, premise_id, phones))
        await identity.publish(*envelopes)
    for account_id, ba_id, premise_id, phones in cases:
        async def premise_done(premise_id=premise_id):  # published last on the account's partition
            return await identity.db.premises.find_one({"_id": premise_id, "source_version": 5})
        await eventually(premise_done, timeout=REPLAY_TIMEOUT_S)
        account = await identity.db.accounts.find_one({"_id": account_id})
        assert (account["source_version"], account["name"]) == (5, "Name V5")
        agreement = await identity.db.business_agreements.find_one({"_id": ba_id})
        assert (agreement["source_version"], float(agreement["balance"])) == (5, 50.0)
        summary = (await identity.client.get(f"/v1/accounts/{account_id}", headers=identity.agent)).json()
        assert summary["business_agreements"][0]["balance"] == 50.0
        assert summary["premises"][0]["address"]["street"] == "Weg 5"
        newest = await identity.client.get("/v1/accounts/search", params={"phone": phones[5]}, headers=identity.agent)
        assert [i["account_id"] for i in newest.json()["items"]] == [account_id]
        stale = await identity.client.get("/v1/accounts/search", params={"phone": phones[1]}, headers=identity.agent)
        assert stale.json()["items"] == []  # the phone of version 1 no longer leads to it


async def test_premise_address_and_name_searches_follow_the_newest_snapshot(identity) -> None:
    account_id, premise_id, sentinel, postcode = unique("acc"), unique("pr"), unique("ba"), unique("pc")[-8:]
    await identity.publish(
        identity.account_snapshot(account_id, 2, name="Jürgen Groß", postcode=postcode),
        identity.account_snapshot(account_id, 1, name="Old Name", postcode=postcode),
        identity.premise_snapshot(premise_id, 7, account_ids=[account_id], street="Lindenstraße 12", postcode=postcode),
        identity.premise_snapshot(premise_id, 6, account_ids=[account_id], street="Altweg 1", postcode=postcode),
        identity.agreement_snapshot(sentinel, account_id, 1))  # same key, so handled after the others
    await eventually(lambda: identity.db.business_agreements.find_one({"_id": sentinel}), timeout=REPLAY_TIMEOUT_S)

    async def search(**params):
        response = await identity.client.get("/v1/accounts/search", params=params, headers=identity.agent)
        assert response.status_code == 200, response.text
        return [(i["account_id"], i["matched_by"]) for i in response.json()["items"]]

    assert await search(street="lindenstr. 12", postcode=postcode) == [(account_id, ["premise_address"])]
    assert await search(street="Altweg 1", postcode=postcode) == []
    assert await search(name="JURGEN GROSS", postcode=postcode) == [(account_id, ["name_exact", "name"])]
    assert await search(name="groß", postcode=postcode) == [(account_id, ["name"])]
    assert await search(name="Jürgen Gros", postcode=postcode) == [(account_id, ["name", "name_similar"])]
    assert await search(name="Old Name", postcode=postcode) == []


async def test_a_name_with_typing_errors_is_found_ranked_below_exact_matches(identity) -> None:
    typo, exact, other, postcode = unique("acc"), unique("acc"), unique("acc"), unique("pc")[-8:]
    await identity.publish(identity.account_snapshot(typo, 1, name="Erika Mustermann", postcode=postcode),
                           identity.account_snapshot(exact, 1, name="Erika Musterman", postcode=postcode),
                           identity.account_snapshot(other, 1, name="Erika Schmidt", postcode=postcode))
    for account_id in (typo, exact, other):
        await identity.account_version(account_id, 1)

    async def ranked() -> list:
        response = await identity.client.get("/v1/accounts/search", headers=identity.agent,
                                             params={"name": "Erika Musterman", "postcode": postcode})
        assert response.status_code == 200, response.text
        items = [(i["account_id"], i["matched_by"]) for i in response.json()["items"]]
        assert len(items) == 3  # the lookups of all three are written
        return items

    assert await eventually(ranked) == [(exact, ["name_exact", "name"]), (typo, ["name", "name_similar"]),
                                        (other, ["name"])]
