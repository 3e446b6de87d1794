"""The gateway: confirmation rules, account creation and duplicates, search, and bad input."""

import asyncio
import json
from typing import Any

import pytest
from icsuite_chassis.testing import bearer, eventually, header, read_topic, unique

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def family(identity):
    """An account with a business agreement and a premise, and a stranger with their own agreement."""
    ids = {k: unique(k) for k in ("acc", "ba", "pr", "other_acc", "other_ba", "other_pr")}
    phone = identity.random_phone()
    await identity.publish(
        identity.account_snapshot(ids["acc"], 1, name="Élodie Fontaine", phones=[phone[0]],
                                  emails=[f"{ids['acc']}@example.org"]),
        identity.agreement_snapshot(ids["ba"], ids["acc"], 1, balance="-12.5", dunning_level=2),
        identity.premise_snapshot(ids["pr"], 1, account_ids=[ids["acc"]], agreement_ids=[ids["ba"]]),
        identity.account_snapshot(ids["other_acc"], 1, name="Someone Else"),
        identity.agreement_snapshot(ids["other_ba"], ids["other_acc"], 1),
        identity.premise_snapshot(ids["other_pr"], 1, account_ids=[ids["other_acc"]]))
    for account in ("acc", "other_acc"):
        await identity.account_version(ids[account], 1)
    for collection, key in (("business_agreements", "ba"), ("business_agreements", "other_ba"),
                            ("premises", "pr"), ("premises", "other_pr")):
        await eventually(lambda c=collection, k=key: identity.db[c].find_one({"_id": ids[k]}))
    return {**ids, "phone": phone}


async def test_the_account_summary_has_agreements_bills_and_premises(identity, family):
    response = await identity.client.get(f"/v1/accounts/{family['acc']}", headers=identity.agent)
    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "Élodie Fontaine" and body["addresses"][0]["postcode"] == "10115"
    [agreement] = body["business_agreements"]
    assert (agreement["business_agreement_id"], agreement["balance"], agreement["dunning_level"],
            agreement["credit_status"], agreement["currency"]) == (family["ba"], -12.5, 2, "good", "EUR")
    assert agreement["open_bills"] == [{"bill_id": f"{family['ba']}-b1", "amount": 84.5, "due_date": "2025-03-15"}]
    assert [p["premise_id"] for p in body["premises"]] == [family["pr"]]


async def test_confirmations_must_belong_together_and_are_kept_in_history(identity, family):
    contact_id = unique("ct")
    url = f"/v1/contacts/{contact_id}/context"
    agent = bearer("a-42", "agent")
    await identity.report_contact(contact_id, "a-42")
    wrong_ba = await identity.client.put(url, headers=agent, json={"account_id": family["acc"],
                                                                   "business_agreement_id": family["other_ba"]})
    assert wrong_ba.status_code == 422 and wrong_ba.json()["field"] == "business_agreement_id"
    wrong_premise = await identity.client.put(url, headers=agent, json={"account_id": family["acc"],
                                                                        "premise_id": family["other_pr"]})
    assert wrong_premise.status_code == 422 and wrong_premise.json()["field"] == "premise_id"
    unknown = await identity.client.put(url, headers=agent, json={"account_id": unique("nobody")})
    assert unknown.status_code == 422 and unknown.json()["field"] == "account_id"
    assert (await identity.client.get(url, headers=agent)).json()["confirmed"] is False  # nothing confirmed yet

    first = await identity.client.put(url, headers=agent, json={"account_id": family["acc"]})
    second = await identity.client.put(url, headers=agent, json={
        "account_id": family["acc"], "business_agreement_id": family["ba"], "premise_id": family["pr"]})
    assert first.status_code == 200 and second.status_code == 200
    body = (await identity.client.get(url, headers=identity.agent)).json()
    assert (body["account_id"], body["business_agreement_id"], body["premise_id"], body["confirmed"]) == (
        family["acc"], family["ba"], family["pr"], True)
    assert [(h["business_agreement_id"], h["agent_id"]) for h in body["history"]] == [(None, "a-42"),
                                                                                      (family["ba"], "a-42")]
    records = await read_topic(identity.bootstrap, "ic.identity.v1", lambda r: r.key == contact_id.encode(),
                               expect=2)
    events = [json.loads(r.value) for r in records]
    assert all(header(r, "ce_type") == "ic.identity.contact-identified.v1" for r in records)
    assert [(e["confirmed"], e["agent_id"], e["method"], e["premise_id"]) for e in events] == [
        (True, "a-42", "agent_search", None), (True, "a-42", "agent_search", family["pr"])]


