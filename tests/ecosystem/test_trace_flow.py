"""One trace from the CTI event through identity and interactions to the alert.

Identity, interactions and alerts run in this process against the real Kafka and MongoDB; spans are
captured in memory. Each consumer group starts at the current end of its topics, so the services read
only what this test publishes, not the backlog that earlier tests of the session left on the broker (on
a loaded machine, working through that backlog took longer than the test's wait). A CTI channel starts
a trace and writes ``ic.contact.started.v1`` with its ``traceparent``; identity identifies the caller by
number, interactions opens the record, an alert rule on the identification raises an alert. Every event
of the chain belongs to the channel's trace, and each service handled its step in a span of that trace
(or in a batch span linked to it).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from datetime import UTC, datetime
from typing import Any

import pytest
import pytest_asyncio
from icsuite_chassis.testing import (
    bearer,
    commit_group_at_end,
    eventually,
    header,
    publish_envelopes,
    read_topic,
    running_app,
    unique,
)
from icsuite_chassis.trace_capture import capture_spans
from icsuite_contracts.cloudevents import new_envelope
from icsuite_contracts.contacts_v1 import ContactStarted

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(900)]
STEP_S = 120

TRACE_ID = "5ce0e9a56015fec5aadfa328ae398115"
CHANNEL_SPAN = "ab42124a3c573678"
ADMIN = bearer("admin-1", "admin")
AGENT = bearer("a-1", "agent")


def _settings(service: str, stack: Any, name: str) -> Any:
    import importlib

    module = importlib.import_module(f"icsuite_{service}.settings")
    cls = next(v for k, v in vars(module).items() if k.endswith("Settings") and v.__module__ == module.__name__)
    extra = {"rules_refresh_interval_s": 0.2} if service == "alerts" else {}
    return cls(kafka_bootstrap_servers=stack.kafka_bootstrap, mongodb_uri=stack.mongodb_uri,
               mongodb_database=f"{name}_{service}", consumer_group_prefix=f"{name}.",
               consumer_retry_backoff_s=0.01, outbox_sweep_interval_s=1.0, environment="test", **extra)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def clients(stack) -> AsyncIterator[dict[str, Any]]:
    name = unique("trace").replace("-", "_")
    async with AsyncExitStack() as running:
        clients = {}
        for service in ("identity", "interactions", "alerts"):
            module = __import__(f"icsuite_{service}.bootstrap", fromlist=["build_app"])
            app = module.build_app(_settings(service, stack, name))
            for consumer in app.state.runtime.consumers:
                await commit_group_at_end(stack.kafka_bootstrap, consumer.spec.name, list(consumer.spec.topics))
            clients[service] = await running.enter_async_context(running_app(app))
        yield clients


def _trace_of(record: Any) -> str | None:
    traceparent = header(record, "ce_traceparent")
    return traceparent.split("-")[1] if traceparent else None


async def test_a_contacts_trace_reaches_the_alert(stack, clients) -> None:
    contact, phone = unique("ct"), "+4930" + str(int(unique("n")[2:], 16))[:8]
    created = await clients["identity"].post("/v1/accounts", headers=AGENT, json={
        "kind": "person", "name": f"Trace {contact}", "phones": [phone], "allow_duplicate": True})
    assert created.status_code == 201, created.text
    account = created.json()["account_id"]
    rule = {"name": "trace", "triggers": ["ic.identity.contact-identified.v1"],
            "condition": f'event.account_id == "{account}"', "severity": "info",
            "message": "Contact {event.contact_id} identified", "target": "supervisors",
            "dedupe_window_s": 60, "enabled": True}
    assert (await clients["alerts"].post("/v1/rules", json=rule, headers=ADMIN)).status_code == 201

    started = ContactStarted(contact_id=contact, channel="phone", direction="inbound", from_address=phone,
                             started_at=datetime.now(UTC), account_hint=account)
    with capture_spans() as spans:
        await publish_envelopes(stack.kafka_bootstrap, new_envelope(
            started, source="/test/cti", traceparent=f"00-{TRACE_ID}-{CHANNEL_SPAN}-01"))
        identified = await read_topic(stack.kafka_bootstrap, "ic.identity.v1", lambda r: r.key == contact.encode(),
                                      expect=1, timeout=STEP_S)
        assert identified, "identity emitted nothing for the contact"
        opened = await read_topic(stack.kafka_bootstrap, "ic.interactions.v1",
                                  lambda r: header(r, "ce_type") == "ic.interaction.opened.v1"
                                  and contact.encode() in (r.value or b""), expect=1, timeout=STEP_S)
        assert opened, "interactions opened no record for the contact"
        alerts = await eventually(lambda: _alerts(clients["alerts"], contact), timeout=STEP_S)

    [alert] = await read_topic(stack.kafka_bootstrap, "ic.alerts.v1",
                               lambda r: alerts[0]["alert_id"].encode() in (r.value or b""), expect=1)
    assert {_trace_of(r) for r in [*identified, *opened, alert]} == {TRACE_ID}
    assert header(alert, "ce_correlationid") == header(opened[0], "ce_correlationid") == contact
    # each service handled its step in a span of the trace, or, taking events batch-wise, in a batch span
    # linked to it
    handled = {_service_of(s) for s in spans if _in_or_linked_to(s, TRACE_ID)}
    assert {"identity", "interactions", "alerts"} <= handled, [
        (s.name, f"{s.context.trace_id:032x}", [f"{link.context.trace_id:032x}" for link in s.links]) for s in spans]


def _in_or_linked_to(span: Any, trace_id: str) -> bool:
    return f"{span.context.trace_id:032x}" == trace_id or any(
        f"{link.context.trace_id:032x}" == trace_id for link in span.links)


def _service_of(span: Any) -> str | None:
    group = (span.attributes or {}).get("messaging.consumer.group.name") or ""
    parts = group.split(".")
    return parts[1] if len(parts) > 2 else None  # "<prefix>.<service>.<consumer>"


async def _alerts(client: Any, contact: str) -> list[dict[str, Any]]:
    response = await client.get("/v1/alerts", params={"contact_id": contact}, headers=ADMIN)
    return response.json()["items"] if response.status_code == 200 else []
