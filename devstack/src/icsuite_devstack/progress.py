"""Download progress of a first resolution: how many of the expected bytes have arrived.

Maven downloads each jar into the local Maven repository (``<folder>/<jar>``, first under a temporary
name in the same folder), then ``copy-dependencies`` copies it to the staging folder. The expected jars
and their sizes are pinned per version in :mod:`.jar_sizes`; the bytes that arrived are, per jar, the
largest file in its repository folder or in the staging folder whose name contains the jar's name (a
partial download counts with the bytes it has), capped at the expected size. Jars already in the local
repository from an earlier build count as arrived: they need no download.

On a terminal one line is redrawn in place, ``[#####.....] 52% 23/45 MB``; otherwise (a log, CI) a plain
line every 10 s.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from .jar_sizes import EXPECTED_JARS

BAR_WIDTH = 10
PLAIN_EVERY_S = 10.0
MB = 1e6


@dataclass(frozen=True)
class ExpectedJar:
    folder: str
    name: str
    size: int


def expected_jars(name: str, version: str) -> tuple[ExpectedJar, ...]:
    """The pinned jars of a distribution; empty for a version without an entry."""
    return tuple(ExpectedJar(*entry) for entry in EXPECTED_JARS.get((name, version), ()))


def maven_repository(home: Path | None = None) -> Path:
    """Maven's local repository: ``<localRepository>`` of ``~/.m2/settings.xml``, else ``~/.m2/repository``."""
    home = home or Path.home()
    settings = home / ".m2" / "settings.xml"
    if settings.is_file():
        match = re.search(r"<localRepository>\s*([^<]+?)\s*</localRepository>",
                          settings.read_text(encoding="utf-8", errors="replace"))
        if match:
            return Path(match.group(1).replace("${user.home}", str(home))).expanduser()
    return home / ".m2" / "repository"


def _largest(folder: Path, jar: str) -> int:
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return 0
    sizes = [0]
    for entry in entries:
        if jar in entry.name and not entry.name.endswith((".sha1", ".md5", ".lastUpdated")):
            try:
                sizes.append(entry.stat().st_size)
            except OSError:  # renamed from its temporary name while we looked
                continue
    return max(sizes)


def arrived_bytes(jars: Iterable[ExpectedJar], repository: Path, staging: Path) -> int:
    """The expected bytes present now, per jar in its repository folder or in the staging folder."""
    total = 0
    for jar in jars:
        found = max(_largest(repository / jar.folder, jar.name), _largest(staging, jar.name))
        total += min(found, jar.size)
    return total


def render_bar(done: int, total: int, width: int = BAR_WIDTH) -> str:
    """``[#####.....] 52% 61/118 MB`` (sizes in megabytes, 10^6 bytes)."""
    fraction = min(max(done / total, 0.0), 1.0) if total > 0 else 0.0
    filled = int(fraction * width)
    return (f"[{'#' * filled}{'.' * (width - filled)}] {int(fraction * 100)}% "
            f"{done / MB:.0f}/{total / MB:.0f} MB")


def render_plain(done: int, total: int, elapsed_s: float) -> str:
    """The line for a log: percentage and sizes when the total is known, else the elapsed time only."""
    if total <= 0:
        return f"  ... still downloading ({elapsed_s:.0f} s)"
    return f"  ... downloaded {render_bar(done, total).split('] ', 1)[1]} after {elapsed_s:.0f} s"


class DownloadProgress:
    """Shows what ``measure()`` reports: a bar redrawn on a terminal, or a plain line every 10 s."""

    def __init__(self, total: int, measure: Callable[[], int], out: Callable[[str], None],
                 stream: TextIO | None = None) -> None:
        self.total = total
        self.measure = measure
        self.out = out
        self.stream = stream if stream is not None and total > 0 and stream.isatty() else None
        self.next_plain = PLAIN_EVERY_S

    def tick(self, elapsed_s: float) -> None:
        if self.stream is not None:
            self.stream.write("\r  " + render_bar(self.measure(), self.total))
            self.stream.flush()
        elif elapsed_s >= self.next_plain:
            self.out(render_plain(self.measure() if self.total > 0 else 0, self.total, elapsed_s))
            self.next_plain += PLAIN_EVERY_S

    def finish(self) -> None:
        """End the redrawn line (full bar when everything arrived) so the next message starts fresh."""
        if self.stream is not None:
            self.stream.write("\r  " + render_bar(self.measure(), self.total) + "\n")
            self.stream.flush()


def terminal_of(out: Callable[[str], None]) -> TextIO | None:
    """stdout when the messages go to ``print`` (``make up``), else none: a caller's printer gets lines."""
    return sys.stdout if out is print else None
