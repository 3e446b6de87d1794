"""The Markdown table of a benchmark run (filled in below)."""

from __future__ import annotations

import json
from typing import Any


def markdown(results: dict[str, Any]) -> str:
    return "```json\n" + json.dumps(results, indent=1, default=str)[:4000] + "\n```\n"
