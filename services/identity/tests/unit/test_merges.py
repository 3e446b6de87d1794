"""Merging and unmerging duplicate accounts, and the duplicate report, on in-memory stores."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from icsuite_chassis.errors import ConflictError, InvalidError, NotFoundError

from icsuite_identity.domain.context import AutomaticIdentification, ContactContext
from icsuite_identity.handlers import merges, surviving_accounts
from icsuite_identity.schemas import context_out

from .conftest import account

pytestmark = pytest.mark.unit
PHONE, OTHER = "+4930111111", "+4930222222"


async def seeded(harness) -> None:
    await harness.replicate(
        account("acc-keep", phones=[PHONE], emails=["erika@example.org"]),
        account("acc-dup", name="Erika Mustermann", phones=[OTHER], emails=["erika@example.org"]),
        account("acc-typo", name="Erika Musterman", phones=["+4930333333"]),          # same address (conftest)
        account("acc-far", name="Erika Mustermann", phones=["+4930444444"], postcode="80331"),
        account("acc-other", name="Hans Meier", phones=["+4930555555"]),
    )


def merge_events(harness) -> list:
    return [e for e in harness.svc.merges.merges.published()]


async def test_a_merge_marks_the_source_and_its_numbers_find_the_target(harness) -> None:
    await seeded(harness)
    assert [a.account_id for a in await harness.svc.reads.by_phone(OTHER)] == ["acc-dup"]
    merge = await merges.merge_accounts(harness.svc, "acc-keep", "acc-dup", "sup-1")
    assert (merge.status, merge.source_account_id, merge.target_account_id, merge.merged_by) == (
        "merged", "acc-dup", "acc-keep", "sup-1")
    assert [a.account_id for a in await harness.svc.reads.by_phone(OTHER)] == ["acc-keep"]
    assert [a.account_id for a in await harness.svc.reads.by_email("erika@example.org")] == ["acc-keep"]
    [event] = merge_events(harness)
    assert event.type == "ic.account.merged.v1" and event.data.merge_id == merge.merge_id
    again = await merges.merge_accounts(harness.svc, "acc-keep", "acc-dup", "sup-1")
    assert again.merge_id == merge.merge_id and merge_events(harness) == []   # nothing twice


async def test_an_unmerge_restores_the_source_once(harness) -> None:
    await seeded(harness)
    merge = await merges.merge_accounts(harness.svc, "acc-keep", "acc-dup", "sup-1")
    merge_events(harness)
    undone = await merges.unmerge(harness.svc, merge.merge_id, "admin-1")
    assert (undone.status, undone.unmerged_by) == ("unmerged", "admin-1")
    assert [a.account_id for a in await harness.svc.reads.by_phone(OTHER)] == ["acc-dup"]
    [event] = merge_events(harness)
    assert event.type == "ic.account.unmerged.v1" and event.data.source_account_id == "acc-dup"
    assert (await merges.unmerge(harness.svc, merge.merge_id, "admin-1")).status == "unmerged"
    assert merge_events(harness) == []
    with pytest.raises(NotFoundError):
        await merges.unmerge(harness.svc, "mg-unknown", "admin-1")


async def test_merges_that_could_not_be_undone_exactly_are_refused(harness) -> None:
    await seeded(harness)
    with pytest.raises(InvalidError):
        await merges.merge_accounts(harness.svc, "acc-keep", "acc-keep", "sup-1")
    with pytest.raises(NotFoundError):
        await merges.merge_accounts(harness.svc, "acc-keep", "acc-missing", "sup-1")
    await merges.merge_accounts(harness.svc, "acc-keep", "acc-dup", "sup-1")
    with pytest.raises(ConflictError) as into_merged:
        await merges.merge_accounts(harness.svc, "acc-dup", "acc-other", "sup-1")
    assert into_merged.value.extensions["code"] == "target-merged"
    with pytest.raises(ConflictError) as merged_twice:
        await merges.merge_accounts(harness.svc, "acc-other", "acc-dup", "sup-1")
    assert merged_twice.value.extensions["code"] == "source-merged"
    with pytest.raises(ConflictError) as has_merges:
        await merges.merge_accounts(harness.svc, "acc-other", "acc-keep", "sup-1")
    assert has_merges.value.extensions["code"] == "source-has-merges"


async def test_the_report_finds_shared_addresses_and_similar_names_at_one_address(harness) -> None:
    await seeded(harness)
    page = await merges.duplicate_report(harness.svc, None, 50)
    found = {(p.account_ids, p.reason) for p in page.pairs}
    assert (("acc-dup", "acc-keep"), "same_email") in found
    assert (("acc-keep", "acc-typo"), "similar_name_same_address") in found
    assert (("acc-dup", "acc-typo"), "similar_name_same_address") in found
    assert not any("acc-other" in pair or "acc-far" in pair for pair, _ in found)
    assert page.next_cursor is None


async def test_the_report_pages_and_leaves_merged_accounts_out(harness) -> None:
    await seeded(harness)
    first = await merges.duplicate_report(harness.svc, None, 1)
    rest = await merges.duplicate_report(harness.svc, first.next_cursor, 50)
    every = {p.account_ids for p in first.pairs + rest.pairs}
    assert every == {p.account_ids for p in (await merges.duplicate_report(harness.svc, None, 50)).pairs}
    await merges.merge_accounts(harness.svc, "acc-keep", "acc-dup", "sup-1")
    left = {p.account_ids for p in (await merges.duplicate_report(harness.svc, None, 50)).pairs}
    assert left == {("acc-keep", "acc-typo")}


async def test_a_contexts_account_and_candidates_answer_the_surviving_account_until_the_unmerge(harness) -> None:
    await seeded(harness)
    at = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    ambiguous = ContactContext("c-1", at, at, automatic=AutomaticIdentification(
        "ambiguous", "auto_number", None, ("acc-dup", "acc-keep", "acc-other"), "phone", at))
    identified = ContactContext("c-2", at, at, automatic=AutomaticIdentification(
        "identified", "auto_number", "acc-dup", ("acc-dup",), "phone", at))

    async def answered(context: ContactContext) -> tuple[str | None, list[str], str | None]:
        out = context_out(context, await surviving_accounts(harness.svc.reads, context))
        return out.account_id, out.candidates, out.identification.account_id if out.identification else None

    before = [await answered(c) for c in (ambiguous, identified)]
    assert before == [(None, ["acc-dup", "acc-keep", "acc-other"], None), ("acc-dup", ["acc-dup"], "acc-dup")]
    merge = await merges.merge_accounts(harness.svc, "acc-keep", "acc-dup", "sup-1")
    assert [await answered(c) for c in (ambiguous, identified)] == [
        (None, ["acc-keep", "acc-other"], None), ("acc-keep", ["acc-keep"], "acc-dup")]  # identified as it was made
    await merges.unmerge(harness.svc, merge.merge_id, "sup-1")
    assert [await answered(c) for c in (ambiguous, identified)] == before
