"""Fuzzy name search in a crowded postcode: ``names-in:<postcode>`` lists 1,000 accounts per page, further
accounts on overflow pages that every search reads; renaming, moving and erasing unlist from the page
that held the account."""

from __future__ import annotations

import random
import string

import pytest
from icsuite_chassis.store import Item
from rapidfuzz import process

from icsuite_identity.handlers.erasures import erase
from icsuite_identity.handlers.merges import merge_accounts
from icsuite_identity.domain.keys import names_in_key
from icsuite_identity.domain.lookups import LOOKUP_CAP, decide_index, lookup_pages
from icsuite_identity.domain.ranking import SearchCriteria
from icsuite_identity.repository.search import MAX_SIMILAR, SIMILARITY_CUTOFF, similar_names, word_similarity

from .conftest import account

pytestmark = pytest.mark.unit
POSTCODE = "10115"
KEY = names_in_key(POSTCODE)


def made_up_names(n: int) -> list[str]:
    rng = random.Random(16)
    names: set[str] = set()
    while len(names) < n:
        names.add(" ".join("".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(6, 9))).title()
                           for _ in range(2)))
    return sorted(names)


def misspelt(name: str) -> str:
    first, last = name.split()
    return f"{first} {last[:3]}{last[4:]}"  # one letter dropped from the surname


async def listings(harness, key: str = KEY) -> dict[str, list[str]]:
    """Each page's ids, of the pages that exist."""
    found = await harness.svc.stores.lookups.get_many(lookup_pages(key))
    return {page: list(stored.state.ids) for page, stored in found.items()}


def pages_of(listed: dict[str, list[str]], account_id: str) -> list[str]:
    return [page for page, ids in listed.items() if account_id in ids]


async def found(harness, name: str, postcode: str = POSTCODE) -> list[tuple[str, list[str]]]:
    ranked, _ = await harness.svc.search.search(SearchCriteria(name=name, postcode=postcode))
    return [(c.account_id, c.matched_by) for c in ranked]


@pytest.fixture
async def crowded(harness):
    """1,200 accounts in one postcode, replicated in batches of 100 as the consumer hands them over."""
    names = made_up_names(1200)
    envelopes = [account(f"acc-{i:04d}", name=name) for i, name in enumerate(names, start=1)]
    for start in range(0, len(envelopes), 100):
        await harness.replicate(*envelopes[start:start + 100], batch=True)
    return names


async def test_the_accounts_beyond_the_first_thousand_are_found_by_a_misspelt_name(harness, crowded) -> None:
    listed = await listings(harness)
    assert [len(ids) for ids in listed.values()] == [LOOKUP_CAP, 200]
    assert sorted(i for ids in listed.values() for i in ids) == [f"acc-{i:04d}" for i in range(1, 1201)]
    assert "acc-1150" in listed[f"{KEY}|2"]
    for number in (1150, 1001, 1200, 1, 500):
        account_id, name = f"acc-{number:04d}", crowded[number - 1]
        assert (account_id, ["name", "name_similar"]) in await found(harness, misspelt(name))
        assert (await found(harness, name))[0] == (account_id, ["name_exact", "name"])  # exact ranks first


