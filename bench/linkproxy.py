"""A TCP proxy on loopback that models a link: a bandwidth cap and a delay each way.

    python bench/linkproxy.py --target 127.0.0.1:11112 --delay-ms 25 [--rate-mbit 10]
        [--down-rate-mbit R] [--stats FILE] [--port 0]

It prints the port it listens on as its first line of stdout, then serves until
killed. Each direction of each connection is a link of its own:

- **bandwidth** (``--rate-mbit``, 0 = no cap; ``--down-rate-mbit`` for the
  direction back to the client, default the same): a token bucket whose depth is
  one chunk. Bytes leave the bottleneck at the rate, one after the other: a chunk
  read at ``now`` departs at ``max(now, previous departure) + len / rate``.
- **latency** (``--delay-ms``, one way): each chunk is delivered ``delay`` after
  its departure (propagation), so the round trip adds ``2 * delay``.
- **bounded queue**: at most :data:`MAX_QUEUED_BYTES` bytes wait in a direction
  besides the bandwidth-delay product on its way (in chunks of at most
  :data:`CHUNK` bytes, smaller under a cap so the rate is smooth); when it is full
  the proxy stops reading, so a sender faster than the link is slowed down by TCP
  flow control instead of filling memory, like a router's buffer.

Half-closes are forwarded after the delay. ``--stats FILE`` keeps a JSON file with
the bytes carried so far each way (``up``: client to target, ``down``: back) and
the number of connections opened and finished, rewritten (atomically) after every
connection ends: the bench's "bytes on the wire". It binds only to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import socket
import sys
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from pathlib import Path

LOOPBACK = "127.0.0.1"
CHUNK = 64 * 1024
#: Per direction: what a router's buffer holds (bounds memory; flow control beyond it).
MAX_QUEUED_BYTES = 4 * 1024 * 1024
#: Under a cap, chunks carry about this much link time (1460 bytes at least).
CHUNK_SECONDS = 0.004

_EOF = b""


def chunk_size(rate: float) -> int:
    """Bytes read at once: :data:`CHUNK`, or about :data:`CHUNK_SECONDS` of a capped link."""
    if rate <= 0:
        return CHUNK
    return max(1460, min(CHUNK, int(rate * CHUNK_SECONDS)))


@dataclass
class Stats:
    """Bytes carried each way, over every connection so far."""

    up: int = 0
    down: int = 0
    connections: int = 0
    finished: int = 0

    def save(self, path: Path | None) -> None:
        if path is None:
            return
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(asdict(self)))
        os.replace(tmp, path)


def _nodelay(writer: asyncio.StreamWriter) -> None:
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


async def link_line(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    delay: float,
    rate: float = 0.0,
    *,
    clock: Callable[[], float] | None = None,
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    max_queued_bytes: int = MAX_QUEUED_BYTES,
    count: Callable[[int], None] | None = None,
) -> int:
    """Copy ``reader`` to ``writer`` through a link of ``rate`` bytes/s and ``delay`` s.

    ``rate`` 0 means no cap (then each chunk goes ``delay`` after it was read).
    ``clock`` and ``sleep`` default to the event loop's; tests pass fakes. ``count``
    is called with the size of each chunk written. Returns the number of bytes
    forwarded; the writer is half-closed (``write_eof``) after the reader's EOF has
    crossed the link too.
    """
    now = clock or asyncio.get_running_loop().time
    queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()
    size = chunk_size(rate)
    # Chunks held: the buffer, plus what is on its way (rate x delay, the bandwidth-delay
    # product: a link carries that much whatever its buffer), plus the one being read.
    in_flight = math.ceil(rate * delay / size) if rate > 0 else 0
    room = asyncio.Semaphore(math.ceil(max_queued_bytes / size) + in_flight + 1)

    async def read_side() -> None:
        departed = 0.0  # when the bottleneck finishes sending what it holds
        while True:
            await room.acquire()
            try:
                data = await reader.read(size)
            except (ConnectionError, OSError):
                data = _EOF
            start = max(now(), departed)
            departed = start + (len(data) / rate if rate > 0 else 0.0)
            queue.put_nowait((departed + delay, data))
            if not data:
                return

    async def write_side() -> int:
        sent = 0
        while True:
            due, data = await queue.get()
            room.release()
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
            if count is not None:
                count(len(data))

    reading = asyncio.create_task(read_side())
    try:
        return await write_side()
    finally:
        reading.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await reading


@dataclass(frozen=True)
class Link:
    """One way delay (s) and the caps each way (bytes/s, 0: none)."""

    delay: float
    up_rate: float = 0.0
    down_rate: float = 0.0


async def _handle(
    client_r: asyncio.StreamReader,
    client_w: asyncio.StreamWriter,
    target: tuple[str, int],
    link: Link,
    stats: Stats,
    stats_path: Path | None,
) -> None:
    try:
        server_r, server_w = await asyncio.open_connection(*target)
    except OSError:
        client_w.close()
        return
    _nodelay(client_w)
    _nodelay(server_w)
    stats.connections += 1

    def up(n: int) -> None:
        stats.up += n

    def down(n: int) -> None:
        stats.down += n

    try:
        await asyncio.gather(
            link_line(client_r, server_w, link.delay, link.up_rate, count=up),
            link_line(server_r, client_w, link.delay, link.down_rate, count=down),
        )
    except (ConnectionError, OSError):
        pass
    finally:
        for w in (client_w, server_w):
            w.close()
            with contextlib.suppress(Exception):
                await w.wait_closed()
        stats.finished += 1
        with contextlib.suppress(OSError):
            stats.save(stats_path)


async def start_proxy(
    target: tuple[str, int],
    link: Link,
    port: int = 0,
    *,
    stats: Stats | None = None,
    stats_path: Path | None = None,
) -> asyncio.base_events.Server:
    """Listen on 127.0.0.1:``port`` (0: any free port) and relay to ``target``."""
    counts = stats if stats is not None else Stats()

    async def handle(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        await _handle(r, w, target, link, counts, stats_path)

    return await asyncio.start_server(handle, LOOPBACK, port)


async def _main(args: argparse.Namespace) -> None:
    host, _, port = args.target.rpartition(":")
    up = args.rate_mbit * 1e6 / 8
    down = (args.down_rate_mbit if args.down_rate_mbit is not None else args.rate_mbit) * 1e6 / 8
    stats = Stats()
    stats.save(args.stats)
    server = await start_proxy(
        (host or LOOPBACK, int(port)),
        Link(args.delay_ms / 1000, up, down),
        args.port,
        stats=stats,
        stats_path=args.stats,
    )
    bound = server.sockets[0].getsockname()[1]
    print(bound, flush=True)
    async with server:
        await server.serve_forever()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--target", required=True, help="HOST:PORT to relay to")
    parser.add_argument("--delay-ms", type=float, default=10.0, help="one-way delay (ms)")
    parser.add_argument(
        "--rate-mbit", type=float, default=0.0, help="bandwidth cap each way in Mbit/s (0: none)"
    )
    parser.add_argument(
        "--down-rate-mbit",
        type=float,
        default=None,
        help="cap from the target back to the client (default: --rate-mbit)",
    )
    parser.add_argument(
        "--stats", type=Path, default=None, help="JSON file with the bytes carried each way"
    )
    parser.add_argument("--port", type=int, default=0, help="port to listen on (0: any)")
    args = parser.parse_args(argv)
    if args.delay_ms < 0 or args.rate_mbit < 0 or (args.down_rate_mbit or 0) < 0:
        parser.error("--delay-ms and the rates must be >= 0")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_main(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
