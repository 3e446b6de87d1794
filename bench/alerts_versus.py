"""The alerts stream of two commits, measured by ONE harness: this one, against each commit's alerts service.

``python -m bench.compare`` runs each commit's own ``python -m bench``, and the two harnesses do not measure the
alerts stream the same way (the harness of November sent one event at a time and waited for its alert; this
one publishes at a fixed rate). To compare the services and not the harnesses, the compare also runs this
module against both checkouts: the same rules, events, rate and clock, only the service process differs
(``start_service(tree=...)``: the checkout's own interpreter and code).

The rules are the bench's 1,000 (``alerts_eval.bench_rules``), stored before the service starts by each
checkout's own ``bench.alerts.store_rules`` (the format of its own store); everything else goes through the
public contract: ``contact-identified`` events on ``ic.identity.v1``, the alerts read from
``GET /v1/agents/{agent}/alerts/stream``. The service's consumer
group starts at the end of its topics (``bench.offsets``), so events earlier sections left are not replayed.

Two figures per service:

- **one at a time**: publish an event, wait for its alert on the stream, then the next (the November method);
- **at a rate**: ``rate`` events/s (the method of ``bench.alerts``); an event whose alert did not arrive within
  the timeout counts as the timeout, so a service that drops events cannot look fast.

Each event raises as many alerts as rules match it (15 with the bench's 1,000 rules, ``bench/README.md``); the
figures also report how many alerts per event each service streamed, so a difference there shows.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
from icsuite_alerts.consumers import CONSUMER
from icsuite_alerts.domain.rules import CONSUMED_TOPICS
from icsuite_chassis.testing import bearer
from icsuite_contracts.cloudevents import new_envelope
from icsuite_contracts.identity_v1 import ContactIdentified

from .common import pct, running_service, unique
from .ingest_parts import Producer
from .offsets import start_groups_at_the_end

TIMEOUT_S = 15.0
WARMUP = 10


# Each commit stores the bench's rules the way its own harness does (``bench.alerts.store_rules``, in the format
# of its own store) before its service starts, as both harnesses do. Creating 1,000 rules over HTTP is no
# option for the November service: each create re-read every rule (600 creates took 179 s).
STORE_RULES = """
import asyncio, inspect, sys
from bench.alerts import store_rules
uri, database, count, agent = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
accepts = inspect.signature(store_rules).parameters
extra = {"absent_agent": agent + "-absent", "within_s": 2} if "absent_agent" in accepts else {}
asyncio.run(store_rules(uri, database, count, agent, **extra))
"""


def store_rules(tree: Path, mongodb_uri: str, database: str, count: int, agent: str) -> None:
    """``count`` bench rules (``alerts_eval.bench_rules``, the first one matching every event of ``agent``) in
    ``database``, stored by the checkout at ``tree`` through its own code."""
    subprocess.run([str(tree / ".venv" / "bin" / "python"), "-c", STORE_RULES, mongodb_uri, database, str(count),
                    agent], cwd=tree, check=True, env={**os.environ, "PYTHONPATH": str(tree)})


def _event(agent: str, contact: str) -> Any:
    return new_envelope(ContactIdentified(contact_id=contact, account_id=f"acc-{contact}", method="auto_number",
                                          confirmed=False, agent_id=agent), source="/bench")


class StreamReader:
    """Holds an agent's alert stream open and notes when each contact's first alert arrived, and how many."""

    def __init__(self, url: str, agent: str) -> None:
        self.url, self.agent = url, agent
        self.first: dict[str, float] = {}
        self.alerts: Counter[str] = Counter()

    async def __aenter__(self) -> StreamReader:
        self._client = httpx.AsyncClient(timeout=httpx.Timeout(10, read=None))
        self._response = await self._client.send(
            self._client.build_request("GET", self.url, headers=bearer(self.agent, "agent")), stream=True)
        self._task = asyncio.create_task(self._read())
        return self

    async def _read(self) -> None:
        async for line in self._response.aiter_lines():
            if line.startswith("data: "):
                contact = json.loads(line[6:]).get("contact_id")
                if contact is not None:
                    self.first.setdefault(contact, time.perf_counter())
                    self.alerts[contact] += 1

    async def wait_for(self, contacts: list[str], timeout_s: float) -> None:
        deadline = time.perf_counter() + timeout_s
        while any(c not in self.first for c in contacts) and time.perf_counter() < deadline:
            await asyncio.sleep(0.002)

    async def __aexit__(self, *exc: object) -> None:
        self._task.cancel()
        await self._response.aclose()
        await self._client.aclose()


def figures(reader: StreamReader, sent: dict[str, float]) -> dict[str, Any]:
    """Per event: first alert's arrival - send, in ms; a missing alert counts as the timeout."""
    late = [((reader.first[c] - t) if c in reader.first else TIMEOUT_S) * 1000 for c, t in sent.items()]
    return {"events": len(sent), "missing": sum(1 for c in sent if c not in reader.first),
            "p50_ms": round(pct(late, 50) or 0, 1), "p99_ms": round(pct(late, 99) or 0, 1),
            "max_ms": round(max(late), 1), "alerts_per_event": round(
                sum(reader.alerts[c] for c in sent) / max(1, len(sent)), 2)}


