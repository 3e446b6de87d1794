"""The MongoDB-wire server's heap for a run, sized from the measured memory per account, and whether the
machine has it.

The server keeps everything in its JVM heap. The identification section's accounts dominate it:
:data:`BYTES_PER_ACCOUNT` was measured with ``python -m bench.identity_memory`` (the account, its lookup
documents and the store's indexes, after a full GC). A heap that the live data fills to more than about
three quarters makes G1 collect again and again (the 1M run with 6g did that: RSS 6.7 GB, no progress), so
the heap is the live data / :data:`LIVE_SHARE` plus what the other sections need.
"""

from __future__ import annotations

import math
from pathlib import Path

BYTES_PER_ACCOUNT = 9_200
"""The server's heap per loaded account (see ``bench/README.md``, "Memory per account")."""
LIVE_SHARE = 0.75
"""At most this share of the heap is live data."""
OTHER_SECTIONS_GB = 3
"""The default heap before any account is loaded: ingest, claims, alerts and scaling fit in it."""
LOADER_BYTES_PER_ACCOUNT = 1_600
"""The bench process holds every lookup entry until it writes the lookup documents."""
OUTSIDE_HEAP_GB = 2.0
"""The JVM outside its heap, Kafka (512 MB heap), the service processes and the bench's own."""

GB = 1024**3


def mongo_heap_gb(accounts: list[int]) -> int:
    """Whole gigabytes of heap for a run whose largest identification size is ``max(accounts)``."""
    largest = max(accounts, default=0)
    needed = largest * BYTES_PER_ACCOUNT / LIVE_SHARE / GB
    return max(OTHER_SECTIONS_GB, math.ceil(needed + 0.5))


def needed_gb(heap_gb: float, accounts: list[int]) -> float:
    """Memory the run takes at its largest: the heap, the bench's loader and everything outside the heap."""
    return heap_gb + max(accounts, default=0) * LOADER_BYTES_PER_ACCOUNT / GB + OUTSIDE_HEAP_GB


def available_gb(meminfo: Path = Path("/proc/meminfo")) -> float | None:
    """MemAvailable, or None where there is no /proc/meminfo."""
    try:
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024 / GB
    except OSError:
        return None
    return None


def shortfall(heap_gb: float, accounts: list[int], available: float | None) -> str | None:
    """Why the machine cannot run this now (a sentence for the user), or None when it can."""
    need = needed_gb(heap_gb, accounts)
    if available is None or available >= need:
        return None
    return (f"the identification section at {max(accounts):,} accounts needs about {need:.1f} GB "
            f"(the MongoDB-wire server's heap {heap_gb:g} GB at {BYTES_PER_ACCOUNT:,} bytes per account, "
            f"the loader and the other processes), and this machine has {available:.1f} GB available. "
            "Free memory (other stacks) and run again, or run a smaller size (--accounts 100000); "
            "IC_BENCH_MONGO_HEAP sets the heap by hand.")