async def test_a_context_is_set_only_for_a_reported_contact_by_its_agent_or_a_supervisor(identity, family):
    phantom, contact_id = unique("ct"), unique("ct")
    body = {"account_id": family["acc"]}
    refused = await identity.client.put(f"/v1/contacts/{phantom}/context", headers=bearer("s-1", "supervisor"),
                                        json=body)
    assert refused.status_code == 404 and refused.headers["content-type"].startswith("application/problem+json")
    assert (await identity.client.get(f"/v1/contacts/{phantom}/context", headers=identity.agent)).status_code == 404
    url = f"/v1/contacts/{contact_id}/context"
    await identity.report_contact(contact_id, None)  # the IVR reported it; no agent yet
    assert (await identity.client.put(url, headers=bearer("a-7", "agent"), json=body)).status_code == 403
    await identity.report_contact(contact_id, "a-7")
    other_agent = await identity.client.put(url, headers=bearer("a-8", "agent"), json=body)
    assert other_agent.status_code == 403 and other_agent.json()["type"].endswith("forbidden")
    own_agent = await identity.client.put(url, headers=bearer("a-7", "agent"), json=body)
    supervisor = await identity.client.put(url, headers=bearer("s-1", "supervisor"), json=body)
    assert (own_agent.status_code, supervisor.status_code) == (200, 200)
    records = await read_topic(identity.bootstrap, "ic.identity.v1", lambda r: r.key in (phantom.encode(),
                                                                                         contact_id.encode()), expect=2)
    assert [(r.key.decode(), json.loads(r.value)["agent_id"]) for r in records] == [(contact_id, "a-7"),
                                                                                   (contact_id, "s-1")]


async def test_creating_an_account_emits_and_refuses_probable_duplicates(identity, family):
    email = f"{unique('new')}@Example.org"
    phone = identity.random_phone()
    body = {"kind": "person", "name": "Ana Núñez", "phones": [phone[1]], "emails": [email],
            "address": {"street": "Calle 1", "postcode": "28001", "city": "Madrid", "country": "ES"}}
    created = await identity.client.post("/v1/accounts", headers=identity.agent, json=body)
    assert created.status_code == 201, created.text
    account_id = created.json()["account_id"]
    assert created.headers["location"] == f"/v1/accounts/{account_id}"
    assert created.json()["phones"] == [phone[0]] and created.json()["emails"] == [email.lower()]
    [record] = await read_topic(identity.bootstrap, "ic.identity.v1", lambda r: r.key == account_id.encode(),
                                expect=1)
    assert header(record, "ce_type") == "ic.identity.account-created.v1"
    assert json.loads(record.value)["created_by"] == "a-17"

    same_email = await identity.client.post("/v1/accounts", headers=identity.agent,
                                            json={"kind": "person", "name": "Other", "emails": [email.upper()]})
    same_phone_and_name = await identity.client.post("/v1/accounts", headers=identity.agent, json={
        "kind": "person", "name": "ANA NUNEZ", "phones": [phone[0]]})
    replicated = await identity.client.post("/v1/accounts", headers=identity.agent, json={
        "kind": "person", "name": "elodie fontaine", "phones": [family["phone"][1]]})
    for duplicate, existing in ((same_email, account_id), (same_phone_and_name, account_id),
                                (replicated, family["acc"])):
        assert duplicate.status_code == 409, duplicate.text
        assert duplicate.json()["account_id"] == existing
    other_name = await identity.client.post("/v1/accounts", headers=identity.agent, json={
        "kind": "person", "name": "Pablo Núñez", "phones": [phone[0]]})
    assert other_name.status_code == 201


async def test_search_ranks_exact_identifiers_first_and_pages(identity, family):
    params = {"account_id": family["other_acc"], "phone": family["phone"][1], "email": f"{family['acc']}@EXAMPLE.org",
              "limit": 1}
    first = await identity.client.get("/v1/accounts/search", params=params, headers=identity.agent)
    assert first.status_code == 200
    page = first.json()
    assert [i["account_id"] for i in page["items"]] == [family["other_acc"]]
    second = await identity.client.get("/v1/accounts/search", params={**params, "cursor": page["next_cursor"]},
                                       headers=identity.agent)
    assert [(i["account_id"], i["matched_by"]) for i in second.json()["items"]] == [
        (family["acc"], ["phone", "email"])]
    assert second.json()["next_cursor"] is None
    cursor = page["next_cursor"]
    position, _, signature = cursor.partition(".")
    for refused in ("%%%", position, f"{position}.{signature[::-1]}", f"e30.{signature}"):  # changed or unsigned
        answer = await identity.client.get("/v1/accounts/search", params={**params, "cursor": refused},
                                           headers=identity.agent)
        assert answer.status_code == 400 and answer.json()["type"].endswith("/invalid-cursor"), answer.text
    foreign = await identity.client.get("/v1/premises/search", params={"postcode": "10115", "street": "Altweg",
                                                                       "cursor": cursor}, headers=identity.agent)
    assert foreign.status_code == 400, foreign.text  # a cursor of another list
    unencoded_plus = await identity.client.get(f"/v1/accounts/search?phone={family['phone'][0]}",
                                               headers=identity.agent)  # "+" arrives as a space
    assert [i["account_id"] for i in unencoded_plus.json()["items"]] == [family["acc"]]
    by_agreement = await identity.client.get("/v1/accounts/search", headers=identity.agent,
                                             params={"business_agreement_id": family["ba"]})
    assert [i["account_id"] for i in by_agreement.json()["items"]] == [family["acc"]]


