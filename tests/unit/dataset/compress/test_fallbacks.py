"""Every "goes uncompressed" case: NotCompressed with the reason, before any byte (issue 18 item 2).

Each test fails without its fallback: the dataset would be encoded (and, for
the bit cases, the decoder would give back other stored words).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
import pytest

from storescu.dataset.compress import PIXEL_CODECS, NotCompressed, available_codecs
from storescu.dataset.compress import codecs as codecs_module
from storescu.dataset.compress import frames as frames_module
from storescu.dataset.compress import stream as stream_module
from tests.unit.dataset.compress.helpers import (
    as_file,
    compress,
    have,
    independent_words,
    sample,
    source_words,
    write_native,
)

BITS_LIMITED = ("jpeg-ls", "j2k", "htj2k")  # streams of Bits Stored bits (RLE codes whole bytes)


@pytest.fixture(autouse=True)
def _codecs_here() -> None:
    if set(available_codecs()) != set(PIXEL_CODECS):
        pytest.skip("the codecs extra is not installed")


def _refused(path: str, codec: str, *words: str) -> str:
    with pytest.raises(NotCompressed) as caught:
        compress(path, codec)
    for word in words:
        assert word in caught.value.reason
    return caught.value.reason


def _variant(tmp_path: Path, name: str, change: Any, source: str = "MR_small.dcm") -> str:
    ds = pydicom.dcmread(sample(source))
    change(ds)
    return write_native(ds, tmp_path / f"{name}.dcm")


@pytest.mark.parametrize("codec", PIXEL_CODECS)
def test_bits_allocated_1(codec: str) -> None:
    _refused(sample("liver_1frame.dcm"), codec, "Bits Allocated 1")


@pytest.mark.parametrize("codec", PIXEL_CODECS)
def test_subsampled_ybr_full_422(codec: str) -> None:
    _refused(sample("SC_ybr_full_422_uncompressed.dcm"), codec, "YBR_FULL_422")


@pytest.mark.parametrize("codec", PIXEL_CODECS)
def test_already_encapsulated(codec: str) -> None:
    _refused(sample("MR_small_RLE.dcm"), codec, "already encapsulated")


@pytest.mark.parametrize("codec", PIXEL_CODECS)
def test_float_pixel_data(codec: str, tmp_path: Path) -> None:
    def change(ds: pydicom.Dataset) -> None:
        values = ds.pixel_array.astype("<f4") / 3
        del ds.PixelData
        ds.FloatPixelData = values.tobytes()
        ds.BitsAllocated = 32
        for keyword in ("BitsStored", "HighBit", "PixelRepresentation"):
            delattr(ds, keyword)

    _refused(_variant(tmp_path, "float", change), codec, "float pixel data")


@pytest.mark.parametrize("codec", PIXEL_CODECS)
def test_high_bit_elsewhere(codec: str, tmp_path: Path) -> None:
    def change(ds: pydicom.Dataset) -> None:
        ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 12, 15, 0  # PS3.5 8.1.1 allows it

    _refused(_variant(tmp_path, "highbit", change), codec, "High Bit 15")


@pytest.mark.parametrize("codec", PIXEL_CODECS)
def test_pixel_data_shorter_than_the_frames(codec: str, tmp_path: Path) -> None:
    def change(ds: pydicom.Dataset) -> None:
        ds.NumberOfFrames = 3  # one frame's bytes only

    _refused(_variant(tmp_path, "short", change), codec, "the frames need")


@pytest.mark.parametrize("codec", PIXEL_CODECS)
def test_pixel_data_longer_than_the_frames(codec: str, tmp_path: Path) -> None:
    """Bytes past the last frame (and its pad byte) would be dropped by encoding the frames."""

    def change(ds: pydicom.Dataset) -> None:
        ds.PixelData = ds.PixelData + b"\x01\x02\x03\x04"

    _refused(_variant(tmp_path, "long", change), codec, "more than its frames")


def _unused_bits_set(ds: pydicom.Dataset) -> None:
    """examples_overlay (12-bit) with bit 13 set in some words: an overlay in the pixel data."""
    words = np.frombuffer(ds.PixelData, "<u2").copy()
    words[::97] |= 1 << 13
    ds.PixelData = words.tobytes()


@pytest.mark.parametrize("codec", BITS_LIMITED)
def test_values_above_bits_stored(codec: str, tmp_path: Path) -> None:
    path = _variant(tmp_path, "overlay_bits", _unused_bits_set, "examples_overlay.dcm")
    _refused(path, codec, "above Bits Stored")


# imagecodecs' HTJ2K encoder codes the array's 16 bits (its precision is the
# dtype's), so only JPEG-LS and JPEG 2000 streams, of Bits Stored bits, lose them.
@pytest.mark.parametrize("codec", ("jpeg-ls", "j2k"))
def test_values_above_bits_stored_caught_by_verification_too(
    codec: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without the up-front check, decoding again shows the lost bits: still NotCompressed."""
    path = _variant(tmp_path, "overlay_bits", _unused_bits_set, "examples_overlay.dcm")
    monkeypatch.setattr(frames_module, "out_of_range", lambda words, layout: None)
    monkeypatch.setattr(stream_module, "USE_PROCESSES", False)  # the patch is in this process
    reason = _refused(path, codec)
    assert "verification" in reason or "encoder failed" in reason


