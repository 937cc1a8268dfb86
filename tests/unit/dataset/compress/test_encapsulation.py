"""The encoded dataset's structure: PS3.5 A.4 encapsulation, the attributes the syntax requires.

Each rule cited here is cited at the code that follows it.
"""

from __future__ import annotations

import dataclasses
import struct
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.encaps import generate_fragments, parse_basic_offsets

from storescu.dataset.compress import (
    CODEC_SYNTAXES,
    COMPRESS_CHOICES,
    PIXEL_CODECS,
    NotCompressed,
    available_codecs,
    missing_encoders,
    open_compressed,
)
from storescu.dataset.compress import codecs as codecs_module
from storescu.dataset.inspection import inspect_file
from tests.unit.dataset.compress.helpers import as_file, compress, pydicom_data, sample


@pytest.fixture(autouse=True)
def _codecs_here() -> None:
    if set(available_codecs()) != set(PIXEL_CODECS):
        pytest.skip("the codecs extra is not installed")


def _pixel_value(data: bytes) -> tuple[int, bytes]:
    """Offset of (7FE0,0010) and its value up to the delimiter (explicit VR little endian)."""
    start = data.index(struct.pack("<HH2sH", 0x7FE0, 0x0010, b"OB", 0))
    assert data[start + 8 : start + 12] == b"\xff\xff\xff\xff"  # undefined length (PS3.5 A.4)
    end = data.index(b"\xfe\xff\xdd\xe0\x00\x00\x00\x00", start)
    return start, data[start + 12 : end]


@pytest.mark.parametrize("codec", PIXEL_CODECS)
def test_one_even_fragment_per_frame_and_a_filled_offset_table(
    codec: str, derived: dict[str, str]
) -> None:
    """PS3.5 A.4: BOT item, then one item per fragment, even lengths; one frame per fragment."""
    data, _ = compress(derived["multiframe"], codec)
    _, value = _pixel_value(data)
    offsets = parse_basic_offsets(value)
    fragments = list(generate_fragments(value))[1:]  # after the offset table's item
    assert len(fragments) == len(offsets) == 6
    assert all(len(f) % 2 == 0 for f in fragments)
    position = 0
    for offset, fragment in zip(offsets, fragments, strict=True):
        assert offset == position
        position += 8 + len(fragment)


def test_elements_after_pixel_data_stay_after_it() -> None:
    """(FFFC,FFFC) Data Set Trailing Padding follows the encapsulated Pixel Data (PS3.5 7.1)."""
    path = sample("CT_small.dcm")
    assert 0xFFFCFFFC in pydicom.dcmread(path)
    data, _ = compress(path, "rle")
    start, value = _pixel_value(data)
    after = data[start + 12 + len(value) + 8 :]
    assert after.startswith(struct.pack("<HH2sH", 0xFFFC, 0xFFFC, b"OB", 0))


@pytest.mark.parametrize("codec", PIXEL_CODECS)
def test_planar_configuration(codec: str, derived: dict[str, str], tmp_path: Path) -> None:
    """PS3.5 8.2.3 (CP-1843), 8.2.4: 0 for JPEG-LS / JPEG 2000; PS3.5 G.2 note 2: RLE keeps 1."""
    path = derived["rgb_planar"]
    data, _ = compress(path, codec)
    ds = pydicom.dcmread(as_file(path, data, codec, tmp_path / "out.dcm"))
    assert ds.PlanarConfiguration == (1 if codec == "rle" else 0)
    assert ds.PhotometricInterpretation == "RGB"


@pytest.mark.parametrize("codec", ["j2k", "htj2k"])
def test_no_multiple_component_transform(codec: str, tmp_path: Path) -> None:
    """RGB stays RGB: the COD marker's MCT flag is 0 (else it would be YBR_RCT, PS3.5 8.2.4)."""
    path = sample("examples_rgb_color.dcm")
    data, _ = compress(path, codec)
    ds = pydicom.dcmread(as_file(path, data, codec, tmp_path / "out.dcm"))
    frame = list(generate_fragments(_pixel_value(data)[1]))[1]
    cod = frame.index(b"\xff\x52")  # ISO/IEC 15444-1 A.6.1: Lcod, Scod, progression, layers, MCT
    assert frame[cod + 8] == 0
    assert ds.PhotometricInterpretation == "RGB"


