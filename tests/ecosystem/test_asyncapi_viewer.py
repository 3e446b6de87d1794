"""Each gateway's AsyncAPI viewer (``/asyncapi``): every topic and message of its document, readable in a
browser, with nothing loaded from another host."""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest
from fastapi import FastAPI

pytestmark = pytest.mark.unit
SERVICES = ("identity", "interactions", "callbacks", "followups", "alerts")


def _page(app: FastAPI) -> httpx.Response:
    async def fetch() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)  # no lifespan: nothing connects
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            return await client.get("/asyncapi")

    return asyncio.run(fetch())


@pytest.mark.parametrize("service", SERVICES)
def test_the_viewer_shows_every_topic_message_and_field_without_a_cdn(service, service_apps, documents) -> None:
    response = _page(service_apps[service])
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    page = response.text
    document = documents[service]["asyncapi"]
    for channel in document["channels"].values():
        assert f"<code>{channel['address']}</code>" in page
    for message_id, message in document["components"]["messages"].items():
        assert f'id="message-{message_id}"' in page and message["name"] in page
        for field in message["payload"].get("properties", {}):
            assert f"<code>{field}</code>" in page
    for name in document["components"]["schemas"]:
        assert f'id="schema-{name}"' in page
    for anchor in re.findall(r'href="#([^"]+)"', page):
        assert f'id="{anchor}"' in page, anchor  # every link inside the page leads somewhere
    assert "<script" not in page and not re.search(r'(src|href)="(https?:)?//', page)
