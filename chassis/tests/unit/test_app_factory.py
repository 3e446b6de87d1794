import httpx
import pytest
from fastapi import APIRouter
from pydantic import BaseModel

from icsuite_chassis.app import create_app
from icsuite_chassis.auth import Admin, AnyStaff, mint_token
from icsuite_chassis.problems import Conflict
from icsuite_chassis.runtime import ServiceRuntime
from icsuite_chassis.settings import ServiceSettings

pytestmark = pytest.mark.unit
SECRET = "k" * 40


class Body(BaseModel):
    name: str


def _app():
    router = APIRouter(prefix="/v1")

    @router.post("/things")
    async def create(body: Body, who: AnyStaff) -> dict[str, str]:
        if body.name == "taken":
            raise Conflict("a thing with that name exists", existing_id="t-1")
        return {"name": body.name, "by": who.sub}

    @router.get("/admin-only")
    async def admin_only(who: Admin) -> dict[str, str]:
        return {"ok": who.sub}

    @router.get("/boom")
    async def boom(who: AnyStaff) -> None:
        raise RuntimeError("bug")

    settings = ServiceSettings(service_name="demo", jwt_secret=SECRET, max_request_bytes=2048)
    return create_app(ServiceRuntime(settings), title="demo", description="d", routers=[router])


@pytest.fixture
async def client():
    transport = httpx.ASGITransport(app=_app(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        yield c


def _auth(*roles: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_token(SECRET, 'a-1', list(roles))}"}


async def test_problem_details_for_each_kind_of_error(client: httpx.AsyncClient) -> None:
    r = await client.post("/v1/things", json={"name": "x"})
    assert r.status_code == 401 and r.headers["content-type"] == "application/problem+json"
    assert r.headers["www-authenticate"].startswith("Bearer")
    r = await client.get("/v1/admin-only", headers=_auth("agent"))
    assert r.status_code == 403 and r.json()["status"] == 403
    r = await client.post("/v1/things", json={"nome": "x"}, headers=_auth("agent"))
    assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["body", "name"]
    r = await client.post("/v1/things", json={"name": "taken"}, headers=_auth("agent"))
    assert r.status_code == 409 and r.json()["existing_id"] == "t-1"
    r = await client.get("/v1/nowhere", headers=_auth("agent"))
    assert r.status_code == 404 and r.json()["type"].endswith("not-found")
    r = await client.get("/v1/boom", headers=_auth("agent"))
    assert r.status_code == 500 and "bug" not in r.text


async def test_body_over_the_limit_answers_413(client: httpx.AsyncClient) -> None:
    r = await client.post("/v1/things", content=b'{"name": "' + b"x" * 5000 + b'"}', headers=_auth("agent"))
    assert r.status_code == 413 and r.json()["title"] == "Payload too large"


async def test_probes_and_documents(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    await client.post("/v1/things", json={"name": "y"}, headers=_auth("agent"))
    metrics = (await client.get("/metrics")).text
    assert 'ic_http_requests_total{method="POST",route="/v1/things",status="200"}' in metrics
    assert (await client.get("/asyncapi.json")).json()["asyncapi"].startswith("3.")
    assert "/v1/things" in (await client.get("/openapi.json")).json()["paths"]
