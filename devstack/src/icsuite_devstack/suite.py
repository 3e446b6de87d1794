"""The foreground runner behind ``make up``: the stack, the topics, the five services and the desktop.

Ctrl-C or SIGTERM stops the services first, then the stack (if this runner started it).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import FrameType

from . import config
from .processes import ProcessError, ServiceProcess, http_ok
from .stack import Stack, StackError, stack_from_env, start_stack
from .state import read_state

MODULE_TEMPLATE = "icsuite_{service}.main"
READY_TIMEOUT = 60.0
DESKTOP_MODULE = "icsuite_desktop.main"


def acquire_stack(directory: Path) -> tuple[Stack, bool]:
    """The stack to use and whether this runner owns it (and so must stop it).

    The environment wins; then a stack that ``up`` left running; else a new one on the ports of
    CONTRACT.md, with its data in ``directory``.
    """
    from_env = stack_from_env()
    if from_env is not None:
        print(f"Using the stack from the environment: {from_env.kafka_bootstrap}, {from_env.mongodb_uri}")
        return from_env, False
    recorded = read_state(directory)
    if recorded is not None and recorded.is_running():
        print(f"Using the stack started by `up`: {recorded.kafka_bootstrap}, {recorded.mongodb_uri}")
        return recorded.as_stack(), False
    print(f"Starting Kafka and the MongoDB-wire server in {directory} ...")
    stack = start_stack(
        directory, kafka_port=config.CONTRACT_KAFKA_PORT, mongo_port=config.CONTRACT_MONGO_PORT
    )
    return stack, True


def service_env(stack: Stack, service: str, port: int) -> dict[str, str]:
    """A service's environment; its log lines are readable text when ``make up`` runs on a terminal, JSON
    lines otherwise (the service's own stderr is a pipe to this runner, so it cannot tell by itself)."""
    return {
        **stack.env(),
        "IC_JWT_SECRET": os.environ.get("IC_JWT_SECRET", config.DEVELOPMENT_JWT_SECRET),
        "IC_ENV": "development",
        # crypto-shredding of personal event fields (issue 21), as every user runs the suite: the key vault is the
        # database ic_key_vault on this stack's MongoDB, its master the development one unless set
        "IC_CRYPTO_SHREDDING": os.environ.get("IC_CRYPTO_SHREDDING", "true"),
        f"IC_{service.upper()}_PORT": str(port),
        f"IC_{service.upper()}_LOG_JSON": os.environ.get(f"IC_{service.upper()}_LOG_JSON",
                                                          "false" if sys.stdout.isatty() else "true"),
    }


def start_services(
    stack: Stack, services: Mapping[str, int], log_dir: Path, module_template: str
) -> dict[str, ServiceProcess]:
    processes = {}
    for service, port in services.items():
        process = ServiceProcess.python_module(
            service,
            module_template.format(service=service),
            env=service_env(stack, service, port),
            log_path=log_dir / f"{service}.log",
            echo=True,
        )
        processes[service] = process.start()
    return processes


def wait_for_services(
    processes: Mapping[str, ServiceProcess], services: Mapping[str, int], timeout: float
) -> dict[str, str]:
    """Poll every ``/readyz`` until it answers 200; return an error message per service that failed.

    Says "3 of 5 ready" each time one more is. Polling happens in this (the main) thread, so that Ctrl-C
    interrupts the wait at once.
    """
    pending = dict(services)
    failures: dict[str, str] = {}
    deadline = time.monotonic() + timeout
    while pending:
        for service, port in list(pending.items()):
            process = processes[service]
            if http_ok(f"http://127.0.0.1:{port}/readyz"):
                del pending[service]
                ready = len(services) - len(pending) - len(failures)
                print(f"{ready} of {len(services)} ready ({service})", flush=True)
            elif not process.is_running:
                code = process.returncode
                failures[service] = str(process.failure(f"exited with code {code} before it was ready"))
                del pending[service]
        if pending and time.monotonic() > deadline:
            for service in pending:
                what = f"/readyz did not answer 200 within {timeout:.0f} s"
                failures[service] = str(processes[service].failure(what))
            break
        time.sleep(0.2)
    return failures


def desktop_env(services: Mapping[str, int], port: int, kafka_bootstrap: str | None = None) -> dict[str, str]:
    """The desktop calls the five gateways of this suite and reads its Kafka (the live current contact);
    development sign-in on plain http://127.0.0.1."""
    env = {
        "IC_JWT_SECRET": os.environ.get("IC_JWT_SECRET", config.DEVELOPMENT_JWT_SECRET),
        "IC_ENV": "development",
        "IC_DESKTOP_PORT": str(port),
    }
    env.update({f"IC_DESKTOP_{service.upper()}_URL": f"http://127.0.0.1:{p}" for service, p in services.items()})
    if kafka_bootstrap:
        env["KAFKA_BOOTSTRAP_SERVERS"] = kafka_bootstrap
    return env


def start_desktop(processes: dict[str, ServiceProcess], services: Mapping[str, int], log_dir: Path,
                  port: int, kafka_bootstrap: str | None = None) -> None:
    """The agent desktop (``icsuite_desktop``) in front of the running gateways; raises if it cannot start
    (it is in ``processes`` from the start, so that it is stopped with the services)."""
    process = ServiceProcess.python_module("desktop", DESKTOP_MODULE, env=desktop_env(services, port, kafka_bootstrap),
                                           log_path=log_dir / "desktop.log", echo=True)
    processes["desktop"] = process
    process.start()
    process.wait_ready(f"http://127.0.0.1:{port}/readyz", READY_TIMEOUT)


def demo_wanted(module_template: str) -> bool:
    """Demo data is loaded into the real suite unless ``IC_DEMO=0`` (``make up DEMO=0``)."""
    off = os.environ.get("IC_DEMO", "1").strip().lower() in ("0", "false", "no", "off")
    return not off and module_template == MODULE_TEMPLATE


def load_demo(stack: Stack, services: Mapping[str, int]) -> None:
    """``python -m icsuite_tools demo load``: master data to Kafka, missing reason profiles to callbacks.

    A separate process, so the devstack does not import the tools; a failure is reported, not fatal.
    """
    command = [sys.executable, "-m", "icsuite_tools", "demo", "load", "--bootstrap", stack.kafka_bootstrap]
    if "callbacks" in services:
        command += ["--gateway-base", f"http://127.0.0.1:{services['callbacks']}"]
    else:
        command.append("--no-profiles")
    env = {**os.environ, "IC_JWT_SECRET": os.environ.get("IC_JWT_SECRET", config.DEVELOPMENT_JWT_SECRET)}
    print("\nLoading the demo data (IC_DEMO=0 skips it) ...")
    try:
        code = subprocess.run(command, env=env, timeout=120, check=False).returncode
    except (OSError, subprocess.TimeoutExpired) as exc:
        print(f"!! {exc}")
        code = 1
    if code != 0:
        print("!! The demo data was not (fully) loaded; the suite runs on. Retry: uv run icsuite demo load")


def supervise(processes: Mapping[str, ServiceProcess]) -> None:
    """Report any service that exits on its own; return only on Ctrl-C or SIGTERM."""
    reported: set[str] = set()
    while True:
        for name, process in processes.items():
            if name not in reported and not process.is_running:
                print(f"!! {name} exited with code {process.returncode}; see {process.log_path}")
                reported.add(name)
        time.sleep(0.5)


def ready_banner(services: Mapping[str, int], stack: Stack, *, desktop: bool) -> str:
    """What ``make up`` prints once everything is ready: the desktop first, then each gateway's docs."""
    lines = ["", "The suite is up:"]
    if desktop:
        lines.append(f"  desktop       http://127.0.0.1:{config.DESKTOP_PORT}/  (sign in as a-1, agent)")
    for service, port in services.items():
        lines.append(f"  {service:<13} http://127.0.0.1:{port}/docs  (events: /asyncapi, API under /v1)")
    lines += [f"  Kafka         {stack.kafka_bootstrap}", f"  MongoDB       {stack.mongodb_uri}",
              "Press Ctrl-C to stop."]
    return "\n".join(lines)


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def run(
    services: Mapping[str, int] | None = None,
    module_template: str = MODULE_TEMPLATE,
    directory: Path | None = None,
) -> int:
    """Run the suite in the foreground until Ctrl-C or SIGTERM; return the exit code."""
    services = dict(config.SERVICE_PORTS if services is None else services)
    directory = directory or config.stack_dir()
    signal.signal(signal.SIGTERM, _raise_interrupt)
    processes: dict[str, ServiceProcess] = {}
    stack: Stack | None = None
    owned = False
    try:
        stack, owned = acquire_stack(directory)
        created = stack.create_topics()
        print(f"Topics ready ({len(created)} created).")
        processes = start_services(stack, services, directory / "logs", module_template)
        failures = wait_for_services(processes, services, READY_TIMEOUT)
        if failures:
            for service, error in failures.items():
                print(f"\n!! {service} could not start ({module_template.format(service=service)}):")
                print(error)
            print(f"\n{len(failures)} of {len(services)} services could not start; stopping.")
            return 1
        desktop = module_template == MODULE_TEMPLATE
        if desktop:
            start_desktop(processes, services, directory / "logs", config.DESKTOP_PORT, stack.kafka_bootstrap)
        if demo_wanted(module_template):
            load_demo(stack, services)
        print(ready_banner(services, stack, desktop=desktop), flush=True)
        supervise(processes)
    except KeyboardInterrupt:
        print("\nStopping ...")
    except (StackError, ProcessError) as exc:
        print(f"!! {exc}")
        return 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        with ThreadPoolExecutor(max_workers=len(processes) or 1) as pool:
            list(pool.map(lambda p: p.terminate(15), processes.values()))
        if stack is not None and owned:
            stack.stop()
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
    print("Stopped.")
    return 0
