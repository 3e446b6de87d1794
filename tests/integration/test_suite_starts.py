"""The five services start as separate processes and each is ready, documented and guarded."""

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

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


@pytest.mark.parametrize("service", ["identity", "interactions", "callbacks", "followups", "alerts"])
def test_each_services_metrics_read_with_the_prometheus_parser(suite, service: str) -> None:
    """What a Prometheus server scrapes: the text exposition format, read by the Prometheus client's own parser
    (it raises on a malformed line), with two families the monitoring rules in deploy/ query (the others carry
    labels and appear with their first sample)."""
    response = httpx.get(suite.url(service, "/metrics"), timeout=5)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    families = {family.name.removesuffix("_total"): family for family in text_string_to_metric_families(response.text)}
    assert {"ic_http_requests", "ic_outbox_parked_entries"} <= set(families), sorted(families)
    assert all(sample.value >= 0 for family in families.values() for sample in family.samples
               if family.type == "counter")