INJECTION = {"$ne": None}


@pytest.mark.parametrize("method, path, body", [
    ("post", "/v1/accounts", {"kind": INJECTION, "name": "X"}),
    ("post", "/v1/accounts", {"kind": "person", "name": INJECTION}),
    ("post", "/v1/accounts", {"kind": "person", "name": "X", "phones": [INJECTION]}),
    ("post", "/v1/accounts", {"kind": "person", "name": "X", "phones": INJECTION}),
    ("post", "/v1/accounts", {"kind": "person", "name": "X", "emails": [INJECTION]}),
    ("post", "/v1/accounts", {"kind": "person", "name": "X", "address": INJECTION}),
    ("post", "/v1/accounts", {"kind": "person", "name": "X", "address": {"street": INJECTION, "postcode": "1",
                                                                         "city": "B", "country": "DE"}}),
    ("post", "/v1/accounts", {"kind": "person", "name": "X", "phones": ["12"]}),
    ("post", "/v1/accounts", {"kind": "person", "name": "X", "phones": ["not a number"]}),
    ("post", "/v1/accounts", {"kind": "person", "name": "X", "emails": ["nope"]}),
    ("post", "/v1/accounts", {"kind": "person", "name": 5}),
    ("post", "/v1/accounts", []),
    ("put", "/v1/contacts/ct-x/context", {"account_id": INJECTION}),
    ("put", "/v1/contacts/ct-x/context", {"account_id": "acc-x", "business_agreement_id": INJECTION}),
    ("put", "/v1/contacts/ct-x/context", {"account_id": "acc-x", "premise_id": INJECTION}),
    ("put", "/v1/contacts/ct-x/context", {"account_id": ["acc-x"]}),
    ("put", "/v1/contacts/ct-x/context", {"account_id": "x" * 129}),
    ("put", "/v1/contacts/ct-x/context", {}),
])
async def test_bad_bodies_answer_422_problems(identity, method, path, body):
    response = await getattr(identity.client, method)(path, headers=identity.agent, json=body)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize("params, field", [
    ({}, "criteria"), ({"postcode": "10115"}, "criteria"), ({"name": "Erika"}, "criteria"),
    ({"phone": "12"}, "phone"), ({"phone": "call me maybe"}, "phone"),
    ({"email": "nope"}, "email"), ({"phone[$ne]": "x"}, "criteria"),
    ({"phone": "+4930123456", "limit": 0}, None),
    ({"name": "---", "postcode": "10115"}, "name"),
])
async def test_bad_searches_answer_422_problems(identity, params, field):
    response = await identity.client.get("/v1/accounts/search", params=params, headers=identity.agent)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    if field == "criteria":
        assert "phone" in body["criteria"] and "name+postcode" in body["detail"]
    elif field:
        assert body["field"] == field


async def test_unknown_ids_oversized_bodies_and_roles(identity):
    assert (await identity.client.get(f"/v1/accounts/{unique('nobody')}", headers=identity.agent)).status_code == 404
    big = {"kind": "person", "name": "X", "emails": ["a" * 2_000_000]}
    assert (await identity.client.post("/v1/accounts", headers=identity.agent, json=big)).status_code == 413
    assert (await identity.client.get("/v1/accounts/search", params={"phone": "+4930123456"})).status_code == 401
    channel = bearer("ivr-1", "channel")
    for call in (identity.client.get("/v1/accounts/search", params={"phone": "+4930123456"}, headers=channel),
                 identity.client.get("/v1/accounts/acc-1", headers=channel),
                 identity.client.get("/v1/contacts/ct-1/context", headers=channel),
                 identity.client.put("/v1/contacts/ct-1/context", headers=channel, json={"account_id": "a"}),
                 identity.client.post("/v1/accounts", headers=channel, json={"kind": "person", "name": "X"})):
        response = await call
        assert response.status_code == 403 and response.headers["content-type"].startswith("application/problem")
    for role in ("supervisor", "admin"):
        response = await identity.client.get(f"/v1/accounts/{unique('nobody')}", headers=bearer("s-1", role))
        assert response.status_code == 404


