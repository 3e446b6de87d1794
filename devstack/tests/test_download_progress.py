"""The download progress of a first resolution: bar rendering, bytes measured from the Maven repository
and the staging folder, and _resolve driving it (with a stand-in `mvn`, no network)."""

from __future__ import annotations

import io
import os
import stat
from pathlib import Path

import pytest
from icsuite_devstack import config, progress, provision
from icsuite_devstack.progress import DownloadProgress, ExpectedJar, arrived_bytes, render_bar, render_plain

pytestmark = pytest.mark.unit

JARS = (ExpectedJar("org/example/a/1.0", "a-1.0.jar", 40_000_000),
        ExpectedJar("org/example/b/2.0", "b-2.0.jar", 78_000_000))


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def write(path: Path, size: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\0" * size)


@pytest.mark.parametrize(("done", "total", "line"), [
    (0, 118_000_000, "[..........] 0% 0/118 MB"),
    (61_000_000, 118_000_000, "[#####.....] 51% 61/118 MB"),
    (118_000_000, 118_000_000, "[##########] 100% 118/118 MB"),
    (130_000_000, 118_000_000, "[##########] 100% 130/118 MB"),
])
def test_the_bar_shows_the_share_and_the_sizes(done: int, total: int, line: str) -> None:
    assert render_bar(done, total) == line


def test_a_plain_line_has_the_percentage_or_only_the_time_without_a_total() -> None:
    assert render_plain(30_000_000, 120_000_000, 20.4) == "  ... downloaded 25% 30/120 MB after 20 s"
    assert render_plain(0, 0, 30.0) == "  ... still downloading (30 s)"


def test_arrived_bytes_count_partial_downloads_finished_jars_and_staged_copies(tmp_path: Path) -> None:
    repository, staging = tmp_path / "repo", tmp_path / "staging"
    assert arrived_bytes(JARS, repository, staging) == 0
    write(repository / "org/example/a/1.0" / "a-1.0.jar.3141.tmp", 10_000_000)  # Maven's download under way
    write(repository / "org/example/a/1.0" / "a-1.0.jar.sha1", 40)  # checksums are not the jar
    write(repository / "org/example/b/2.0" / "b-2.0.pom", 5_000)  # nor is the POM
    assert arrived_bytes(JARS, repository, staging) == 10_000_000
    write(repository / "org/example/a/1.0" / "a-1.0.jar", 40_000_000)
    write(staging / "b-2.0.jar", 78_000_001)  # never more than expected for a jar
    assert arrived_bytes(JARS, repository, staging) == 118_000_000


def test_the_local_repository_follows_the_maven_settings(tmp_path: Path) -> None:
    assert progress.maven_repository(tmp_path) == tmp_path / ".m2" / "repository"
    (tmp_path / ".m2").mkdir()
    (tmp_path / ".m2" / "settings.xml").write_text(
        "<settings><localRepository> ${user.home}/maven-cache </localRepository></settings>")
    assert progress.maven_repository(tmp_path) == tmp_path / "maven-cache"


def test_a_terminal_gets_one_line_redrawn_and_ended() -> None:
    arrived = iter([30_000_000, 118_000_000, 118_000_000])
    terminal, lines = Terminal(), []
    display = DownloadProgress(118_000_000, lambda: next(arrived), lines.append, terminal)
    display.tick(0.5)
    display.tick(1.0)
    display.finish()
    assert terminal.getvalue() == ("\r  [##........] 25% 30/118 MB\r  [##########] 100% 118/118 MB"
                                   "\r  [##########] 100% 118/118 MB\n")
    assert lines == []


def test_a_log_gets_a_plain_line_every_ten_seconds() -> None:
    lines: list[str] = []
    display = DownloadProgress(100_000_000, lambda: 50_000_000, lines.append, io.StringIO())
    for half_seconds in range(1, 42):
        display.tick(half_seconds / 2)
    display.finish()
    assert lines == [f"  ... downloaded 50% 50/100 MB after {s} s" for s in (10, 20)]


@pytest.mark.parametrize("distribution", [provision.kafka_distribution(config.KAFKA_VERSION),
                                          provision.mongo_distribution(config.MONGO_JAVA_SERVER_VERSION)])
def test_the_default_versions_have_their_jars_pinned(distribution: provision.Distribution) -> None:
    jars = progress.expected_jars(distribution.name, distribution.version)
    names = {jar.name for jar in jars}
    for group, artifact, version in distribution.coordinates:
        assert f"{artifact}-{version}.jar" in names
        assert any(jar.folder == f"{group.replace('.', '/')}/{artifact}/{version}" for jar in jars)
    assert all(jar.size > 0 for jar in jars)
    if distribution.is_installed():  # a machine that resolved it: the pins are what Maven delivered
        installed = {p.name: p.stat().st_size for p in distribution.libs.glob("*.jar")}
        assert installed == {jar.name: jar.size for jar in jars}


def test_an_unpinned_version_has_no_expected_jars() -> None:
    assert progress.expected_jars("kafka", "0.0.1") == ()


FAKE_MVN = """#!/bin/sh
# stands in for Maven: "downloads" the one pinned jar into the local repository, then copies it
for arg in "$@"; do case "$arg" in -DoutputDirectory=*) out="${arg#-DoutputDirectory=}";; esac; done
folder="$HOME/.m2/repository/org/example/a/1.0"
mkdir -p "$folder" "$out"
head -c 3000000 /dev/zero > "$folder/a-1.0.jar.part"
sleep 1.2
mv "$folder/a-1.0.jar.part" "$folder/a-1.0.jar"
cp "$folder/a-1.0.jar" "$out/"
"""


def test_resolve_reports_the_progress_of_the_download(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "mvn").write_text(FAKE_MVN)
    (bin_dir / "mvn").chmod(stat.S_IRWXU)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("IC_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(progress, "EXPECTED_JARS", {("demo", "1.0"): (("org/example/a/1.0", "a-1.0.jar", 3_000_000),)})
    monkeypatch.setattr(progress, "PLAIN_EVERY_S", 0.5)
    lines: list[str] = []
    distribution = provision.Distribution("demo", "1.0", (("org.example", "a", "1.0"),))
    provision._resolve(distribution, lines.append)
    assert distribution.is_installed()
    assert lines[1] == "  1 jars, 3 MB expected"
    progress_lines = [line for line in lines if line.startswith("  ... downloaded ")]
    assert progress_lines and all(line.split("% ")[1].startswith(("0/3 MB", "3/3 MB")) for line in progress_lines)
    assert lines[-1].startswith("  1 jars, 3 MB, in ")
