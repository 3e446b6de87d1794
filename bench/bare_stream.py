"""The alerts stream's baseline: a bare consumer that only forwards events to an SSE stream (its own process).

aiokafka ``getmany`` with the chassis's fetch settings on ``ic.identity.v1`` (a fresh group at the end of the
topic), and a minimal HTTP/1.1 server (asyncio protocol) whose every ``GET`` gets a ``text/event-stream``
answer with one ``data:`` line per event (the event's JSON as published). No rules, no database, no service
stack: the least any event -> stream path costs on this machine.
"""

from __future__ import annotations

import asyncio
import multiprocessing as mp
from typing import Any

from icsuite_devstack.processes import free_port

TOPIC = "ic.identity.v1"


def _serve(bootstrap: str, group: str, port: int, ready: Any) -> None:
    from aiokafka import AIOKafkaConsumer

    streams: set[asyncio.Transport] = set()

    class Stream(asyncio.Protocol):
        def connection_made(self, transport: Any) -> None:
            self.transport, self.buf = transport, b""

        def data_received(self, data: bytes) -> None:
            self.buf += data
            if b"\r\n\r\n" in self.buf:
                self.transport.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
                                     b"cache-control: no-cache\r\nconnection: close\r\n\r\n")
                streams.add(self.transport)

        def connection_lost(self, exc: Exception | None) -> None:
            streams.discard(self.transport)

    async def main() -> None:
        consumer = AIOKafkaConsumer(TOPIC, bootstrap_servers=bootstrap, group_id=group, auto_offset_reset="latest",
                                    enable_auto_commit=False, fetch_max_wait_ms=100)
        await consumer.start()
        while not consumer.assignment():  # joined: what is published from now on reaches this consumer
            await consumer.getmany(timeout_ms=100)
        for tp in consumer.assignment():
            await consumer.position(tp)
        server = await asyncio.get_running_loop().create_server(Stream, "127.0.0.1", port, backlog=128)
        ready.put(port)
        async with server:
            while True:
                batches = await consumer.getmany(timeout_ms=50, max_records=500)
                for records in batches.values():
                    for record in records:
                        line = b"data: " + record.value + b"\n\n"
                        for transport in list(streams):
                            transport.write(line)
                if batches:
                    await consumer.commit()

    asyncio.run(main())


class BareStream:
    """``with BareStream(bootstrap, group) as url:`` the bare forwarder running, its stream at ``url``."""

    def __init__(self, bootstrap: str, group: str) -> None:
        self.bootstrap, self.group, self.port = bootstrap, group, free_port()
        self.process: Any = None

    def __enter__(self) -> str:
        ctx = mp.get_context("spawn")
        ready = ctx.Queue()
        self.process = ctx.Process(target=_serve, args=(self.bootstrap, self.group, self.port, ready), daemon=True)
        self.process.start()
        ready.get(True, 90)
        return f"http://127.0.0.1:{self.port}/stream"

    def __exit__(self, *exc: object) -> None:
        self.process.kill()
        self.process.join(timeout=10)
