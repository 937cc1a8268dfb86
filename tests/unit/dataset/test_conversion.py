"""Conversions beyond the plain path (storescu.dataset.conversion, storescu.dataset.decompress,
storescu.dataset.transcode): decompression rules and results, deflate levels (PS3.5 A.5),
``-u`` (post-1993 VRs as OB, as DCMTK), and what is never imported or inflated."""

from __future__ import annotations

import ast
import dataclasses
import io
import json
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.data import get_testdata_file
from pydicom.dataset import Dataset
from pydicom.filereader import read_dataset

import storescu
from storescu.dataset import decompress, transcode
from storescu.dataset.conversion import Conversion
from storescu.dataset.inspection import inspect_file
from storescu.kernel.errors import ConversionError, UsageError
from storescu.run.items import dataset_items

ELE, EBE, ILE = "1.2.840.10008.1.2.1", "1.2.840.10008.1.2.2", "1.2.840.10008.1.2"
DEFLATED = "1.2.840.10008.1.2.1.99"
LOSSLESS_FILES = [
    "MR_small_RLE.dcm", "SC_rgb_rle_2frame.dcm", "SC_rgb_rle_16bit.dcm", "SC_rgb_rle_32bit.dcm",
    "MR_small_jp2klossless.dcm", "MR_small_jpeg_ls_lossless.dcm", "SC_rgb_jpeg_gdcm.dcm",
    "rtdose_rle_1frame.dcm",
]  # fmt: skip
LOSSY_FILES = [
    "SC_rgb_jpeg_dcmtk.dcm", "JPGExtended.dcm", "JPEG2000.dcm", "JPEGLSNearLossless_08.dcm",
    "examples_ybr_color.dcm",
]  # fmt: skip


def _path(name: str) -> str:
    path = get_testdata_file(name)
    assert path is not None, name
    return str(path)


def _read(reader: object, ts: str) -> Dataset:
    data = reader.read()  # type: ignore[attr-defined]
    if ts == DEFLATED:
        data = zlib.decompressobj(-zlib.MAX_WBITS).decompress(data)
    return read_dataset(io.BytesIO(data), ts == ILE, ts != EBE)


# --------------------------------------------------------------- Conversion.special


def test_special_only_when_needed() -> None:
    plain = Conversion()
    assert not plain.special(ELE, ELE)
    assert not plain.special(ELE, ILE)
    assert not plain.special(ELE, DEFLATED)  # level 6 is the plain path's
    assert not plain.special("1.2.840.10008.1.2.5", "1.2.840.10008.1.2.5")
    assert plain.special("1.2.840.10008.1.2.5", ILE)  # decompress
    assert Conversion(deflate_level=9).special(ELE, DEFLATED)
    assert not Conversion(deflate_level=9).special(DEFLATED, DEFLATED)  # sent as it is
    assert Conversion(new_vrs=False).special(ELE, ELE)
    assert not Conversion(new_vrs=False).special(ELE, ILE)  # implicit VR writes no VR


@pytest.mark.parametrize(
    "kwargs", [{"decompress": "sometimes"}, {"deflate_level": 10}, {"max_decoded": -1}]
)
def test_bad_settings(kwargs: dict[str, object]) -> None:
    with pytest.raises(UsageError):
        Conversion(**kwargs)  # type: ignore[arg-type]


# --------------------------------------------------------------------- decompression


@pytest.mark.parametrize("name", LOSSLESS_FILES)
@pytest.mark.parametrize("target", [ELE, ILE, EBE, DEFLATED])
def test_lossless_files_are_decompressed_to_any_uncompressed_syntax(name: str, target: str) -> None:
    info = inspect_file(_path(name))
    if target == EBE and name == "rtdose_rle_1frame.dcm":
        pytest.skip("32-bit OW in big endian: swapped per 16-bit word, pydicom reads 32")
    reader, instance = Conversion().open(info, None, target)
    assert instance == info.sop_instance_uid  # a transfer, not a new instance
    got = _read(reader, target)
    original = pydicom.dcmread(info.path)
    expected = original.pixel_array  # pydicom's own decoding, as_rgb as the sender
    got.file_meta = pydicom.dataset.FileMetaDataset()
    got.file_meta.TransferSyntaxUID = target
    assert np.array_equal(got.pixel_array, expected)
    for keyword in ("SOPInstanceUID", "PatientName", "Rows", "Columns", "BitsAllocated"):
        assert got.get(keyword) == original.get(keyword), keyword


