"""Search on the real stack after a merge: a merged account's name (exact, some words, or mistyped) answers as the account it was merged into,
and after the unmerge as itself again."""

import pytest
from icsuite_chassis.testing import bearer, unique

pytestmark = pytest.mark.integration
SUPERVISOR = bearer("sup-1", "supervisor")


async def _account(identity, name: str, street: str, postcode: str) -> str:
    body = {"kind": "person", "name": name, "allow_duplicate": True,
            "address": {"street": street, "postcode": postcode, "city": "Köln", "country": "DE"}}
    created = await identity.client.post("/v1/accounts", headers=identity.agent, json=body)
    assert created.status_code == 201, created.text
    return created.json()["account_id"]


async def _found(identity, **params) -> list[str]:
    response = await identity.client.get("/v1/accounts/search", headers=identity.agent, params=params)
    assert response.status_code == 200, response.text
    return [item["account_id"] for item in response.json()["items"]]


async def test_a_merged_accounts_name_and_address_find_the_surviving_account_until_unmerged(identity):
    postcode = unique("pc")[-8:]
    target = await _account(identity, "Konstantin Weißenberger", "Rheinufer 4", postcode)
    source = await _account(identity, "Konstanze Albrechtsen", "Domplatz 9", postcode)
    searches = [{"name": "Konstanze Albrechtsen", "postcode": postcode},      # every word exactly
                {"name": "Konstanze", "postcode": postcode},                  # some words
                {"name": "Konstanze Albrechtsem", "postcode": postcode}]      # a typing error
    for params in searches:
        assert await _found(identity, **params) == [source], params

    merged = await identity.client.post(f"/v1/accounts/{target}/merges", headers=SUPERVISOR,
                                        json={"source_account_id": source})
    assert merged.status_code == 201, merged.text
    for params in searches:
        assert await _found(identity, **params) == [target], params
    both = await _found(identity, name="Konstan", postcode=postcode)
    assert source not in both

    undone = await identity.client.post(f"/v1/merges/{merged.json()['merge_id']}/unmerge", headers=SUPERVISOR)
    assert undone.status_code == 200, undone.text
    for params in searches:
        assert await _found(identity, **params) == [source], params
