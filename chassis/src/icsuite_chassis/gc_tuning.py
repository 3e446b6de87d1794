"""Garbage-collector settings for a long-running service process.

A service imports FastAPI, FastStream, Pydantic's compiled schemas and the contracts: hundreds of
thousands of long-lived objects that every full collection walks again. With CPython's default
thresholds (700, 10, 10) an event-processing loop, which allocates many short-lived objects per event,
triggers collections all the time. :func:`tune_gc` moves everything alive after start-up into the
permanent generation (``gc.freeze``) and raises the thresholds, so collections are rarer and walk only
what was allocated since. Objects freed by reference counting (nearly all of them) are freed at once as
before; only cyclic garbage waits longer. Measured in the ingest benchmark: the interactions service's
CPU per event 0.10-0.11 ms before, 0.08 ms after (bench/results/2026-11-25-ingest-versioned.md).
"""

from __future__ import annotations

import gc

DEFAULT_THRESHOLDS = (20_000, 20, 50)


def tune_gc(thresholds: tuple[int, int, int] = DEFAULT_THRESHOLDS) -> None:
    gc.collect()
    gc.freeze()
    gc.set_threshold(*thresholds)
