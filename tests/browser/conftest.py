"""Browser tests: the five services and the desktop as separate processes on the session's stack, driven by
Playwright (PyPI) in Debian's Chromium.

Playwright never downloads a browser here: it is handed the executable of Debian's ``chromium`` package
(``IC_CHROMIUM``, else ``chromium`` on the PATH); ``make test`` installs the package when it is missing.
The services start like tests/integration starts them (one process each, their own databases and
consumer groups), and stop when the last browser test has run.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio

from icsuite_devstack.processes import ServiceProcess, free_port

sys.path.insert(0, str(Path(__file__).resolve().parent))  # browser_steps, as tests/deploy does

from backlog import consumer_groups, start_at_the_end  # noqa: E402

SERVICES = ("identity", "interactions", "callbacks", "followups", "alerts")
JWT_SECRET = "browser-secret-" + "x" * 32


@dataclass
class BrowserSuite:
    """The running services and desktop; ``url`` as tests/integration's suite offers it."""

    ports: dict[str, int]
    kafka_bootstrap: str
    jwt_secret: str = JWT_SECRET

    def url(self, service: str, path: str = "") -> str:
        return f"http://127.0.0.1:{self.ports[service]}{path}"

    @property
    def desktop(self) -> str:
        return self.url("desktop")


def chromium_path() -> str:
    configured = os.environ.get("IC_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not configured or not Path(configured).exists():
        message = "Debian's chromium is not installed (make test installs it with apt-get)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return configured


def _service_env(stack, service: str, port: int, prefix: str) -> dict[str, str]:
    upper = service.upper()
    return {
        "KAFKA_BOOTSTRAP_SERVERS": stack.kafka_bootstrap, "MONGODB_URI": stack.mongodb_uri,
        "IC_JWT_SECRET": JWT_SECRET, "IC_ENV": "test", f"IC_{upper}_PORT": str(port),
        f"IC_{upper}_MONGODB_DATABASE": f"{prefix}_{service}",
        f"IC_{upper}_CONSUMER_GROUP_PREFIX": f"{prefix}.", f"IC_{upper}_OUTBOX_SWEEP_INTERVAL_S": "2",
        f"IC_{upper}_LOG_JSON": "true",
    }


def _desktop_env(ports: dict[str, int], kafka_bootstrap: str) -> dict[str, str]:
    env = {"IC_JWT_SECRET": JWT_SECRET, "IC_ENV": "test", "IC_DESKTOP_PORT": str(ports["desktop"]),
           "IC_DESKTOP_LOG_JSON": "true", "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
           "IC_DESKTOP_LIVE_CONTACTS": "true"}  # whatever the session's environment says: these tests need it
    env.update({f"IC_DESKTOP_{s.upper()}_URL": f"http://127.0.0.1:{ports[s]}" for s in SERVICES})
    return env


_BROWSER_TESTS = Path(__file__).resolve().parent
_RUNNING: list[ServiceProcess] = []
"""The browser suite's processes while they run (stopped when the session leaves this directory)."""


def _stop(processes: list[ServiceProcess]) -> None:
    for process in processes:
        if process.is_running:
            process.terminate()


def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    """Stop the browser suite after the last browser test. ``tests/browser`` is no package, so pytest keeps a
    package-scoped fixture until the end of the session: the second deployment then ran through every later
    test on the same Kafka, consumed their events and answered them (an erasure request was confirmed by
    its services, which held nothing, before the e2e suite's own services confirmed it)."""
    if nextitem is None or _BROWSER_TESTS not in Path(nextitem.path).resolve().parents:
        _stop(_RUNNING)


@pytest.fixture(scope="package")
def browser_suite(stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrowserSuite]:
    logs = Path(tmp_path_factory.mktemp("browser-logs"))
    prefix = "br" + uuid.uuid4().hex[:8]
    ports: dict[str, int] = {}
    for name in (*SERVICES, "desktop"):
        ports[name] = free_port(avoid=ports.values())
    processes = {s: ServiceProcess.python_module(s, f"icsuite_{s}.main", env=_service_env(stack, s, ports[s], prefix),
                                                 log_path=logs / f"{s}.log") for s in SERVICES}
    processes["desktop"] = ServiceProcess.python_module("desktop", "icsuite_desktop.main", env=_desktop_env(ports, stack.kafka_bootstrap),
                                                        log_path=logs / "desktop.log")
    running = BrowserSuite(ports, stack.kafka_bootstrap)
    groups = {g: t for s in SERVICES for g, t in consumer_groups(s, f"{prefix}.").items()}
    with ThreadPoolExecutor(1) as pool:  # its own event loop, away from the session's
        assert pool.submit(asyncio.run, start_at_the_end(stack.kafka_bootstrap, groups)).result() > 0
    _RUNNING[:] = processes.values()
    try:
        for process in processes.values():
            process.start()
        with ThreadPoolExecutor(len(processes)) as pool:
            list(pool.map(lambda s: processes[s].wait_ready(running.url(s, "/readyz"), 90), processes))
        yield running
    finally:
        _stop(list(processes.values()))


@pytest_asyncio.fixture(scope="package", loop_scope="session")
async def chromium(browser_suite: BrowserSuite) -> AsyncIterator[object]:
    from playwright.async_api import async_playwright

    executable = chromium_path()
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=executable, headless=True,
                                                   args=["--no-sandbox", "--disable-dev-shm-usage"])
        try:
            yield browser
        finally:
            await browser.close()


@pytest_asyncio.fixture(loop_scope="session")
async def new_page(chromium, browser_suite: BrowserSuite, tmp_path: Path):
    """A factory of pages, each in its own browser context (its own cookies), at 1366x768."""
    contexts, traffic = [], []

    async def make():
        context = await chromium.new_context(viewport={"width": 1366, "height": 768},
                                             base_url=browser_suite.desktop)
        context.set_default_timeout(20_000)
        contexts.append(context)
        page = await context.new_page()
        page.on("response", lambda r: traffic.append(f"{r.status} {r.request.method} {r.url}"))
        page.on("console", lambda m: traffic.append(f"console {m.type}: {m.text}"))
        return page

    yield make
    (tmp_path / "traffic.txt").write_text("\n".join(traffic), encoding="utf-8")
    for n, context in enumerate(contexts):
        for m, page in enumerate(context.pages):  # what the page showed last, for a failure's diagnosis
            await page.screenshot(path=str(tmp_path / f"page-{n}-{m}.png"), full_page=True)
            (tmp_path / f"page-{n}-{m}.html").write_text(await page.content(), encoding="utf-8")
        await context.close()
