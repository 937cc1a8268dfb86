"""The benchmark's pure helpers (bench/): corpus generation, medians and the table,
the link line of the proxy, sender variants. No sockets, no processes, and no
assertion on elapsed time: the link line runs on a fake clock.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest
from pydicom import dcmread

from bench import corpus, linkproxy, report
from bench.run import REJECTED, SETS, default_senders, parse_variant

# --- corpus ---------------------------------------------------------------------------


def test_corpus_three_files_are_valid_distinct_and_cached(tmp_path: Path) -> None:
    spec = corpus.SPECS["tiny"].scaled(count=3)
    made = corpus.generate(spec, tmp_path)
    assert [p.name for p in made.files] == ["tiny_000000.dcm", "tiny_000001.dcm", "tiny_000002.dcm"]
    sizes = {p.stat().st_size for p in made.files}
    assert len(sizes) == 1 and made.total_bytes == 3 * sizes.pop()
    uids = []
    for i, path in enumerate(made.files):
        ds = dcmread(path)
        assert ds.SOPInstanceUID == corpus.instance_uid(spec, i)
        assert ds.file_meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID
        assert ds.file_meta.TransferSyntaxUID == corpus.EXPLICIT_VR_LITTLE_ENDIAN
        assert ds.SOPClassUID == corpus.MR_IMAGE_STORAGE
        assert (ds.Rows, ds.Columns, ds.BitsAllocated) == (64, 64, 16)
        assert len(ds.PixelData) == spec.pixel_bytes
        uids.append(ds.SOPInstanceUID)
    assert len(set(uids)) == 3
    # Cached: a second call rewrites nothing.
    mtimes = [p.stat().st_mtime_ns for p in made.files]
    again = corpus.generate(spec, tmp_path)
    assert again.files == made.files
    assert [p.stat().st_mtime_ns for p in again.files] == mtimes


def test_corpus_is_deterministic_and_rebuilt_when_damaged(tmp_path: Path) -> None:
    spec = corpus.SPECS["small"].scaled(count=2)
    a = corpus.generate(spec, tmp_path / "a")
    b = corpus.generate(spec, tmp_path / "b")
    assert [p.read_bytes() for p in a.files] == [p.read_bytes() for p in b.files]
    a.files[1].write_bytes(b"truncated")
    fixed = corpus.generate(spec, tmp_path / "a")
    assert fixed.files[1].read_bytes() == b.files[1].read_bytes()


def test_multiframe_spec_and_uid_shape() -> None:
    spec = corpus.SPECS["large"].scaled(count=1, frames=2)
    template = corpus.build_template(spec)
    assert len(template.uid_offsets) == 2
    # Every index gives a UID of the template's length; too long is refused.
    assert len(corpus.instance_uid(spec, 12345)) == template.uid_length
    pieces = corpus.clone_pieces(template, corpus.instance_uid(spec, 7))
    data = b"".join(bytes(p) for p in pieces)
    assert len(data) == len(template.data)
    assert data.count(corpus.instance_uid(spec, 7).encode()) == 2
    with pytest.raises(ValueError):
        corpus.clone_pieces(template, corpus.instance_uid(spec, 7) + ".1")
    with pytest.raises(ValueError):
        corpus.instance_uid(spec, -1)


def test_quick_corpus_keys_differ_from_full() -> None:
    full = corpus.SPECS["tiny"]
    assert full.key != full.scaled(count=10).key
    assert full.key.startswith("tiny-2000-64x64x1-")


# --- report ---------------------------------------------------------------------------


def _row(sender: str, walls: list[float], set_name: str = "tiny", **kw: object) -> report.Row:
    row = report.Row(set_name, sender, files=100, total_bytes=10_000_000)
    for w in walls:
        row.runs.append(report.Run(wall=w, rss_kb=20480, rc=0, received=100, expected=100))
    for key, value in kw.items():
        setattr(row, key, value)
    return row


def test_median() -> None:
    assert report.median([3.0, 1.0, 2.0]) == 2.0
    assert report.median([4.0, 1.0, 2.0, 3.0]) == 2.5
    with pytest.raises(ValueError):
        report.median([])


def test_summary_ratios_and_failed_runs() -> None:
    dcmtk = _row("dcmtk", [1.0, 1.2, 0.8])
    ours = _row("ours", [0.5, 0.6, 0.4])
    ours.runs.append(report.Run(wall=0.01, rss_kb=1, rc=10, received=3, expected=100))
    s = report.summarize(ours, report.reference_wall([dcmtk, ours], "tiny"))
    assert s["median_wall_s"] == 0.5  # the failed run is left out
    assert s["files_per_s"] == 200.0
    assert s["mb_per_s"] == 20.0
    assert s["wall_vs_dcmtk"] == 0.5
    assert s["throughput_vs_dcmtk"] == 2.0
    assert s["peak_rss_mb"] == pytest.approx(20480 * 1024 / 1e6)
    assert s["status"].startswith("1/4 runs FAILED (exit 10")


def test_table_has_a_line_per_row_and_shows_skips() -> None:
    rows = [
        _row("ours", [0.5]),
        _row("dcmtk", [1.0]),
        _row("ours -P4", [], skipped="storescu: unknown option -P"),
        _row("ours", [2.0], set_name="small"),  # no DCMTK row: no ratio
    ]
    table = report.format_table(rows)
    lines = table.strip().splitlines()
    assert len(lines) == 2 + len(rows)
    assert lines[0].startswith("| set | sender | files |")
    assert "| tiny | ours | 100 | 10.0 | 0.500 | 0.500-0.500 | 0.000 | 0 | 0.00 |" in lines[2]
    assert "| 0.50x | 2.00x | ok |" in lines[2]
    assert lines[4].endswith("| skipped: storescu: unknown option -P |")
    assert "| - | - | ok |" in lines[5]  # no DCMTK line for "small"
    assert all(line.count("|") == 16 for line in lines)
    payload = report.to_json(rows, {"quick": True})
    assert '"throughput_vs_dcmtk": 2.0' in payload


# --- link proxy -----------------------------------------------------------------------


class _FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


class _FakeWriter:
    def __init__(self, clock: _FakeClock) -> None:
        self.clock = clock
        self.chunks: list[tuple[float, bytes]] = []
        self.eof_at: float | None = None

    def write(self, data: bytes) -> None:
        self.chunks.append((self.clock.now, data))

    async def drain(self) -> None:
        await asyncio.sleep(0)

    def can_write_eof(self) -> bool:
        return True

    def write_eof(self) -> None:
        self.eof_at = self.clock.now


def _through_link(
    payload: bytes,
    delay: float,
    rate: float = 0.0,
    max_queued_bytes: int = linkproxy.MAX_QUEUED_BYTES,
    count: Callable[[int], None] | None = None,
) -> tuple[int, _FakeWriter, _FakeClock]:
    """``payload`` through :func:`linkproxy.link_line` on a fake clock."""

    async def go() -> tuple[int, _FakeWriter, _FakeClock]:
        clock = _FakeClock()
        reader = asyncio.StreamReader()
        reader.feed_data(payload)
        reader.feed_eof()
        writer = _FakeWriter(clock)
        sent = await linkproxy.link_line(
            reader,
            writer,  # type: ignore[arg-type]
            delay,
            rate,
            clock=clock,
            sleep=clock.sleep,
            max_queued_bytes=max_queued_bytes,
            count=count,
        )
        return sent, writer, clock

    return asyncio.run(go())


@pytest.mark.parametrize("max_queued_bytes", [1, 16 * 1024 * 1024])
def test_link_line_relays_every_byte_in_order_after_the_delay(max_queued_bytes: int) -> None:
    payload = bytes(range(256)) * 1000  # 256,000 bytes: several chunks
    sent, writer, clock = _through_link(payload, 0.01, max_queued_bytes=max_queued_bytes)
    assert sent == len(payload)
    assert b"".join(c for _, c in writer.chunks) == payload
    assert all(len(c) <= linkproxy.CHUNK for _, c in writer.chunks)
    # Read at fake time 0, so nothing is written before 10 ms of fake time.
    assert clock.sleeps and clock.sleeps[0] == pytest.approx(0.01)
    assert all(at >= 0.01 for at, _ in writer.chunks)
    assert writer.eof_at is not None and writer.eof_at >= 0.01


def test_link_line_with_zero_delay_never_sleeps() -> None:
    _, writer, clock = _through_link(b"abc", 0.0)
    assert [c for _, c in writer.chunks] == [b"abc"]
    assert clock.sleeps == []


@pytest.mark.parametrize("max_queued_bytes", [1, 64 * 1024, 16 * 1024 * 1024])
def test_link_line_caps_the_rate_then_adds_the_delay(max_queued_bytes: int) -> None:
    payload = bytes(1_000_000)
    rate = 1e6  # bytes per second
    counted: list[int] = []
    sent, writer, _ = _through_link(payload, 0.025, rate, max_queued_bytes, counted.append)
    assert sent == sum(counted) == len(payload)
    size = linkproxy.chunk_size(rate)
    assert all(len(c) <= size for _, c in writer.chunks)
    # Each chunk arrives when the link has carried it (bytes so far / rate) plus the delay.
    carried = 0
    for at, chunk in writer.chunks:
        carried += len(chunk)
        assert at == pytest.approx(carried / rate + 0.025)
    assert writer.eof_at == pytest.approx(1.0 + 0.025)


def test_chunk_size_follows_the_rate() -> None:
    assert linkproxy.chunk_size(0) == linkproxy.CHUNK
    assert linkproxy.chunk_size(1.25e6) == 5000  # 4 ms of 10 Mbit/s
    assert linkproxy.chunk_size(100) == 1460
    assert linkproxy.chunk_size(1e12) == linkproxy.CHUNK


# --- runner ---------------------------------------------------------------------------


def test_variants_and_refusal_detection() -> None:
    v = parse_variant("ours-P4=-P 4 --max-send-pdu 65536", "/py")
    assert v.name == "ours-P4"
    assert v.argv == ("/py", "-m", "storescu", "-P", "4", "--max-send-pdu", "65536")
    with pytest.raises(Exception, match="NAME=ARGS"):
        parse_variant("no-equals-sign", "/py")
    names = [s.name for s in default_senders("/py")]
    assert names[:3] == ["ours", "dcmtk", "pynetdicom"]
    assert REJECTED.search("storescu: unknown option -P\nTry 'storescu --help'")
    assert REJECTED.search("option +II is not supported yet (uid invention)")
    assert not REJECTED.search("I: Received Store Response (Success)")
    assert {"tiny", "small", "large", "onefile", "latency", "orthanc"} <= set(SETS)
