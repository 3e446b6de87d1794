"""Fetches the jars of Kafka and mongo-java-server from Maven Central into the download cache.

Each distribution lands in ``<cache>/<name>-<version>/libs`` and is resolved only once: a
``.complete`` marker written after a successful copy makes the next run skip Maven entirely. A file
lock keeps two processes (two test sessions, ``up`` and a test run) from resolving at the same time.
"""

from __future__ import annotations

import fcntl
import re
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from . import config, progress

Printer = Callable[[str], None]

DEPENDENCY_PLUGIN_VERSION = "3.8.1"
MINIMUM_JAVA = 17


class ProvisionError(RuntimeError):
    """A distribution could not be resolved, or the JDK or Maven is missing."""


@dataclass(frozen=True)
class Distribution:
    """A named set of Maven coordinates resolved together into one ``libs`` directory."""

    name: str
    version: str
    coordinates: tuple[tuple[str, str, str], ...]

    @property
    def home(self) -> Path:
        return config.cache_dir() / f"{self.name}-{self.version}"

    @property
    def libs(self) -> Path:
        return self.home / "libs"

    @property
    def classpath(self) -> str:
        """The JVM class path: every jar of ``libs`` (the JVM expands the wildcard itself)."""
        return str(self.libs / "*")

    def is_installed(self) -> bool:
        return (self.home / ".complete").is_file() and self.libs.is_dir()


def kafka_distribution(version: str | None = None) -> Distribution:
    version = version or config.kafka_version()
    return Distribution(
        name="kafka",
        version=version,
        coordinates=(
            ("org.apache.kafka", "kafka_2.13", version),
            ("org.apache.logging.log4j", "log4j-slf4j-impl", config.LOG4J_VERSION),
            ("org.slf4j", "slf4j-api", config.SLF4J_API_VERSION),
        ),
    )


def mongo_distribution(version: str | None = None) -> Distribution:
    version = version or config.mongo_java_server_version()
    return Distribution(
        name="mongo-java-server",
        version=version,
        coordinates=(
            ("de.bwaldvogel", "mongo-java-server", version),
            ("de.bwaldvogel", "mongo-java-server-h2-backend", version),
            ("org.slf4j", "slf4j-simple", config.SLF4J_SIMPLE_VERSION),
        ),
    )


def render_pom(distribution: Distribution) -> str:
    """A throwaway POM whose only purpose is to list the coordinates for the dependency plugin."""
    dependencies = "\n".join(
        f"    <dependency><groupId>{g}</groupId><artifactId>{a}</artifactId>"
        f"<version>{v}</version></dependency>"
        for g, a, v in distribution.coordinates
    )
    return f"""<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>icsuite.devstack</groupId>
  <artifactId>{distribution.name}-libs</artifactId>
  <version>{distribution.version}</version>
  <packaging>pom</packaging>
  <dependencies>
{dependencies}
  </dependencies>
  <build>
    <plugins>
      <plugin>
        <groupId>org.apache.maven.plugins</groupId>
        <artifactId>maven-dependency-plugin</artifactId>
        <version>{DEPENDENCY_PLUGIN_VERSION}</version>
      </plugin>
    </plugins>
  </build>
</project>
"""


def ensure_installed(distribution: Distribution, out: Printer = print) -> Path:
    """Return the ``libs`` directory of ``distribution``, resolving it from Maven Central if needed."""
    if distribution.is_installed():
        return distribution.libs
    check_java()
    with _provision_lock():
        if distribution.is_installed():  # another process finished it while we waited
            return distribution.libs
        _resolve(distribution, out)
    return distribution.libs


def ensure_all(out: Printer = print) -> tuple[Distribution, Distribution]:
    """Provision Kafka and the MongoDB-wire server; return both distributions."""
    kafka, mongo = kafka_distribution(), mongo_distribution()
    ensure_installed(kafka, out)
    ensure_installed(mongo, out)
    return kafka, mongo


def java_major_version() -> int:
    java = shutil.which("java")
    if java is None:
        raise ProvisionError("no `java` on PATH: the local stack needs a JDK 17 or newer")
    result = subprocess.run([java, "-version"], capture_output=True, text=True, check=False)
    match = re.search(r'version "(\d+)(?:\.(\d+))?', result.stderr + result.stdout)
    if not match:
        raise ProvisionError(f"cannot read the Java version from: {result.stderr.strip()}")
    major = int(match.group(1))
    return int(match.group(2) or 0) if major == 1 else major


def check_java() -> None:
    major = java_major_version()
    if major < MINIMUM_JAVA:
        raise ProvisionError(f"Java {major} found; Kafka 4 and the launcher need Java {MINIMUM_JAVA}+")


def _resolve(distribution: Distribution, out: Printer) -> None:
    mvn = shutil.which("mvn")
    if mvn is None:
        raise ProvisionError("no `mvn` on PATH: Maven resolves the jars from Maven Central")
    home = distribution.home
    home.mkdir(parents=True, exist_ok=True)
    (home / "pom.xml").write_text(render_pom(distribution), encoding="utf-8")
    staging = home / "libs.partial"
    shutil.rmtree(staging, ignore_errors=True)
    out(f"Resolving {distribution.name} {distribution.version} from Maven Central into {home} ...")
    command = [
        mvn, "-B", "-q", "-f", str(home / "pom.xml"), "dependency:copy-dependencies",
        "-DincludeScope=runtime", f"-DoutputDirectory={staging}",
    ]  # fmt: skip
    started = time.monotonic()
    display = _download_progress(distribution, staging, out)
    log_path = home / "mvn.log"
    with log_path.open("w", encoding="utf-8") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=home)
        while process.poll() is None:
            time.sleep(0.5)
            display.tick(time.monotonic() - started)
    display.finish()
    if process.returncode != 0:
        tail = "\n".join(log_path.read_text(encoding="utf-8", errors="replace").splitlines()[-30:])
        raise ProvisionError(f"mvn failed for {distribution.name} {distribution.version}:\n{tail}")
    jars = sorted(staging.glob("*.jar"))
    if not jars:
        raise ProvisionError(f"mvn copied no jars for {distribution.name} {distribution.version}")
    size = sum(jar.stat().st_size for jar in jars) / 1e6
    shutil.rmtree(distribution.libs, ignore_errors=True)
    staging.rename(distribution.libs)
    (home / ".complete").write_text("\n".join(jar.name for jar in jars) + "\n", encoding="utf-8")
    out(f"  {len(jars)} jars, {size:.0f} MB, in {time.monotonic() - started:.0f} s")


def _download_progress(distribution: Distribution, staging: Path, out: Printer) -> progress.DownloadProgress:
    """A bar with size and percentage for a pinned version, elapsed time only for another one."""
    jars = progress.expected_jars(distribution.name, distribution.version)
    total = sum(jar.size for jar in jars)
    repository = progress.maven_repository()
    if total:
        out(f"  {len(jars)} jars, {total / progress.MB:.0f} MB expected")
    return progress.DownloadProgress(total, lambda: progress.arrived_bytes(jars, repository, staging), out,
                                     progress.terminal_of(out))


@contextmanager
def _provision_lock() -> Iterator[None]:
    root = config.cache_dir()
    root.mkdir(parents=True, exist_ok=True)
    with (root / ".provision.lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
