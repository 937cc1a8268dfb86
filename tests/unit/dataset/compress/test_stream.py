"""Large multi-frame objects streamed frame by frame (issue 18 item 3).

``STREAM_ABOVE`` is lowered so that test-sized objects take the streamed
path; it is the same code a 1 GB object takes.
"""

from __future__ import annotations

import dataclasses
import tracemalloc
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from storescu.dataset.compress import (
    CODEC_SYNTAXES,
    PIXEL_CODECS,
    VerificationFailed,
    available_codecs,
    open_compressed,
    opening,
)
from storescu.dataset.compress import codecs as codecs_module
from storescu.dataset.compress import stream as stream_module
from storescu.dataset.inspection import inspect_file
from tests.unit.dataset.compress.conftest import BIG_FRAMES
from tests.unit.dataset.compress.helpers import (
    as_file,
    have,
    independent_words,
    source_words,
)


@pytest.fixture(autouse=True)
def _streamed(monkeypatch: pytest.MonkeyPatch) -> None:
    if set(available_codecs()) != set(PIXEL_CODECS):
        pytest.skip("the codecs extra is not installed")
    monkeypatch.setattr(opening, "STREAM_ABOVE", 0)


def _read_all(reader: Any, block: int) -> bytes:
    """Read as net.client does: fixed blocks, the last one short or flagged by `exhausted`."""
    out = bytearray()
    buf = bytearray(block)
    while True:
        got = reader.readinto(buf)
        out += buf[:got]
        if got < block or reader.exhausted:
            break
    # The flag was set by the read that gave the last byte: nothing follows.
    assert reader.exhausted and reader.readinto(buf) == 0
    return bytes(out)


@pytest.mark.parametrize("codec", ["jpeg-ls", "rle"])
def test_streamed_multiframe_decodes_to_the_source(
    codec: str, derived: dict[str, str], tmp_path: Path
) -> None:
    path = derived["multiframe"]
    reader = open_compressed(inspect_file(path), None, CODEC_SYNTAXES[codec])
    assert reader.length is None  # streamed: the total is known at the end only
    assert reader.encoded_bytes > 0  # the first frame was encoded (and verified) already
    data = _read_all(reader, 4096)
    reader.close()
    reader.close()  # idempotent
    assert reader.bytes_out == len(data)
    assert reader.pixel_bytes_in == 6 * 64 * 64 * 2
    tool = {"jpeg-ls": "dcmdjpls", "rle": "dcmdrle"}[codec]
    if not have(tool):
        pytest.skip(f"{tool} not installed")
    encoded = as_file(path, data, codec, tmp_path / "streamed.dcm")
    assert np.array_equal(independent_words(codec, encoded, tmp_path), source_words(path))


@pytest.mark.parametrize("block", [1, 7, 16384])
def test_exhausted_is_set_by_the_read_that_ends(derived: dict[str, str], block: int) -> None:
    reader = open_compressed(inspect_file(derived["multiframe"]), None, CODEC_SYNTAXES["rle"])
    with reader:
        _read_all(reader, block)


def test_streamed_bytes_equal_the_whole_encoding_but_the_offset_table(
    derived: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """PS3.5 A.4: streamed, the Basic Offset Table is empty; otherwise the same bytes."""
    info = inspect_file(derived["multiframe"])
    streamed = open_compressed(info, None, CODEC_SYNTAXES["rle"])
    with streamed:
        data = _read_all(streamed, 65536)
    monkeypatch.setattr(opening, "STREAM_ABOVE", 1 << 40)
    whole = open_compressed(info, None, CODEC_SYNTAXES["rle"])
    with whole:
        full = whole.read()
    table = 6 * 4
    assert whole.length == len(full) == len(data) + table
    cut = full.index(b"\xfe\xff\x00\xe0\x18\x00\x00\x00")  # the filled table's item, 24 bytes
    assert full[:cut] + b"\xfe\xff\x00\xe0\x00\x00\x00\x00" + full[cut + 8 + table :] == data


@pytest.mark.parametrize("codec", ["jpeg-ls", "htj2k"])  # worker processes, threads
def test_memory_stays_bounded(big_multiframe: str, codec: str) -> None:
    """A few frames in memory, not the object: the tracemalloc peak is a fraction of it."""
    size = BIG_FRAMES * 512 * 512 * 2
    tracemalloc.start()
    try:
        reader = open_compressed(inspect_file(big_multiframe), None, CODEC_SYNTAXES[codec])
        with reader:
            buf = bytearray(16384)
            while reader.readinto(buf):
                pass
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert reader.pixel_bytes_in == size
    assert peak < size / 4, f"peak {peak / 2**20:.1f} MiB for a {size / 2**20:.0f} MiB object"


def test_later_frame_mismatch_raises_verification_failed(
    derived: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first frame verifies (open_compressed returns), a later one does not: mid-stream."""
    path = derived["multiframe"]
    first = source_words(path)[0]
    real = codecs_module.CODECS["jpeg-ls"]

    def bad(data: bytes, layout: Any) -> Any:
        words = np.array(real.decode(data, layout))
        if not np.array_equal(words, first):
            words.flat[0] ^= 1  # every frame but the first comes back changed
        return words

    monkeypatch.setitem(codecs_module.CODECS, "jpeg-ls", dataclasses.replace(real, decode=bad))
    monkeypatch.setattr(stream_module, "USE_PROCESSES", False)  # `bad` cannot be pickled
    reader = open_compressed(inspect_file(path), None, CODEC_SYNTAXES["jpeg-ls"])
    buf = bytearray(1024)
    with pytest.raises(VerificationFailed, match="frame 2: verification") as caught:
        while reader.readinto(buf):
            pass
    assert reader.bytes_out > 0  # earlier bytes were out: the caller must abort
    assert "samples differ" in caught.value.reason
    reader.close()
    # Without verification the same object streams to the end.
    unchecked = open_compressed(inspect_file(path), None, CODEC_SYNTAXES["jpeg-ls"], verify=False)
    with unchecked:
        assert unchecked.read()
