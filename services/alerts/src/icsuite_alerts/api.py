"""HTTP gateway of the alerts service."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/v1")
