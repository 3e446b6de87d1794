"""HTTP gateway of the callbacks service."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/v1")
