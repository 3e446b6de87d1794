"""The five services start as separate processes and each is ready, documented and guarded."""

import httpx
import pytest

pytestmark = [pytest.mark.integration, pytest.mark.e2e]


@pytest.mark.parametrize("service", ["identity", "interactions", "callbacks", "followups", "alerts"])
def test_each_service_is_ready_and_documented(suite, service: str) -> None:
    ready = httpx.get(suite.url(service, "/readyz"), timeout=10)
    assert ready.status_code == 200 and ready.json()["checks"] == {"mongodb": "ok", "kafka": "ok"}
    assert httpx.get(suite.url(service, "/healthz"), timeout=5).json() == {"status": "ok"}
    assert "ic_http_requests_total" in httpx.get(suite.url(service, "/metrics"), timeout=5).text
    openapi = httpx.get(suite.url(service, "/openapi.json"), timeout=5).json()
    asyncapi = httpx.get(suite.url(service, "/asyncapi.json"), timeout=5).json()
    assert openapi["info"]["title"] == service and asyncapi["asyncapi"].startswith("3.")