async def test_renamed_moved_and_erased_accounts_leave_the_page_that_held_them(harness, crowded) -> None:
    await harness.replicate(account("acc-1150", 2, name="Wilhelmine Schwarzenegger"),  # renamed on page 2
                            account("acc-1160", 2, name=crowded[1159], postcode="20095"),  # moved from page 2
                            account("acc-0007", 2, name=crowded[6], postcode="20095"))  # moved from page 1
    await erase(harness.svc, "acc-1170")
    listed = await listings(harness)
    assert pages_of(listed, "acc-1150") == [f"{KEY}|2"]  # kept its page, the label brought up to date
    assert (await harness.svc.stores.lookups.get(f"{KEY}|2")).state.labels["acc-1150"] == "wilhelmine schwarzenegger"
    assert pages_of(listed, "acc-1160") == pages_of(listed, "acc-0007") == pages_of(listed, "acc-1170") == []
    assert [len(ids) for ids in listed.values()] == [LOOKUP_CAP - 1, 198]
    assert ("acc-1150", ["name", "name_similar"]) in await found(harness, "Wilhelmine Schwarzeneger")
    assert "acc-1150" not in [i for i, _ in await found(harness, misspelt(crowded[1149]))]
    assert "acc-1160" not in [i for i, _ in await found(harness, misspelt(crowded[1159]))]
    assert ("acc-1160", ["name", "name_similar"]) in await found(harness, misspelt(crowded[1159]), "20095")
    await harness.replicate(account("acc-1201", name="Konstantin Brandenburger"))  # the room page 1 freed
    assert pages_of(await listings(harness), "acc-1201") == [KEY]
    await harness.replicate(account("acc-1150", 3, name="Wilhelmine Schwarz"))  # renamed again: still one page
    assert pages_of(await listings(harness), "acc-1150") == [f"{KEY}|2"]


async def test_a_listing_a_race_left_on_two_pages_is_reduced_to_one(harness, crowded) -> None:
    await harness.svc.stores.lookups.change_many([  # as if a listing on page 1 had raced with a move of acc-0001
        Item(KEY, lambda current: decide_index(current, KEY, "acc-0001", present=False)),
        Item(KEY, lambda current: decide_index(current, KEY, "acc-1150", present=True, label="stale name"))])
    assert pages_of(await listings(harness), "acc-1150") == [KEY, f"{KEY}|2"]
    await harness.replicate(account("acc-1150", 2, name=crowded[1149]))
    assert pages_of(await listings(harness), "acc-1150") == [KEY]


async def test_when_every_page_is_full_the_account_is_left_out_and_said_so(harness, monkeypatch, caplog) -> None:
    monkeypatch.setattr("icsuite_identity.domain.lookups.LOOKUP_CAP", 2)
    monkeypatch.setattr("icsuite_identity.projections.pages.LOOKUP_CAP", 2)
    names = made_up_names(2 * len(lookup_pages(KEY)) + 1)
    await harness.replicate(*(account(f"acc-{i:04d}", name=name) for i, name in enumerate(names, start=1)), batch=True)
    listed = await listings(harness)
    assert [len(ids) for ids in listed.values()] == [2] * len(lookup_pages(KEY))
    assert "is not listed and cannot be found by it" in caplog.text


async def test_a_merged_account_on_an_overflow_page_finds_the_account_it_was_merged_into(harness, crowded) -> None:
    assert "acc-1150" in (await listings(harness))[f"{KEY}|2"]
    await merge_accounts(harness.svc, "acc-0001", "acc-1150", "s-1")
    answered = [account_id for account_id, _ in await found(harness, misspelt(crowded[1149]))]
    assert "acc-0001" in answered and "acc-1150" not in answered


def test_the_pre_filter_leaves_every_name_the_scorer_would_find() -> None:
    rng = random.Random(7)
    names = {f"acc-{i}": " ".join(name.lower().split()) for i, name in enumerate(made_up_names(3000))}
    typo = "".join(rng.choice(string.ascii_lowercase) for _ in range(1))
    queries = [name[:-1] for name in list(names.values())[::150]]  # a letter dropped at the end
    queries += [typo + name[1:] for name in list(names.values())[7::150]]  # the first letter wrong
    queries += [f"dr {name}" for name in list(names.values())[11::300]] + ["zz", "a b c d e f g h"]
    for query in queries:
        unfiltered = process.extract(query, names, scorer=word_similarity, score_cutoff=SIMILARITY_CUTOFF,
                                     limit=None)
        assert similar_names(query, names) == {i: score / 100 for _, score, i in unfiltered[:MAX_SIMILAR]}
    assert similar_names(queries[0], names)  # not all empty
