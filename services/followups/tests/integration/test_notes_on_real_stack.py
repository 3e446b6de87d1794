"""The notes history: append-only, filterable by type, author and language, each note an event."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
import pytest_asyncio
from icsuite_chassis.testing import bearer, running_app, unique

from icsuite_followups.bootstrap import build_app

pytestmark = [pytest.mark.integration]
AGENT = bearer("a-17", "agent")
OTHER = bearer("a-18", "supervisor")


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def client(followups_settings):
    async with running_app(build_app(followups_settings())) as http:
        yield http


async def _followup(client) -> str:
    answer = await client.post("/v1/followups", headers=AGENT, json={
        "source": {"type": "case", "id": unique("case")}, "type": "task", "channel": "email",
        "notes": [{"type": "preparation", "language": "en", "text": "read the case first"}],
        "scratch_pad": {"text": "from the scratch pad", "note_type": "internal"}})
    assert answer.status_code == 201, answer.text
    return answer.json()["followup_id"]


async def test_notes_are_appended_and_filtered(client, followup_events) -> None:
    fid = await _followup(client)
    for headers, note in ((AGENT, {"type": "report", "language": "de-at", "text": "Bericht"}),
                          (OTHER, {"type": "report", "language": "en-GB", "text": "report"}),
                          (OTHER, {"type": "correspondence", "language": "de", "text": "Brief"})):
        added = await client.post(f"/v1/followups/{fid}/notes", json=note, headers=headers)
        assert added.status_code == 201, added.text
        assert added.headers["location"] == f"/v1/followups/{fid}/notes/{added.json()['note_id']}"
    assert (await client.get(added.headers["location"], headers=AGENT)).json()["text"] == "Brief"

    async def texts(query: str) -> list[str]:
        answer = await client.get(f"/v1/followups/{fid}/notes{query}", headers=AGENT)
        assert answer.status_code == 200, answer.text
        return [n["text"] for n in answer.json()["items"]]

    assert await texts("") == ["read the case first", "from the scratch pad", "Bericht", "report", "Brief"]
    assert await texts("?type=report") == ["Bericht", "report"]
    assert await texts("?author=a-18") == ["report", "Brief"]
    assert await texts("?language=de") == ["Bericht", "Brief"]
    assert await texts("?language=de-AT") == ["Bericht"]
    assert await texts("?type=report&author=a-17&language=de") == ["Bericht"]
    first = (await client.get(f"/v1/followups/{fid}/notes?limit=2", headers=AGENT)).json()
    rest = (await client.get(f"/v1/followups/{fid}/notes?limit=5&cursor={first['next_cursor']}", headers=AGENT)).json()
    assert [n["text"] for n in first["items"] + rest["items"]] == await texts("") and rest["next_cursor"] is None
    records = await followup_events(fid, "ic.followup.note-added.v1", expect=5)
    assert [json.loads(r.value)["text"] for r in records] == await texts("")  # once each, in order
    assert json.loads(records[2].value)["language"] == "de-AT"


async def test_the_history_cannot_be_rewritten(client) -> None:
    fid = await _followup(client)
    notes = (await client.get(f"/v1/followups/{fid}/notes", headers=AGENT)).json()["items"]
    note_url = f"/v1/followups/{fid}/notes/{notes[0]['note_id']}"
    assert (await client.put(note_url, json={"text": "changed"}, headers=AGENT)).status_code == 405
    assert (await client.delete(note_url, headers=AGENT)).status_code == 405
    assert (await client.patch(f"/v1/followups/{fid}", json={"notes": []}, headers=AGENT)).status_code == 422
    await client.patch(f"/v1/followups/{fid}", json={"status": "completed"}, headers=AGENT)
    late = await client.post(f"/v1/followups/{fid}/notes", headers=AGENT,
                             json={"type": "report", "language": "en", "text": "done"})
    assert late.status_code == 201  # a finished follow-up still takes notes
    after = (await client.get(f"/v1/followups/{fid}/notes", headers=AGENT)).json()["items"]
    assert after[:2] == notes and after[2]["text"] == "done"


@pytest.mark.parametrize(("note", "status"), [
    ({"type": "report", "language": "klingonish", "text": "x"}, 422),
    ({"type": "report", "language": "xx", "text": "x"}, 422),
    ({"type": "report", "language": "en_US", "text": "x"}, 422),
    ({"type": "memo", "language": "en", "text": "x"}, 422),
    ({"type": "report", "language": "en", "text": ""}, 422),
    ({"type": "report", "language": "en", "text": "x" * 32_769}, 422),
    ({"type": "report", "language": "en", "text": "x" * 1_100_000}, 413),
    ({"type": "report", "language": 7, "text": "x"}, 422),
    ({"type": "report", "language": "en", "text": ["x"]}, 422),
])
async def test_bad_notes_answer_problems(client, note, status) -> None:
    fid = await _followup(client)
    answer = await client.post(f"/v1/followups/{fid}/notes", json=note, headers=AGENT)
    assert answer.status_code == status and answer.headers["content-type"] == "application/problem+json"


async def test_notes_of_an_unknown_follow_up_answer_404(client) -> None:
    note = {"type": "report", "language": "en", "text": "x"}
    assert (await client.post("/v1/followups/fu-nope/notes", json=note, headers=AGENT)).status_code == 404
    assert (await client.get("/v1/followups/fu-nope/notes", headers=AGENT)).status_code == 404
    assert (await client.get("/v1/followups/fu-nope/notes?language=zz-ZZ", headers=AGENT)).status_code == 422


async def test_a_request_cannot_choose_a_notes_author_or_time(client, followup_events) -> None:
    forged = {"author": "ceo", "created_at": "2001-01-01T00:00:00Z", "note_id": "n-mine"}
    created = await client.post("/v1/followups", headers=AGENT, json={
        "source": {"type": "case", "id": unique("case")}, "type": "task", "channel": "email",
        "notes": [{"type": "note", "language": "en", "text": "first", **forged}],
        "scratch_pad": {"text": "pad", **forged}})
    assert created.status_code == 201, created.text
    fid = created.json()["followup_id"]
    added = await client.post(f"/v1/followups/{fid}/notes", headers=OTHER,
                              json={"type": "note", "language": "en", "text": "later", **forged})
    assert added.status_code == 201
    notes = (await client.get(f"/v1/followups/{fid}/notes", headers=AGENT)).json()["items"]
    assert [(n["author"], n["note_id"] != "n-mine") for n in notes] == [("a-17", True), ("a-17", True), ("a-18", True)]
    at = datetime.fromisoformat(created.json()["created_at"])
    assert all(datetime.fromisoformat(n["created_at"]) >= at for n in notes)
    records = await followup_events(fid, "ic.followup.note-added.v1", expect=3)
    assert [json.loads(r.value)["author"] for r in records] == ["a-17", "a-17", "a-18"]
