"""Runs the ``bash`` blocks of the README's walkthrough ("Try it in five minutes") against the five
services of the test session, line by line, as a person would: a line is retried until it answers,
because events travel asynchronously. ``sh`` blocks (``make up``, a minute of traffic) are for people."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

README = Path(__file__).resolve().parents[2] / "README.md"
SECTION = "## Try it in five minutes"
ASSIGNMENT = re.compile(r"^([A-Z_][A-Z0-9_]*)=(.+)$")
RETRY_S = 90.0


def walkthrough_lines(readme: str) -> list[str]:
    """The command lines of every block fenced as ``bash`` in the walkthrough section of the README."""
    text = readme.split(SECTION, 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"^```bash\n(.*?)^```", text, flags=re.DOTALL | re.MULTILINE)
    return [line.strip() for block in blocks for line in block.splitlines()
            if line.strip() and not line.strip().startswith("#")]


def run_line(line: str, env: dict[str, str]) -> tuple[int, str]:
    done = subprocess.run(["bash", "-c", line], env=env, capture_output=True, text=True, timeout=120,
                          check=False)
    return done.returncode, done.stdout + done.stderr


def run_until_answered(line: str, env: dict[str, str]) -> str:
    """Run ``line`` until it exits 0 with some output other than ``(none)``; return its output."""
    deadline = time.monotonic() + RETRY_S
    while True:
        code, output = run_line(line, env)
        if code == 0 and output.strip() and output.strip() != "(none)":
            return output
        if time.monotonic() > deadline:
            raise AssertionError(f"$ {line}\nexit {code}\n{output}")
        time.sleep(1.0)


def test_the_walkthrough_runs(suite: Any) -> None:
    bin_dir = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
           "IC_JWT_SECRET": suite.jwt_secret, "KAFKA_BOOTSTRAP_SERVERS": suite.kafka_bootstrap,
           **{f"IC_{service.upper()}_URL": suite.url(service) for service in suite.ports}}
    run_until_answered("icsuite demo load", env)  # what `make up` does before the walkthrough starts
    lines = walkthrough_lines(README.read_text())
    assert len(lines) > 10, "the walkthrough lost its commands"
    for line in lines:
        command = line.replace("uv run icsuite", "icsuite")
        assignment = ASSIGNMENT.match(command)
        if assignment:
            name, value = assignment.groups()
            env[name] = run_until_answered(f'printf "%s" {value}', env).strip()
            continue
        output = run_until_answered(command, env)
        print(f"$ {line}\n{output}")