def test_in_memory_dataset_gives_the_same_bytes_as_the_file() -> None:
    """API inputs and rewritten datasets are passed as `dataset`; the result is the same."""
    path = sample("MR_small_bigendian.dcm")
    info = inspect_file(path)
    from_file, _ = compress(path, "jpeg-ls")
    ds = pydicom.dcmread(path)
    with open_compressed(info, ds, CODEC_SYNTAXES["jpeg-ls"]) as reader:
        assert reader.read() == from_file
    ds.PatientName = "Rewritten^Name"
    with open_compressed(info, ds, CODEC_SYNTAXES["jpeg-ls"]) as reader:
        assert b"Rewritten^Name" in reader.read()


def test_counters() -> None:
    data, reader = compress(sample("CT_small.dcm"), "jpeg-ls")
    assert reader.pixel_bytes_in == 128 * 128 * 2
    assert 0 < reader.encoded_bytes < reader.pixel_bytes_in
    assert reader.encode_seconds > 0
    assert reader.bytes_out == reader.length == len(data)
    assert reader.syntax == CODEC_SYNTAXES["jpeg-ls"]


def test_choices() -> None:
    assert COMPRESS_CHOICES == ("jpeg-ls", "j2k", "htj2k", "rle", "deflate", "auto")
    assert all(missing_encoders(choice) is None for choice in COMPRESS_CHOICES)


def test_missing_encoder_message(monkeypatch: pytest.MonkeyPatch) -> None:
    real = codecs_module.CODECS["htj2k"]
    absent = dataclasses.replace(real, modules=(("no_such_module_here", "ojph"),))
    monkeypatch.setitem(codecs_module.CODECS, "htj2k", absent)
    codecs_module.import_problem.cache_clear()
    try:
        message = missing_encoders("htj2k")
        assert message == (
            "--compress htj2k needs an HTJ2K encoder: pip install 'storescu[codecs]' "
            "(missing: ojph)"
        )
        assert "htj2k" not in available_codecs()
        assert missing_encoders("auto") is None  # auto uses what is there
        with pytest.raises(NotCompressed, match="not installed"):
            compress(sample("CT_small.dcm"), "htj2k")
    finally:
        codecs_module.import_problem.cache_clear()


def test_signed_values_survive_j2k(derived: dict[str, str], tmp_path: Path) -> None:
    """Signed 12-bit: a signed JPEG 2000 component; decoded words sign-extended like the source."""
    path = derived["ct_12bit_signed"]
    data, _ = compress(path, "j2k")
    frame = list(generate_fragments(_pixel_value(data)[1]))[1]
    siz = frame.index(b"\xff\x51")  # ISO/IEC 15444-1 A.5.1: Ssiz of component 0
    assert frame[siz + 40] == 0x80 | 11  # signed, 12 bits
    words = np.frombuffer(pydicom.dcmread(path).PixelData, "<u2")
    assert (words >= 0xF800).any()  # sign-extended negative words were there to keep


def test_a_dataset_read_by_read_deferred_reads_its_frames_from_the_file(tmp_path: Path) -> None:
    """A rewritten dataset whose Pixel Data stayed in the file (transcode.read_deferred)."""
    from pydicom.dataelem import RawDataElement

    from storescu.dataset.transcode import read_deferred

    path = pydicom_data("MR2_UNCR.dcm") or sample("examples_overlay.dcm")  # above DEFER_SIZE
    info = inspect_file(path)
    ds, info = read_deferred(info)
    item = ds.get_item(0x7FE00010, keep_deferred=True)
    assert isinstance(item, RawDataElement) and item.value is None  # left in the file
    ds.PatientID = "REWRITTEN"
    with open_compressed(info, ds, CODEC_SYNTAXES["rle"]) as reader:
        data = reader.read()
    out = pydicom.dcmread(as_file(path, data, "rle", tmp_path / "out.dcm"))
    assert out.PatientID == "REWRITTEN"
    assert np.array_equal(out.pixel_array, pydicom.dcmread(path).pixel_array)


def test_reading_after_close_gives_nothing() -> None:
    info = inspect_file(sample("CT_small.dcm"))
    reader = open_compressed(info, None, CODEC_SYNTAXES["rle"])
    assert reader.readinto(bytearray(10)) == 10
    reader.close()
    assert reader.readinto(bytearray(10)) == 0