@pytest.mark.parametrize("name", LOSSY_FILES)
def test_lossy_files_need_the_lossy_mode(name: str) -> None:
    info = inspect_file(_path(name))
    with pytest.raises(decompress.DecompressionError, match=r"lossy compression.*\+dly"):
        Conversion().open(info, None, ILE)
    reader, _ = Conversion(decompress="lossy").open(info, None, ILE)
    assert reader.length > 0


def test_ycbcr_becomes_rgb() -> None:
    info = inspect_file(_path("SC_rgb_jpeg_dcmtk.dcm"))
    reader, _ = Conversion(decompress="lossy").open(info, None, ELE)
    assert _read(reader, ELE).PhotometricInterpretation == "RGB"


def test_never_mode() -> None:
    info = inspect_file(_path("MR_small_RLE.dcm"))
    with pytest.raises(ConversionError, match="nothing is decompressed with -dn"):
        Conversion(decompress="never").open(info, None, ELE)


def test_size_limit_is_checked_before_decoding() -> None:
    info = inspect_file(_path("SC_rgb_rle_2frame.dcm"))  # 100 x 100 x 3 x 2 frames = 60000
    with pytest.raises(decompress.DecompressionError, match="more than the limit of 0 MiB"):
        Conversion(max_decoded=59_999).open(info, None, ELE)
    Conversion(max_decoded=60_000).open(info, None, ELE)


def test_htj2k_decodes(tmp_path: Path) -> None:
    """HTJ2K lossless: a JPEG 2000 (part 1) codestream labelled HTJ2K decodes with the
    same openjpeg plugin (pydicom's wheel ships no HTJ2K file)."""
    ds = pydicom.dcmread(_path("MR_small_jp2klossless.dcm"))
    ds.file_meta.TransferSyntaxUID = "1.2.840.10008.1.2.4.201"
    path = tmp_path / "htj2k.dcm"
    ds.save_as(path)
    reader, _ = Conversion().open(inspect_file(str(path)), None, ELE)
    original = pydicom.dcmread(_path("MR_small_jp2klossless.dcm")).pixel_array
    got = _read(reader, ELE)
    assert got.PixelData == original.astype(original.dtype.newbyteorder("<")).tobytes()


def test_in_memory_dataset_is_decompressed_on_a_copy() -> None:
    ds = pydicom.dcmread(_path("MR_small_RLE.dcm"))
    [item] = dataset_items([ds])
    reader, _ = item.open(ELE, conversion=Conversion())
    assert ds.file_meta.TransferSyntaxUID == "1.2.840.10008.1.2.5"  # unchanged
    assert len(_read(reader, ELE).PixelData) == 64 * 64 * 2


def test_no_decoder_names_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "numpy", None)  # as without storescu[codecs]
    info = inspect_file(_path("MR_small_jpeg_ls_lossless.dcm"))
    with pytest.raises(decompress.DecompressionError) as caught:
        Conversion().open(info, None, ILE)
    message = str(caught.value)
    assert message.startswith(
        "cannot convert from 'JPEG-LS Lossless' to 'Little Endian Implicit': numpy"
    )
    assert "pip install 'storescu[codecs]'" in message
    assert "send to a peer that accepts 'JPEG-LS Lossless' (proposed by -xt" in message


def test_video_is_never_decoded() -> None:
    assert decompress.decoder_problem("1.2.840.10008.1.2.4.102") == (
        "'1.2.840.10008.1.2.4.102' is video, which is never decoded"
    )


def test_compressed_to_another_compressed_syntax_is_refused() -> None:
    info = inspect_file(_path("MR_small_RLE.dcm"))
    with pytest.raises(ConversionError, match="compressing is not supported"):
        Conversion().open(info, None, "1.2.840.10008.1.2.4.50")


# --------------------------------------------------------------------------- deflate


def test_deflate_levels_and_even_length() -> None:
    data = bytes(range(256)) * 400 + b"x"
    for level in range(10):
        out = transcode._deflate(data, level)
        assert len(out) % 2 == 0  # PS3.5 A.5: padded to even length
        assert zlib.decompressobj(-zlib.MAX_WBITS).decompress(out) == data
    assert len(transcode._deflate(data, 0)) > len(transcode._deflate(data, 9))


