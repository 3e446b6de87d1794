"""Figures over repeated runs: the median with its spread, and targets as ratios to a baseline of the same run."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import Any


def spread(values: Sequence[float | None], digits: int = 3) -> dict[str, Any]:
    """Median, min, max and the values themselves (runs without a figure left out)."""
    kept = [v for v in values if v is not None]
    if not kept:
        return {"median": None, "min": None, "max": None, "n": 0, "values": []}
    return {"median": round(statistics.median(kept), digits), "min": round(min(kept), digits),
            "max": round(max(kept), digits), "n": len(kept), "values": [round(v, digits) for v in kept]}


def ratios(numerators: Sequence[float | None], denominators: Sequence[float | None]) -> list[float | None]:
    """Pairwise ratios (a pair with a missing or zero figure gives None)."""
    return [n / d if n is not None and d else None for n, d in zip(numerators, denominators, strict=True)]


def fmt_spread(s: dict[str, Any] | None, digits: int = 2, unit: str = "") -> str:
    """``0.91 (0.88–0.94, n=5)``, or "–" without figures."""
    if not s or s.get("median") is None:
        return "–"

    def f(v: float) -> str:
        return f"{v:,.{digits}f}{unit}"

    if s["n"] == 1:
        return f"{f(s['median'])} (n=1)"
    return f"{f(s['median'])} ({f(s['min'])}–{f(s['max'])}, n={s['n']})"


def verdict(value: float | None, *, at_least: float | None = None, at_most: float | None = None,
            below: float | None = None) -> str:
    """PASS or MISS of a median against its target; n/a without a figure."""
    if value is None:
        return "n/a"
    ok = ((at_least is None or value >= at_least) and (at_most is None or value <= at_most)
          and (below is None or value < below))
    return "PASS" if ok else "MISS"
