"""A TCP proxy on loopback that delays every byte by a fixed time each way (a WAN model).

    python bench/delayproxy.py --target 127.0.0.1:11112 --delay-ms 10 [--port 0]

It prints the port it listens on as its first line of stdout, then serves until
killed. Each direction of each connection is a delay line: a reader task stamps
every chunk it reads with ``now + delay`` and queues it; a writer task sleeps until
that time and forwards the chunk. Reading goes on while earlier chunks wait, so the
link has latency but no bandwidth cap of its own (like a long fat pipe, not a slow
one). The queue is bounded (:data:`MAX_QUEUED_CHUNKS` chunks of at most
:data:`CHUNK` bytes), so a sender faster than the far end is slowed down by TCP
flow control instead of filling memory. Half-closes are forwarded after the delay.
It binds only to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import socket
import sys
from collections.abc import Awaitable, Callable

LOOPBACK = "127.0.0.1"
CHUNK = 64 * 1024
MAX_QUEUED_CHUNKS = 256  # per direction: at most 16 MiB in flight

_EOF = b""


def _nodelay(writer: asyncio.StreamWriter) -> None:
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


async def delay_line(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    delay: float,
    *,
    clock: Callable[[], float] | None = None,
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    max_queued: int = MAX_QUEUED_CHUNKS,
) -> int:
    """Copy ``reader`` to ``writer``, each chunk ``delay`` seconds after it was read.

    ``clock`` and ``sleep`` default to the event loop's; tests pass fakes. Returns
    the number of bytes forwarded; the writer is half-closed (``write_eof``) after
    the reader's EOF has been delayed too.
    """
    now = clock or asyncio.get_running_loop().time
    queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue(maxsize=max_queued)

    async def read_side() -> None:
        try:
            while True:
                data = await reader.read(CHUNK)
                await queue.put((now() + delay, data))
                if not data:
                    return
        except (ConnectionError, OSError):
            await queue.put((now() + delay, _EOF))

    async def write_side() -> int:
        sent = 0
        while True:
            due, data = await queue.get()
            wait = due - now()
            if wait > 0:
                await sleep(wait)
            if not data:
                with contextlib.suppress(OSError, RuntimeError):
                    if writer.can_write_eof():
                        writer.write_eof()
                return sent
            writer.write(data)
            await writer.drain()
            sent += len(data)

    reading = asyncio.create_task(read_side())
    try:
        return await write_side()
    finally:
        reading.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await reading


async def _handle(
    client_r: asyncio.StreamReader,
    client_w: asyncio.StreamWriter,
    target: tuple[str, int],
    delay: float,
) -> None:
    try:
        server_r, server_w = await asyncio.open_connection(*target)
    except OSError:
        client_w.close()
        return
    _nodelay(client_w)
    _nodelay(server_w)
    try:
        await asyncio.gather(
            delay_line(client_r, server_w, delay),
            delay_line(server_r, client_w, delay),
        )
    except (ConnectionError, OSError):
        pass
    finally:
        for w in (client_w, server_w):
            w.close()
            with contextlib.suppress(Exception):
                await w.wait_closed()


async def start_proxy(
    target: tuple[str, int], delay: float, port: int = 0
) -> asyncio.base_events.Server:
    """Listen on 127.0.0.1:``port`` (0: any free port) and relay to ``target``."""

    async def handle(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        await _handle(r, w, target, delay)

    return await asyncio.start_server(handle, LOOPBACK, port)


async def _main(args: argparse.Namespace) -> None:
    host, _, port = args.target.rpartition(":")
    server = await start_proxy((host or LOOPBACK, int(port)), args.delay_ms / 1000, args.port)
    bound = server.sockets[0].getsockname()[1]
    print(bound, flush=True)
    async with server:
        await server.serve_forever()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--target", required=True, help="HOST:PORT to relay to")
    parser.add_argument("--delay-ms", type=float, default=10.0, help="one-way delay (ms)")
    parser.add_argument("--port", type=int, default=0, help="port to listen on (0: any)")
    args = parser.parse_args(argv)
    if args.delay_ms < 0:
        parser.error("--delay-ms must be >= 0")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_main(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
