"""bench/linkproxy.py on real loopback sockets: the cap holds within 10 %, the delay is added,
and the bytes carried are counted (about 2 s in all)."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

from bench import linkproxy


async def _echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while data := await reader.read(65536):
        writer.write(data)
        await writer.drain()
    writer.close()


def test_round_trip_adds_twice_the_delay_and_bytes_are_counted(tmp_path: Path) -> None:
    stats_path = tmp_path / "stats.json"

    async def go() -> list[float]:
        target = await asyncio.start_server(_echo, "127.0.0.1", 0)
        port = target.sockets[0].getsockname()[1]
        stats = linkproxy.Stats()
        proxy = await linkproxy.start_proxy(
            ("127.0.0.1", port), linkproxy.Link(0.020), stats=stats, stats_path=stats_path
        )
        reader, writer = await asyncio.open_connection(
            "127.0.0.1", proxy.sockets[0].getsockname()[1]
        )
        rtts = []
        for _ in range(5):
            t0 = time.perf_counter()
            writer.write(b"x" * 100)
            await writer.drain()
            await reader.readexactly(100)
            rtts.append(time.perf_counter() - t0)
        writer.close()
        await writer.wait_closed()
        for _ in range(200):  # the proxy saves its counts once the connection is done
            if stats.finished:
                break
            await asyncio.sleep(0.01)
        proxy.close()
        target.close()
        return rtts

    rtts = asyncio.run(go())
    assert min(rtts) >= 0.040
    assert min(rtts) < 0.040 + 0.025  # loopback itself adds well under a millisecond
    saved = json.loads(stats_path.read_text())
    assert saved == {"up": 500, "down": 500, "connections": 1, "finished": 1}


def test_throughput_is_within_ten_percent_of_the_cap() -> None:
    rate = 1e6  # 8 Mbit/s
    size = 1_000_000

    async def go() -> tuple[float, int, float]:
        got: list[tuple[float, int]] = []

        async def sink(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            while data := await reader.read(65536):
                got.append((time.perf_counter(), len(data)))
            writer.close()

        target = await asyncio.start_server(sink, "127.0.0.1", 0)
        port = target.sockets[0].getsockname()[1]
        proxy = await linkproxy.start_proxy(("127.0.0.1", port), linkproxy.Link(0.010, rate))
        _, writer = await asyncio.open_connection("127.0.0.1", proxy.sockets[0].getsockname()[1])
        t0 = time.perf_counter()
        writer.write(bytes(size))
        await writer.drain()
        writer.write_eof()
        while sum(n for _, n in got) < size:
            await asyncio.sleep(0.01)
        writer.close()
        proxy.close()
        target.close()
        first_at, first = got[0]
        # The rate from the first byte to the last, the first chunk excluded.
        measured = (size - first) / (got[-1][0] - first_at)
        return measured, sum(n for _, n in got), first_at - t0

    measured, total, first_after = asyncio.run(go())
    assert total == size
    assert 0.9 * rate <= measured <= 1.1 * rate
    assert first_after >= 0.010  # the delay comes on top of the first chunk's transfer
