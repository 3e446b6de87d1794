"""The status an ASGI application answered, for middlewares that act after the response (metrics, audit)."""

from __future__ import annotations

from starlette.types import Message, Send


class StatusOf:
    """Wraps ``send``; ``code`` is the response's status once it started (500 if it never did)."""

    def __init__(self, send: Send):
        self._send = send
        self.code = 500

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.code = message["status"]
        await self._send(message)
