"""A value a request model lets through but an event contract refuses answers 422 naming the field."""

from datetime import datetime

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import AwareDatetime, BaseModel

from icsuite_chassis.problems import install_problem_handlers
from icsuite_contracts.contacts_v1 import ContactStarted

pytestmark = pytest.mark.unit


class _Body(BaseModel):
    started_at: AwareDatetime  # a service model without the contracts' year bounds


def _app() -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)

    @app.post("/contacts")
    async def start(body: _Body) -> dict:
        event = ContactStarted(contact_id="c-1", channel="phone", direction="inbound", from_address="+4930123456",
                               started_at=body.started_at)
        return {"at": event.started_at.isoformat()}

    return app


def test_a_year_the_contracts_refuse_answers_422_not_500() -> None:
    client = TestClient(_app(), raise_server_exceptions=False)
    answer = client.post("/contacts", json={"started_at": "8905-12-30T12:38:43Z"})
    assert answer.status_code == 422, answer.text
    body = answer.json()
    assert body["type"].endswith("/contract-violation") and body["errors"][0]["loc"] == ["started_at"]
    assert "8905" not in answer.text  # the problem names the field, not the value
    assert client.post("/contacts", json={"started_at": datetime(2025, 3, 1).isoformat() + "Z"}).status_code == 200
