"""The client's own ceiling: the same claim clients against a trivial stub endpoint in its own process
(``python -m bench --claim-stub``; not in the default run)."""

from __future__ import annotations

import asyncio
import multiprocessing as mp
from typing import Any

from icsuite_devstack.processes import free_port

from .claims_clients import drive


def _stub_process(port: int, template: bytes, ready: Any) -> None:
    """A trivial HTTP/1.1 keep-alive server (asyncio protocol, uvloop when present) that answers every request
    with 200 and ``template`` (a real claim answer) with a fresh ``callback_id``: what the client costs alone."""
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    counter = iter(range(1, 1 << 62))
    head, _, tail = template.partition(b"@ID@")

    class Stub(asyncio.Protocol):
        def connection_made(self, transport: Any) -> None:
            self.transport, self.buf = transport, b""

        def data_received(self, data: bytes) -> None:
            self.buf += data
            while (end := self.buf.find(b"\r\n\r\n")) >= 0:
                length = 0
                for line in self.buf[:end].split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                if len(self.buf) < end + 4 + length:
                    return
                self.buf = self.buf[end + 4 + length:]
                body = b"%sstub-%d%s" % (head, next(counter), tail)
                self.transport.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                                     b"content-length: %d\r\n\r\n%s" % (len(body), body))

    async def main() -> None:
        server = await asyncio.get_running_loop().create_server(Stub, "127.0.0.1", port, backlog=1024)
        ready.put(port)
        async with server:
            await server.serve_forever()

    asyncio.run(main())


async def stub_level(template: bytes, agents: int, seconds: float, processes: int,
                     shared_pool: bool = False) -> dict[str, Any]:
    """The same clients against the trivial stub: the client's own ceiling on this machine."""
    ctx = mp.get_context("spawn")
    ready = ctx.Queue()
    port = free_port()
    stub = ctx.Process(target=_stub_process, args=(port, template, ready), daemon=True)
    stub.start()
    try:
        await asyncio.to_thread(ready.get, True, 60)
        figures = await drive(f"http://127.0.0.1:{port}", agents, seconds, processes, {"stub": stub.pid},
                               shared_pool)
    finally:
        stub.kill()
        stub.join(timeout=10)
    figures.pop("claimed")
    return figures
