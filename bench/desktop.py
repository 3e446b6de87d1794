"""Desktop: a contact event published on ``ic.contacts.v1`` -> the caller shown on the agent's page in Chromium.

Runs identity, interactions and the desktop as separate processes, signs an agent in to the desktop in
Debian's Chromium (Playwright from PyPI, ``IC_CHROMIUM`` or ``chromium`` on the PATH, never a downloaded
browser) and keeps the contact page of 5 agents open at 1366x768. Contacts arrive at a fixed rate (10 a
second), to the agents in turn (each page gets a new caller every half second): for each, ``contact.started`` and the agent's ``contact.segment`` (kind agent, still running) are published
back to back with a producer that is already connected; the time runs from just before the first send to
the moment the page shows that contact (a MutationObserver in the page takes the time when the current
contact's ``data-contact-id`` changes to it; page and bench read the same system clock). Beside it, in the
same run, the bare baseline: the same segment event reaching a plain aiokafka consumer (no group, from the
end) in the bench process. The first contacts are warm-up and left out; a contact never shown is counted.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer
from icsuite_contracts.cloudevents import from_kafka, new_envelope
from icsuite_contracts.contacts_v1 import TOPIC, ContactSegmentRecorded, ContactStarted

from .common import log, running_service, summary_ms, unique
from .ingest import Producer

WARMUP = 5
AGENTS = 5
SECRET = "bench-desktop-secret-" + "x" * 32
OBSERVER = """() => {
  window.__shown = {};
  const slot = document.getElementById("current-contact-slot");
  new MutationObserver(() => {
    const current = document.getElementById("current-contact");
    const id = current && current.getAttribute("data-contact-id");
    if (id && !(id in window.__shown)) { window.__shown[id] = performance.timeOrigin + performance.now(); }
  }).observe(slot, {childList: true, subtree: true});
}"""


def chromium() -> str:
    path = os.environ.get("IC_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        raise RuntimeError("Debian's chromium is not installed (apt-get install chromium)")
    return path


async def bare_consumer(bootstrap: str, agent: str, arrived: dict[str, float], ready: asyncio.Event) -> None:
    """The baseline: the bench agents' segments (ids starting with ``agent``) as a plain consumer sees them
    (wall-clock ms)."""
    consumer = AIOKafkaConsumer(TOPIC, bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                                auto_offset_reset="latest", fetch_max_wait_ms=50)
    await consumer.start()
    try:
        while not consumer.assignment():
            await consumer.getmany(timeout_ms=100)
        for partition in consumer.assignment():
            await consumer.position(partition)
        ready.set()
        while True:
            for records in (await consumer.getmany(timeout_ms=200)).values():
                for record in records:
                    event = from_kafka(record.headers or [], record.value or b"").data
                    if isinstance(event, ContactSegmentRecorded) and (event.agent_id or "").startswith(agent):
                        arrived.setdefault(event.contact_id, time.time() * 1000)
    finally:
        await consumer.stop()


def contact_events(agent: str, contact: str, phone: str) -> list[Any]:
    now = datetime.now(UTC)
    return [new_envelope(e, source="/bench", correlation_id=contact) for e in (
        ContactStarted(contact_id=contact, channel="phone", direction="inbound", from_address=phone,
                       queue="billing", started_at=now),
        ContactSegmentRecorded(contact_id=contact, segment_id=f"{contact}-a", kind="agent", agent_id=agent,
                               started_at=now))]


async def _open_page(browser: Any, desktop: str, agent: str) -> Any:
    context = await browser.new_context(viewport={"width": 1366, "height": 768}, base_url=desktop)
    page = await context.new_page()
    await page.goto("/signin")
    await page.get_by_label("Agent id").fill(agent)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url(lambda url: "/signin" not in url)
    await page.get_by_test_id("no-contact").wait_for(timeout=30_000)
    await page.evaluate(OBSERVER)
    return page


async def _shown(pages: list[Any]) -> dict[str, float]:
    shown: dict[str, float] = {}
    for page in pages:
        shown.update(await page.evaluate("window.__shown"))
    return shown


async def measure(bootstrap: str, desktop: str, contacts: int, rate: float) -> dict[str, Any]:
    """Contacts at ``rate`` over AGENTS agents in turn (each agent's page gets a new caller every
    AGENTS / rate seconds, as agents do in a contact center; one agent's page shows its newest caller only)."""
    from playwright.async_api import async_playwright

    prefix, sent, arrived, ready = unique("bench-agent-"), {}, {}, asyncio.Event()
    agents = [f"{prefix}-{n}" for n in range(AGENTS)]
    baseline = asyncio.create_task(bare_consumer(bootstrap, prefix, arrived, ready))
    async with async_playwright() as playwright, Producer(bootstrap) as producer:
        browser = await playwright.chromium.launch(executable_path=chromium(), headless=True,
                                                   args=["--no-sandbox", "--disable-dev-shm-usage"])
        try:
            pages = [await _open_page(browser, desktop, agent) for agent in agents]
            await asyncio.wait_for(ready.wait(), 30)
            await asyncio.sleep(2)  # the desktop's feed has joined the topics' end as well
            started = time.perf_counter()
            for i in range(contacts + WARMUP):
                await asyncio.sleep(max(0.0, started + i / rate - time.perf_counter()))
                agent = agents[i % AGENTS]
                contact = f"{agent}-ct-{i}"
                envelopes = contact_events(agent, contact, f"+4930{7000000 + i}")
                sent[contact] = time.time() * 1000
                for envelope in envelopes:
                    await producer.send(envelope, envelope.topic)
            deadline = time.perf_counter() + 15
            while time.perf_counter() < deadline and len(await _shown(pages)) < len(sent):
                await asyncio.sleep(0.5)
            shown = await _shown(pages)
        finally:
            await browser.close()
            baseline.cancel()
    measured = [c for i, c in enumerate(sent) if i >= WARMUP]
    page_s = [(shown[c] - sent[c]) / 1000 for c in measured if c in shown]
    bare_s = [(arrived[c] - sent[c]) / 1000 for c in measured if c in arrived]
    return {"contacts": len(measured), "rate_per_s": rate, "agents": AGENTS, "not_shown": len(measured) - len(page_s),
            "caller_shown": summary_ms(page_s), "bare_consumer": summary_ms(bare_s)}


async def run_desktop(stack_env: dict[str, str], logs: Path, *, contacts: int, rate: float = 10.0) -> dict[str, Any]:
    jwt = {"IC_JWT_SECRET": SECRET}
    with running_service("identity", stack_env, logs, extra=jwt) as identity, \
            running_service("interactions", stack_env, logs, extra=jwt) as interactions:
        urls = {"IC_DESKTOP_IDENTITY_URL": identity.url, "IC_DESKTOP_INTERACTIONS_URL": interactions.url}
        with running_service("desktop", stack_env, logs, extra={**jwt, **urls}) as desktop:
            log(f"desktop: {contacts} contacts at {rate:g}/s -> caller shown in Chromium, beside a bare consumer")
            result = await measure(stack_env["KAFKA_BOOTSTRAP_SERVERS"], desktop.url, contacts, rate)
    log(f"desktop: {result}")
    return {"contact_to_page": result}


def markdown_lines(section: dict[str, Any]) -> list[str]:
    """The section's detail for ``bench/results/<run>.md``: each run's p50 and p99, page and bare consumer."""
    def f(value: Any) -> str:
        return "–" if value is None else f"{value:,.1f}"

    rows = ["| run | contacts | not shown | caller shown p50 / p99 ms | bare consumer p50 / p99 ms |",
            "| --- | --- | --- | --- | --- |"]
    for n, run in enumerate(section["runs"], 1):
        page, bare = run["caller_shown"], run["bare_consumer"]
        rows.append(f"| {n} | {run['contacts']} at {run['rate_per_s']:g}/s to {run.get('agents', 1)} agents | {run['not_shown']} | "
                    f"{f(page['p50_ms'])} / {f(page['p99_ms'])} | {f(bare['p50_ms'])} / {f(bare['p99_ms'])} |")
    return ["### Desktop: contact event -> caller shown in Chromium", "",
            f"After {WARMUP} warm-up contacts per run; the bare consumer reads the same events in the same run.", "",
            *rows, ""]
