"""Smoke test of the claims benchmark at its largest level: 200 agents on one shared httpx pool in one client
process, for a tiny time, against the callbacks service as a process. It asserts that the level completes (no
client process died, no exception, exactly-once kept, no connection reset by the gateway), never a speed;
`make bench` measures (bench/README.md)."""

from __future__ import annotations

import sys
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the bench package lives at the repository root
from bench.claims import level, seed  # noqa: E402
from bench.claims_clients import BASELINE_PATH  # noqa: E402
from bench.common import running_service  # noqa: E402
from bench.targets import RESETS  # noqa: E402

pytestmark = [pytest.mark.slow, pytest.mark.integration, pytest.mark.timeout(420)]


async def test_the_200_agent_level_on_a_shared_pool_completes(stack, mongo_client, tmp_path: Path) -> None:
    extra = {"IC_CALLBACKS_BENCH_CLAIM_BASELINE": "true"}
    with running_service("callbacks", stack.env(), tmp_path, extra=extra) as service:
        db = mongo_client[service.database]
        async with httpx.AsyncClient(base_url=service.url, timeout=60) as client:
            await seed(client, db, 300)
        # a generous grace: on a busy machine 200 agents' last requests take long; here only completion counts
        shared = await level(service.url, db, 200, 1.0, 1, {"service": service.process.pid}, shared_pool=True,
                             grace_s=120)
        assert shared["client_failures"] == [], shared["client_failures"]
        assert shared["claims"] > 0 and shared["double_assignments"] == 0 and shared["owner_mismatch"] == 0, shared
        assert not set(shared["errors"]) & RESETS, shared["errors"]  # the gateway resets no keep-alive connection
        baseline = await level(service.url, db, 200, 1.0, 2, {}, path=BASELINE_PATH, grace_s=120)
        assert baseline["client_failures"] == [] and baseline["claims"] > 0, baseline
        assert baseline["double_assignments"] == 0 and baseline["owner_mismatch"] == 0, baseline
