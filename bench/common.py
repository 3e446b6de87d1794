"""What every benchmark shares: percentiles, the stack, service processes, tokens."""

from __future__ import annotations

import math
import os
import statistics
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from icsuite_devstack.processes import ServiceProcess, free_port

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"


def pct(samples: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile (nearest rank) of ``samples``; None without samples."""
    if not samples:
        return None
    ordered = sorted(samples)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def summary_ms(samples_s: Sequence[float]) -> dict[str, Any]:
    """p50, p99, max and count of durations given in seconds, as milliseconds."""
    ms = [s * 1000 for s in samples_s]
    return {"n": len(ms), "p50_ms": _r(pct(ms, 50)), "p99_ms": _r(pct(ms, 99)), "max_ms": _r(max(ms) if ms else None),
            "mean_ms": _r(statistics.fmean(ms) if ms else None)}


def _r(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}"


@dataclass
class Service:
    """A service of the suite run as a separate process for a benchmark."""

    name: str
    process: ServiceProcess
    port: int
    database: str

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.process.terminate(timeout=20)


def start_service(name: str, stack_env: Mapping[str, str], logs: Path, *, database: str | None = None,
                  extra: Mapping[str, str] | None = None, ready_timeout: float = 90.0,
                  profile: Path | None = None, tree: Path | None = None) -> Service:
    """``python -m icsuite_<name>.main`` on a free port with its own database and consumer groups.

    With ``profile``, the process runs under pyinstrument (``uv run --with pyinstrument python -m bench``),
    which writes its text report there when the process stops. With ``tree``, the service of another checkout
    runs (its ``.venv``'s interpreter, in that directory): one harness measuring two commits' services.
    """
    prefix = f"IC_{name.upper()}_"
    port = free_port()
    database = database or unique(f"bench_{name}_")
    env = {**stack_env, f"{prefix}PORT": str(port), f"{prefix}MONGODB_DATABASE": database,
           f"{prefix}CONSUMER_GROUP_PREFIX": unique("bench-") + ".", f"{prefix}LOG_LEVEL": "WARNING",
           f"{prefix}LOG_JSON": "true", "IC_ENV": "development",
           "IC_CRYPTO_SHREDDING": "true",  # as users run the suite: personal event fields sealed (the default)
           **(extra or {})}
    module, args = f"icsuite_{name}.main", ()
    if profile is not None:
        module, args = "pyinstrument", ("-r", "text", "-o", str(profile), "-m", module)
    if tree is None:
        process = ServiceProcess.python_module(name, module, *args, log_path=logs / f"{name}.log", env=env, cwd=ROOT)
    else:
        process = ServiceProcess(name, [str(tree / ".venv" / "bin" / "python"), "-m", module, *args],
                                 log_path=logs / f"{name}.log", env=env, cwd=tree)
    process.start()
    service = Service(name, process, port, database)
    try:
        process.wait_ready(f"{service.url}/readyz", timeout=ready_timeout)
    except BaseException:
        process.terminate(timeout=10)
        raise
    return service


@contextmanager
def running_service(name: str, stack_env: Mapping[str, str], logs: Path, **kwargs: Any) -> Iterator[Service]:
    service = start_service(name, stack_env, logs, **kwargs)
    try:
        yield service
    finally:
        service.stop()


def cpu_seconds(pid: int | None) -> float | None:
    """User plus system CPU time of a process (Linux), to say how busy a service was."""
    if pid is None:
        return None
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def load_average() -> float:
    return round(os.getloadavg()[0], 2)