async def test_simultaneous_creations_of_one_customer_create_one_account(identity):
    email = f"{unique('twin')}@example.org"
    body = {"kind": "person", "name": "Zoë Twin", "phones": [identity.random_phone()[1]], "emails": [email]}
    answers = await asyncio.gather(*(identity.client.post("/v1/accounts", headers=identity.agent, json=body)
                                     for _ in range(8)))
    created = [a for a in answers if a.status_code == 201]
    refused = [a for a in answers if a.status_code == 409]
    assert len(created) == 1 and len(refused) == 7, [a.status_code for a in answers]
    assert {a.json()["account_id"] for a in refused} == {created[0].json()["account_id"]}


async def test_premises_and_business_agreements_are_found_and_confirmed_on_their_own(identity, family):
    shared, postcode = unique("pr"), unique("pc")[-8:]
    await identity.publish(identity.premise_snapshot(shared, 1, account_ids=[family["acc"], family["other_acc"]],
                                                     street="Lindenstraße 12", postcode=postcode))

    async def searched() -> Any:  # the lookup documents follow the premise's own write
        answer = await identity.client.get("/v1/premises/search", headers=identity.agent,
                                           params={"street": "lindenstr. 12", "postcode": postcode, "city": "BERLIN"})
        return answer if answer.json()["items"] else None
    found = await eventually(searched)
    assert [p["premise_id"] for p in found.json()["items"]] == [shared] and found.json()["next_cursor"] is None
    elsewhere = await identity.client.get("/v1/premises/search", headers=identity.agent,
                                          params={"street": "Altweg", "postcode": postcode})
    assert elsewhere.json()["items"] == []
    assert (await identity.client.get("/v1/premises/search", headers=identity.agent)).status_code == 422
    detail = (await identity.client.get(f"/v1/premises/{family['pr']}", headers=identity.agent)).json()
    assert [a["account_id"] for a in detail["accounts"]] == [family["acc"]]
    assert [b["business_agreement_id"] for b in detail["business_agreements"]] == [family["ba"]]
    agreement = (await identity.client.get(f"/v1/business-agreements/{family['ba']}", headers=identity.agent)).json()
    assert (agreement["account_id"], agreement["balance"], [p["premise_id"] for p in agreement["premises"]]) == (
        family["acc"], -12.5, [family["pr"]])
    for path in (f"/v1/premises/{unique('pr')}", f"/v1/business-agreements/{unique('ba')}"):
        assert (await identity.client.get(path, headers=identity.agent)).status_code == 404

    contact_id = unique("ct")
    url = f"/v1/contacts/{contact_id}/context"
    await identity.report_contact(contact_id)
    by_agreement = await identity.client.put(url, headers=identity.agent, json={"business_agreement_id": family["ba"]})
    by_premise = await identity.client.put(url, headers=identity.agent, json={"premise_id": family["pr"]})
    assert [(r.status_code, r.json()["account_id"]) for r in (by_agreement, by_premise)] == [(200, family["acc"])] * 2
    ambiguous = await identity.client.put(url, headers=identity.agent, json={"premise_id": shared})
    assert ambiguous.status_code == 409
    assert ambiguous.json()["candidates"] == sorted([family["acc"], family["other_acc"]])
    assert (await identity.client.put(url, headers=identity.agent, json={"method": "agent_search"})).status_code == 422


async def test_a_duplicate_is_named_created_when_allowed_and_linked_to_the_contact(identity, family):
    contact_id = unique("ct")
    await identity.report_contact(contact_id)
    body = {"kind": "person", "name": "elodie fontaine", "phones": [family["phone"][1]]}
    refused = await identity.client.post("/v1/accounts", headers=identity.agent, json=body)
    assert refused.status_code == 409 and refused.json()["duplicates"] == [family["acc"]]
    created = await identity.client.post("/v1/accounts", headers=identity.agent,
                                         json={**body, "allow_duplicate": True, "contact_id": contact_id})
    assert created.status_code == 201, created.text
    account_id = created.json()["account_id"]
    context = (await identity.client.get(f"/v1/contacts/{contact_id}/context", headers=identity.agent)).json()
    assert (context["account_id"], context["confirmed"], context["confirmation"]["agent_id"]) == (
        account_id, True, "a-17")
    records = await read_topic(identity.bootstrap, "ic.identity.v1", lambda r: r.key == contact_id.encode(),
                               expect=1)
    assert [(json.loads(r.value)["account_id"], json.loads(r.value)["confirmed"]) for r in records] == [
        (account_id, True)]
    stranger = await identity.client.post("/v1/accounts", headers=bearer("a-99", "agent"), json={
        "kind": "person", "name": "Nobody Here", "contact_id": contact_id})
    phantom = await identity.client.post("/v1/accounts", headers=identity.agent, json={
        "kind": "person", "name": "Nobody Here", "contact_id": unique("ct")})
    assert (stranger.status_code, phantom.status_code) == (403, 404)
