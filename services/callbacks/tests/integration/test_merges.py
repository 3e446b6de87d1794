"""Merged accounts on the real stack: ``dial: account`` dials the numbers of the accounts merged into the
account too, identity's answers about a request follow the surviving account with their candidate, and an item
not identified answers its candidates as the surviving account; the unmerge undoes all three."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from icsuite_chassis.testing import eventually, publish_envelopes, unique
from icsuite_contracts.account_merges_v1 import AccountMerged, AccountUnmerged
from icsuite_contracts.cloudevents import new_envelope
from icsuite_contracts.identity_v1 import CallerIdentified
from icsuite_contracts.masterdata_v1 import AccountUpserted

pytestmark = [pytest.mark.integration]
AT = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)


async def _dials(kit, account: str, number: str) -> int:
    callback_id = await kit.request(account_id=account)
    assert (await kit.act(callback_id, "claim", kit.agent("m-1"))).status_code == 200
    started = await kit.act(callback_id, "start", kit.agent("m-1"), {"dial": "account", "number": number})
    return started.status_code


async def test_a_merge_lends_the_source_numbers_and_identifications_to_the_target_until_undone(kit, mongo_client):
    target, source, merge_id, request_id = unique("acc"), unique("acc"), unique("mg"), unique("cbr")
    own, lent = "+4915112340001", "+4915112340002"
    await publish_envelopes(kit.stack.kafka_bootstrap, *(new_envelope(AccountUpserted(
        account_id=account, source_version=1, kind="person", name="Merle Zusammen", phones=[phone]), source="/erp")
        for account, phone in ((target, own), (source, lent))))
    await publish_envelopes(kit.stack.kafka_bootstrap, new_envelope(CallerIdentified(
        request_id=request_id, callback_number=lent, account_id=source, candidates=[source]), source="/identity"))
    db = mongo_client[kit.settings.mongodb_database]

    async def replicated() -> bool | None:
        return await db.account_phones.count_documents({"_id": {"$in": [target, source]}}) == 2 or None
    await eventually(replicated, timeout=120)   # the module's fresh group reads master data from its beginning
    await eventually(lambda: db.caller_identifications.find_one({"_id": request_id, "account_id": source}),
                     timeout=60)
    assert await _dials(kit, target, lent) == 422
    undecided = await kit.request(account_id=None)   # identity found two accounts for its number
    number = (await kit.get(undecided))["callback_number"]
    await publish_envelopes(kit.stack.kafka_bootstrap, new_envelope(CallerIdentified(
        request_id=undecided, callback_number=number, account_id=None, candidates=[source, "acc-other"]),
        source="/identity"))

    async def candidates(expected: list[str]) -> bool | None:
        return (await kit.get(undecided))["candidates"] == expected or None
    await eventually(lambda: candidates([source, "acc-other"]), timeout=60)

    await publish_envelopes(kit.stack.kafka_bootstrap, new_envelope(AccountMerged(
        merge_id=merge_id, source_account_id=source, target_account_id=target, merged_by="sup-1", merged_at=AT),
        source="/identity"))
    await eventually(lambda: db.account_merges.find_one({"_id": merge_id, "status": "merged"}), timeout=60)
    identification = await db.caller_identifications.find_one({"_id": request_id})
    assert (identification["account_id"], identification["candidates"]) == (target, [target])
    assert await candidates([target, "acc-other"])
    assert await _dials(kit, target, lent) == 200 and await _dials(kit, target, own) == 200
    record = await db.account_merges.find_one({"_id": merge_id})
    assert record["counts"] == {"callbacks": 0, "caller_identifications": 1}

    await publish_envelopes(kit.stack.kafka_bootstrap, new_envelope(AccountUnmerged(
        merge_id=merge_id, source_account_id=source, target_account_id=target, unmerged_by="sup-1",
        unmerged_at=AT), source="/identity"))
    await eventually(lambda: db.account_merges.find_one({"_id": merge_id, "status": "unmerged"}), timeout=60)
    identification = await db.caller_identifications.find_one({"_id": request_id})
    assert (identification["account_id"], identification["candidates"]) == (source, [source])
    assert await candidates([source, "acc-other"])
    assert await _dials(kit, target, lent) == 422 and await _dials(kit, source, lent) == 200