async def one_at_a_time(reader: StreamReader, producer: Producer, tag: str, events: int) -> dict[str, Any]:
    sent: dict[str, float] = {}
    for i in range(events):
        contact = f"{tag}-s{i}"
        sent[contact] = time.perf_counter()
        await (await producer.send(_event(reader.agent, contact), "ic.identity.v1"))
        await reader.wait_for([contact], TIMEOUT_S)
    await asyncio.sleep(0.5)  # the alerts of the last event after its first
    return figures(reader, sent)


async def at_a_rate(reader: StreamReader, producer: Producer, tag: str, events: int, rate: float) -> dict[str, Any]:
    sent: dict[str, float] = {}
    started = time.perf_counter()
    for i in range(events):
        await asyncio.sleep(max(0.0, started + i / rate - time.perf_counter()))
        contact = f"{tag}-r{i}"
        sent[contact] = time.perf_counter()
        await producer.send(_event(reader.agent, contact), "ic.identity.v1")
    await reader.wait_for(list(sent), TIMEOUT_S)
    await asyncio.sleep(0.5)
    return {"rate": rate, **figures(reader, sent)}


async def measure(tree: Path, stack_env: dict[str, str], logs: Path, *, rules: int = 1000,
                  sequential: int = 200, events: int = 500, rate: float = 100.0) -> dict[str, Any]:
    """Both figures for the alerts service of the checkout at ``tree``, on the stack of ``stack_env``."""
    agent = unique("bench-agent-")
    bootstrap = stack_env["KAFKA_BOOTSTRAP_SERVERS"]
    prefix = unique("bench-") + "."
    skipped = await start_groups_at_the_end(bootstrap, {f"{prefix}alerts.{CONSUMER}": CONSUMED_TOPICS})
    logs.mkdir(parents=True, exist_ok=True)
    database = unique("bench_alerts_")
    created = time.perf_counter()
    await asyncio.to_thread(store_rules, tree, stack_env["MONGODB_URI"], database, rules, agent)
    created_s = time.perf_counter() - created
    with running_service("alerts", stack_env, logs, tree=tree, database=database,
                         extra={"IC_ALERTS_SEED_STANDARD_RULES": "false",
                                "IC_ALERTS_CONSUMER_GROUP_PREFIX": prefix}) as service:
        async with Producer(bootstrap) as producer, \
                StreamReader(f"{service.url}/v1/agents/{agent}/alerts/stream", agent) as reader:
            tag = unique("v")
            warm = [f"{tag}-w{i}" for i in range(WARMUP)]
            for contact in warm:  # one at a time until the rules are loaded and the path is warm
                await (await producer.send(_event(agent, contact), "ic.identity.v1"))
                await reader.wait_for([contact], 30)
            single = await one_at_a_time(reader, producer, tag, sequential)
            loaded = await at_a_rate(reader, producer, tag, events, rate)
    return {"rules": rules, "rules_created_s": round(created_s, 1), "backlog_skipped": skipped,
            "warmed": sum(1 for c in warm if c in reader.first), "one_at_a_time": single, "at_rate": loaded}


def main() -> None:
    """``python -m bench.alerts_versus TREE [TREE ...]``: each checkout's alerts service on one stack of its own."""
    import argparse
    import tempfile

    from icsuite_devstack.stack import start_stack

    parser = argparse.ArgumentParser(prog="python -m bench.alerts_versus", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("trees", type=Path, nargs="+", help="checkouts with their .venv (scripts/uv.sh sync)")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--events", type=int, default=500)
    parser.add_argument("--sequential", type=int, default=200)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="icsuite-versus-"))
    stack = start_stack(work / "stack", mongo_memory=True)
    try:
        stack.create_topics()
        for round_no in range(args.rounds):
            for tree in args.trees if round_no % 2 == 0 else list(reversed(args.trees)):
                measured = asyncio.run(measure(tree.resolve(), stack.env(), work / "logs", sequential=args.sequential,
                                               events=args.events))
                print(json.dumps({"tree": str(tree), "round": round_no + 1, **measured}), flush=True)
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
