"""Figures the end-to-end tests collect; conftest prints them as a summary table at the end."""

from __future__ import annotations

from typing import Any

REPORT: dict[str, Any] = {}