def test_deflate_level_reaches_the_encoded_file() -> None:
    info = inspect_file(_path("CT_small.dcm"))
    sizes = {}
    for level in (0, 9):
        reader, _ = Conversion(deflate_level=level).open(info, None, DEFLATED)
        sizes[level] = reader.length
        assert _read(reader, DEFLATED).PatientName == "CompressedSamples^CT1"
        reader, _ = Conversion(deflate_level=level).open(info, None, DEFLATED)
    assert sizes[0] > sizes[9]


def test_odd_deflated_file_is_sent_padded(tmp_path: Path) -> None:
    from storescu.dataset.sources import open_dataset

    info = inspect_file(_path("image_dfl.dcm"))
    assert info.dataset_length % 2 == 1  # as written by its creator
    reader = open_dataset(info, DEFLATED)
    data = reader.read()
    assert len(data) == info.dataset_length + 1 and data.endswith(b"\x00")


# --------------------------------------------------------------------------------- -u


def _new_vr_dataset() -> Dataset:
    ds = Dataset()
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    ds.SOPInstanceUID = "1.2.3.4"
    ds.add_new(0x00081190, "UR", "http://example.org/x")  # RetrieveURL
    ds.add_new(0x00400441, "SQ", [])
    ds.add_new(0x0018990C, "UC", "unlimited characters")  # UC
    ds.add_new(0x00420011, "OB", b"\x01\x02")
    ds.add_new(0x00660040, "OL", b"\x01\x00\x00\x00")
    ds.add_new(0x00720082, "SV", [-5])
    ds.add_new(0x00720083, "UV", [5])
    ds.add_new(0x00287FE0, "UT", "unlimited text")
    block = ds.private_block(0x0009, "STORESCU", create=True)
    block.add_new(0x01, "UN", b"\x00\x01")
    return ds


def _explicit_vrs(data: bytes) -> dict[int, str]:
    ds = read_dataset(io.BytesIO(data), False, True)
    tags = ds.keys()  # the dataset's tags (iterating a Dataset gives its elements)
    return {int(tag): ds.get_item(tag).VR for tag in tags}


def test_disable_new_vrs_writes_them_as_ob() -> None:
    ds = _new_vr_dataset()
    new = _explicit_vrs(transcode.encode_dataset(ds, ELE))
    old = _explicit_vrs(transcode.encode_dataset(ds, ELE, old_vrs=True))
    assert {new[t] for t in (0x00081190, 0x0018990C, 0x00660040, 0x00720082, 0x00720083)} == {
        "UR", "UC", "OL", "SV", "UV"
    }  # fmt: skip
    for tag in (0x00081190, 0x0018990C, 0x00660040, 0x00720082, 0x00720083, 0x00287FE0):
        assert old[tag] == "OB", hex(tag)
    assert old[0x00091001] == "OB"  # UN too
    assert old[0x00420011] == "OB" and old[0x00400441] == "SQ"
    # The values are the same bytes: only the VR (and its header) changed.
    a = read_dataset(io.BytesIO(transcode.encode_dataset(ds, ELE)), False, True)
    b = read_dataset(io.BytesIO(transcode.encode_dataset(ds, ELE, old_vrs=True)), False, True)
    assert a.get_item(0x00287FE0).value == b.get_item(0x00287FE0).value


def test_disable_new_vrs_for_a_file() -> None:
    info = inspect_file(_path("CT_small.dcm"))
    reader, _ = Conversion(new_vrs=False).open(info, None, ELE)
    vrs = _explicit_vrs(reader.read())
    assert "UN" not in vrs.values() and "UT" not in vrs.values()
    assert dataclasses.replace(Conversion(), new_vrs=False).special(ELE, ELE)


# ------------------------------------------------------------ imports and inflation


def test_the_plain_path_imports_no_codec() -> None:
    code = (
        "import sys, json, storescu.run.sender, storescu.dataset.conversion, storescu.cli.main; "
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('numpy', 'pylibjpeg', 'openjpeg', 'libjpeg', 'rle', 'pydicom'))))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert json.loads(result.stdout) == []


def test_nothing_from_the_peer_is_inflated() -> None:
    """The sender inflates only its own input files (capped); no module that handles
    what a peer sends imports zlib."""
    package = Path(storescu.__file__).parent
    modules = (
        "protocol/pdu",
        "protocol/state",
        "protocol/association",
        "protocol/dimse",
        "protocol/negotiation",
        "net/client",
        "net/transport",
        "scp/server",
    )
    for name in modules:
        tree = ast.parse((package / f"{name}.py").read_text())
        imported = {
            alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.Import | ast.ImportFrom)
            for alias in node.names
        } | {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
        assert "zlib" not in imported, name