def test_rle_carries_the_bits_above_bits_stored(tmp_path: Path) -> None:
    """RLE codes every byte of Bits Allocated (PS3.5 G.2): the same words go compressed."""
    path = _variant(tmp_path, "overlay_bits", _unused_bits_set, "examples_overlay.dcm")
    data, _ = compress(path, "rle")
    if not have("dcmdrle"):
        pytest.skip("dcmdrle not installed")
    encoded = as_file(path, data, "rle", tmp_path / "rle.dcm")
    assert np.array_equal(independent_words("rle", encoded, tmp_path), source_words(path))


def _not_sign_extended(ds: pydicom.Dataset) -> None:
    """CT_small as signed 12-bit whose negative words have zero high bits."""
    arr = np.clip(ds.pixel_array.astype(np.int32) - 1024, -2048, 2047)
    ds.PixelData = (arr.astype("<i2").view("<u2") & 0x0FFF).tobytes()
    ds.BitsStored, ds.HighBit = 12, 11


@pytest.mark.parametrize("codec", BITS_LIMITED)
def test_signed_words_not_sign_extended(codec: str, tmp_path: Path) -> None:
    path = _variant(tmp_path, "no_sign", _not_sign_extended, "CT_small.dcm")
    assert (np.frombuffer(pydicom.dcmread(path).PixelData, "<u2") >= 0x800).any()
    _refused(path, codec, "not sign-extended")


@pytest.mark.parametrize("codec", BITS_LIMITED)
def test_bits_allocated_32(codec: str) -> None:
    _refused(sample("rtdose.dcm"), codec, "Bits Allocated 32")


def test_big_endian_32_bit() -> None:
    # PS3.5 A.3: OW with 32-bit words in big endian; which bytes are swapped is
    # not something to guess on someone's dose grid.
    _refused(sample("rtdose_expb.dcm"), "rle", "big endian")


def test_jpeg_ls_needs_two_bits(tmp_path: Path) -> None:
    def change(ds: pydicom.Dataset) -> None:
        ds.PixelData = (np.frombuffer(ds.PixelData, "<u1") & 1).tobytes()
        ds.BitsStored, ds.HighBit = 1, 0

    path = _variant(tmp_path, "onebit", change, "image_dfl.dcm")
    _refused(path, "jpeg-ls", "Bits Stored 1")


def test_jpeg_ls_ybr_full_16_bit(tmp_path: Path) -> None:
    def change(ds: pydicom.Dataset) -> None:
        arr = ds.pixel_array.astype("<u2")
        ds.PixelData, ds.BitsAllocated, ds.BitsStored, ds.HighBit = arr.tobytes(), 16, 16, 15
        ds.PhotometricInterpretation = "YBR_FULL"

    path = _variant(tmp_path, "ybr16", change, "examples_rgb_color.dcm")
    _refused(path, "jpeg-ls", "YBR_FULL with more than 8 bits")


def test_encoder_failure() -> None:
    """A 3x3 RGB image: CharLS's output buffer is too small; the library's error is the reason."""
    _refused(sample("SC_rgb_small_odd.dcm"), "jpeg-ls", "encoder failed")


@pytest.mark.parametrize("codec", PIXEL_CODECS)
def test_verification_mismatch(codec: str, monkeypatch: pytest.MonkeyPatch) -> None:
    real = codecs_module.CODECS[codec]

    def bad(data: bytes, layout: Any) -> Any:
        words = np.array(real.decode(data, layout))
        words.flat[7] ^= 1 << (layout.bits_allocated - 1)  # one bit of one sample
        return words

    monkeypatch.setitem(codecs_module.CODECS, codec, dataclasses.replace(real, decode=bad))
    monkeypatch.setattr(stream_module, "USE_PROCESSES", False)  # `bad` cannot be pickled
    _refused(sample("CT_small.dcm"), codec, "verification", "1 samples differ")
    # --no-verify-compression: the same goes out unchecked.
    data, _ = compress(sample("CT_small.dcm"), codec, verify=False)
    assert data


def test_jpeg_ls_signed_negative_narrower_than_allocated(
    derived: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DCMTK's dcmdjpls gives the 12-bit pattern back with zero high bits, not sign-extended."""
    path = derived["ct_12bit_signed"]
    _refused(path, "jpeg-ls", "JPEG-LS has no sign")
    # What the fallback prevents: encoded anyway, DCMTK's words differ from the source's.
    real = codecs_module.CODECS["jpeg-ls"]
    monkeypatch.setitem(
        codecs_module.CODECS, "jpeg-ls", dataclasses.replace(real, frame_check=None)
    )
    data, _ = compress(path, "jpeg-ls")
    if not have("dcmdjpls"):
        pytest.skip("dcmdjpls not installed")
    encoded = as_file(path, data, "jpeg-ls", tmp_path / "jls.dcm")
    assert not np.array_equal(independent_words("jpeg-ls", encoded, tmp_path), source_words(path))
