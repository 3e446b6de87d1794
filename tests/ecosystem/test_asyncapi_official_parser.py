"""The five AsyncAPI documents are accepted by the official AsyncAPI parser (``@asyncapi/parser`` from
npm), run with node. The parser is installed into a cache folder on first use."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow

PARSER_VERSION = "3.6.3"
_PARSE = r"""
const { Parser } = require('@asyncapi/parser');
const fs = require('fs');
(async () => {
  const parser = new Parser();
  const results = {};
  for (const file of process.argv.slice(2)) {
    const { document, diagnostics } = await parser.parse(fs.readFileSync(file, 'utf8'));
    results[file] = { parsed: Boolean(document), diagnostics: diagnostics.map(d => (
      { severity: d.severity, code: d.code, message: d.message, path: d.path.join('/') })) };
  }
  process.stdout.write(JSON.stringify(results));
})().catch(error => { console.error(error); process.exit(2); });
"""


def _parser_folder() -> Path:
    """A folder with ``node_modules/@asyncapi/parser`` at PARSER_VERSION, installed with npm if missing."""
    base = Path(os.environ.get("IC_NODE_TOOLS_CACHE", Path.home() / ".cache" / "icsuite" / "node-tools"))
    folder = base / f"asyncapi-parser-{PARSER_VERSION}"
    marker = folder / "node_modules" / "@asyncapi" / "parser" / "package.json"
    if not marker.is_file():
        npm = shutil.which("npm")
        if npm is None:
            pytest.fail("node is installed but npm is not: cannot install @asyncapi/parser")
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "package.json").write_text('{"private": true}', encoding="utf-8")
        subprocess.run([npm, "install", "--no-audit", "--no-fund", "--silent", "--prefix", str(folder),
                        f"@asyncapi/parser@{PARSER_VERSION}"], check=True, timeout=600, capture_output=True)
    return folder


@pytest.fixture(scope="module")
def parser_folder() -> Path:
    if shutil.which("node") is None:
        pytest.skip("node is not installed")
    return _parser_folder()


def test_the_official_parser_accepts_every_asyncapi_document(documents: dict[str, dict[str, Any]],
                                                            parser_folder: Path, tmp_path: Path) -> None:
    files = {}
    for service, served in documents.items():
        files[service] = tmp_path / f"{service}.asyncapi.json"
        files[service].write_text(json.dumps(served["asyncapi"]), encoding="utf-8")
    script = tmp_path / "parse.cjs"
    script.write_text(_PARSE, encoding="utf-8")
    run = subprocess.run(["node", str(script), *map(str, files.values())], cwd=parser_folder,
                         env={**os.environ, "NODE_PATH": str(parser_folder / "node_modules")},
                         capture_output=True, text=True, timeout=180)
    assert run.returncode == 0, run.stderr
    results = json.loads(run.stdout)
    for service, path in files.items():
        result = results[str(path)]
        problems = [d for d in result["diagnostics"] if d["severity"] <= 1]  # errors and warnings
        assert result["parsed"] and not problems, f"{service}: {json.dumps(problems, indent=1)}"


def test_every_message_declares_the_cloudevents_headers(documents: dict[str, dict[str, Any]]) -> None:
    for service, served in documents.items():
        messages = served["asyncapi"]["components"]["messages"]
        assert messages, service
        for message_id, message in messages.items():
            headers = message["headers"]
            assert {"ce_id", "ce_type", "ce_source", "ce_time", "ce_specversion"} <= set(headers["required"])
            assert headers["properties"]["ce_type"]["const"] == message["name"], f"{service} {message_id}"
            assert "$defs" not in json.dumps(message["payload"]), f"{service} {message_id}: nested $defs"
