"""Fuzzy name search in a crowded postcode, on the real stack: 1,200 accounts replicated into one postcode,
the accounts beyond the first 1,000 listed on an overflow page of ``names-in:<postcode>`` and found by a
misspelt name; renamed, moved and erased accounts leave the page that held them."""

import random
import string

import pytest
from icsuite_chassis.testing import bearer, eventually, unique

from icsuite_identity.domain.keys import names_in_key
from icsuite_identity.domain.lookups import LOOKUP_CAP, lookup_pages

from .conftest import REPLAY_TIMEOUT_S

pytestmark = pytest.mark.integration
ADMIN = bearer("admin-1", "admin")


def made_up_names(n: int) -> list[str]:
    rng = random.Random(1150)
    names: set[str] = set()
    while len(names) < n:
        names.add(" ".join("".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(6, 9))).title()
                           for _ in range(2)))
    return sorted(names)


def misspelt(name: str) -> str:
    first, last = name.split()
    return f"{first} {last[:3]}{last[4:]}"  # one letter dropped from the surname


async def test_a_crowded_postcode_is_searched_on_every_page_and_changes_leave_their_page(identity) -> None:
    postcode, other_postcode, names = unique("pc")[-8:], unique("pc")[-8:], made_up_names(1200)
    ids = [unique(f"acc{n:04d}") for n in range(1, 1201)]
    key = names_in_key(postcode)

    async def pages() -> dict[str, list[str]]:
        docs = await identity.db.lookups.find({"_id": {"$in": lookup_pages(key)}}).to_list(None)
        return {doc["_id"]: doc["ids"] for doc in docs}

    async def search(name: str, at: str = postcode) -> list[tuple[str, list[str]]]:
        response = await identity.client.get("/v1/accounts/search", params={"name": name, "postcode": at},
                                             headers=identity.agent)
        assert response.status_code == 200, response.text
        return [(i["account_id"], i["matched_by"]) for i in response.json()["items"]]

    async def listed(count: int) -> dict[str, list[str]] | None:
        found = await pages()
        return found if sum(map(len, found.values())) == count else None

    snapshots = [identity.account_snapshot(i, 1, name=name, postcode=postcode) for i, name in zip(ids, names)]
    await identity.publish(*snapshots[:LOOKUP_CAP])  # the first page fills up first
    await eventually(lambda: listed(LOOKUP_CAP), timeout=REPLAY_TIMEOUT_S)
    await identity.publish(*snapshots[LOOKUP_CAP:])
    found_pages = await eventually(lambda: listed(1200), timeout=REPLAY_TIMEOUT_S)
    assert {page: len(listing) for page, listing in found_pages.items()} == {key: LOOKUP_CAP, f"{key}|2": 200}

    the_1150th = ids[1149]
    assert (the_1150th, ["name", "name_similar"]) in await search(misspelt(names[1149]))
    assert (await search(names[1149]))[0] == (the_1150th, ["name_exact", "name"])

    renamed, moved, erased, moved_from_first = ids[1149], ids[1159], ids[1169], ids[6]
    await identity.publish(identity.account_snapshot(renamed, 2, name="Wilhelmine Schwarzenegger", postcode=postcode),
                           identity.account_snapshot(moved, 2, name=names[1159], postcode=other_postcode),
                           identity.account_snapshot(moved_from_first, 2, name=names[6], postcode=other_postcode))
    answer = await identity.client.post("/v1/privacy/erasures", json={"account_id": erased}, headers=ADMIN)
    assert answer.status_code == 202, answer.text
    found_pages = await eventually(lambda: listed(1197), timeout=REPLAY_TIMEOUT_S)

    async def renamed_found() -> list | None:
        return found if (found := await search("Wilhelmine Schwarzeneger")) else None
    assert await eventually(renamed_found) == [(renamed, ["name", "name_similar"])]
    assert renamed in found_pages[f"{key}|2"] and renamed not in found_pages[key]  # kept its page
    assert {page: len(listing) for page, listing in found_pages.items()} == {key: LOOKUP_CAP - 1, f"{key}|2": 198}
    for account_id, name in ((renamed, names[1149]), (moved, names[1159]), (erased, names[1169]),
                             (moved_from_first, names[6])):
        assert account_id not in [i for i, _ in await search(misspelt(name))]
    assert (moved, ["name", "name_similar"]) in await search(misspelt(names[1159]), other_postcode)
