"""HTTP gateway of the followups service."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/v1")
