"""HTTP gateway of the interactions service."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/v1")
