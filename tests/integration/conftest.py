"""The five services as separate processes against the session's stack, for end-to-end tests."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from icsuite_devstack.processes import ServiceProcess, free_port

SERVICES = ("identity", "interactions", "callbacks", "followups", "alerts")
JWT_SECRET = "e2e-secret-" + "x" * 32
KEY_VAULT_DATABASE = "ic_key_vault"
"""One key vault for the whole test session, as a deployment has one: the services' own integration tests
publish sealed events to the same topics, and a rebuild or replay here must be able to open those too."""


@dataclass
class Suite:
    """The running suite: one process per service, each on its own port."""

    ports: dict[str, int]
    processes: dict[str, ServiceProcess]
    kafka_bootstrap: str
    mongodb_uri: str
    prefix: str = ""
    databases: str = ""
    stack: object = None
    jwt_secret: str = JWT_SECRET
    restarts: dict[str, int] = field(default_factory=dict)

    def url(self, service: str, path: str = "") -> str:
        return f"http://127.0.0.1:{self.ports[service]}{path}"

    def kill(self, service: str) -> None:
        self.processes[service].kill()

    def database(self, service: str) -> str:
        return KEY_VAULT_DATABASE if service == "key_vault" else f"{self.databases}_{service}"

    def start(self, service: str, timeout: float = 60.0) -> None:
        process = self.processes[service]
        process.start()
        process.wait_ready(self.url(service, "/readyz"), timeout)
        self.restarts[service] = self.restarts.get(service, 0) + 1


def _env(stack, service: str, port: int, prefix: str) -> dict[str, str]:
    upper = service.upper()
    return {
        "KAFKA_BOOTSTRAP_SERVERS": stack.kafka_bootstrap,
        "MONGODB_URI": stack.mongodb_uri,
        "IC_JWT_SECRET": JWT_SECRET,
        "IC_ENV": "test",
        f"IC_{upper}_PORT": str(port),
        f"IC_{upper}_MONGODB_DATABASE": f"{prefix}_{service}",
        f"IC_{upper}_CONSUMER_GROUP_PREFIX": f"{prefix}.",
        f"IC_{upper}_OUTBOX_SWEEP_INTERVAL_S": "2",
        f"IC_{upper}_LOG_JSON": "true",
        **({"IC_FOLLOWUPS_DUE_CHECK_INTERVAL_S": "2"} if service == "followups" else {}),  # calls come due quickly
        "IC_CRYPTO_SHREDDING": "true",  # the default (issue 21), set so that a developer's shell cannot turn it off here
        "IC_KEY_VAULT_DATABASE": KEY_VAULT_DATABASE,
    }


@pytest.fixture(scope="session")
def suite(stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Suite]:
    logs = tmp_path_factory.mktemp("suite-logs")
    prefix = "e2e" + uuid.uuid4().hex[:8]
    ports: dict[str, int] = {}
    for service in SERVICES:
        ports[service] = free_port(avoid=ports.values())
    processes = {
        service: ServiceProcess.python_module(service, f"icsuite_{service}.main",
                                              env=_env(stack, service, ports[service], prefix),
                                              log_path=Path(logs) / f"{service}.log")
        for service in SERVICES
    }
    running = Suite(ports, processes, stack.kafka_bootstrap, stack.mongodb_uri, prefix=f"{prefix}.", databases=prefix, stack=stack)
    try:
        for process in processes.values():
            process.start()
        with ThreadPoolExecutor(len(SERVICES)) as pool:
            list(pool.map(lambda s: processes[s].wait_ready(running.url(s, "/readyz"), 90), SERVICES))
        yield running
    finally:
        for process in processes.values():
            if process.is_running:
                process.terminate()


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    from e2e_report import REPORT

    if not REPORT:
        return
    write = terminalreporter.write_line
    terminalreporter.section("interaction-center suite: end-to-end summary")
    for key, value in REPORT.items():
        if isinstance(value, dict):
            write(f"{key}:")
            for inner, figure in value.items():
                write(f"    {inner:40} {figure}")
        else:
            write(f"{key:44} {value}")
