"""Shared helpers of the compression tests: sources, written files, independent decoders.

The encoded stream is checked by a decoder other than the encoder: DCMTK's
``dcmdjpls`` (its own CharLS fork) for JPEG-LS, ``dcmdrle`` for RLE,
pylibjpeg-openjpeg for JPEG 2000 (the encoder is imagecodecs' OpenJPEG: the
same library in another build and wrapper; no JPEG 2000 decoder of another
lineage installs from PyPI or Debian here) and pylibjpeg-openjpeg (OpenJPEG)
for HTJ2K (encoded by OpenJPH).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
from pydicom.data import get_testdata_file
from pydicom.dataset import Dataset

from storescu.dataset.compress import CODEC_SYNTAXES, CompressedReader, open_compressed
from storescu.dataset.inspection import inspect_file
from storescu.dataset.sources import build_file_meta

DCMTK = {"jpeg-ls": "dcmdjpls", "rle": "dcmdrle"}


def sample(name: str) -> str:
    """A file of pydicom's test data (shipped in the wheel, no network)."""
    path = get_testdata_file(name)
    assert path is not None, name
    return str(path)


def write_native(ds: Dataset, path: Path, syntax: str = "1.2.840.10008.1.2.1") -> str:
    """Write `ds` as a native little endian file (for images derived from a real one)."""
    ds.file_meta.TransferSyntaxUID = syntax
    ds.save_as(path, enforce_file_format=True)
    return str(path)


def compress(path: str, codec: str, **kwargs: Any) -> tuple[bytes, CompressedReader]:
    """The dataset bytes open_compressed produces, read to the end, and the reader."""
    info = inspect_file(path)
    reader = open_compressed(info, None, CODEC_SYNTAXES[codec], **kwargs)
    try:
        data = reader.read()
    finally:
        reader.close()
    return data, reader


def as_file(source: str, data: bytes, codec: str, out: Path) -> Path:
    """Our output with a file meta, as a storescp would store it."""
    info = inspect_file(source)
    meta = build_file_meta(info.sop_class_uid, info.sop_instance_uid, CODEC_SYNTAXES[codec])
    out.write_bytes(meta + data)
    return out


def source_words(path: str) -> np.ndarray[Any, Any]:
    """The source's stored words: (frames, rows, columns, samples), by pixel, little endian."""
    ds = pydicom.dcmread(path)
    size = ds.BitsAllocated // 8
    raw = ds.PixelData
    big = ds.file_meta.TransferSyntaxUID == "1.2.840.10008.1.2.2"
    if big and (size > 1 or ds["PixelData"].VR == "OW"):
        raw = np.frombuffer(raw, ">u2").astype("<u2").tobytes()
    frames = int(ds.get("NumberOfFrames", 1) or 1)
    samples = ds.get("SamplesPerPixel", 1)
    count = frames * ds.Rows * ds.Columns * samples
    words = np.frombuffer(raw, f"<u{size}", count=count)
    if samples > 1 and ds.get("PlanarConfiguration", 0) == 1:
        planes = words.reshape(frames, samples, ds.Rows, ds.Columns)
        return np.ascontiguousarray(planes.transpose(0, 2, 3, 1))
    return words.reshape(frames, ds.Rows, ds.Columns, samples)


def dcmtk_decoded(tool: str, encoded: Path, tmp: Path) -> Dataset:
    """`encoded` decompressed by a DCMTK tool, read back."""
    out = tmp / f"{encoded.stem}.{tool}.dcm"
    done = subprocess.run(
        [tool, str(encoded), str(out)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    return pydicom.dcmread(out)


def independent_words(codec: str, encoded: Path, tmp: Path) -> np.ndarray[Any, Any]:
    """The encoded file's frames decoded independently, as stored words by pixel."""
    ds = pydicom.dcmread(encoded)
    frames = int(ds.get("NumberOfFrames", 1) or 1)
    samples = ds.get("SamplesPerPixel", 1)
    size = ds.BitsAllocated // 8
    shape = (frames, ds.Rows, ds.Columns, samples)
    if codec in DCMTK:
        out = dcmtk_decoded(DCMTK[codec], encoded, tmp)
        words = np.frombuffer(out.PixelData, f"<u{size}", count=int(np.prod(shape)))
        if samples > 1 and out.get("PlanarConfiguration", 0) == 1:
            planes = words.reshape(frames, samples, ds.Rows, ds.Columns)
            return np.ascontiguousarray(planes.transpose(0, 2, 3, 1))
        return words.reshape(shape)
    from pydicom.encaps import generate_frames

    decoded = []
    for frame in generate_frames(ds.PixelData, number_of_frames=frames):
        import openjpeg

        arr = np.asarray(openjpeg.decode(frame))
        if arr.dtype.kind == "i":
            arr = arr.astype(f"<i{size}").view(f"<u{size}")
        decoded.append(arr.astype(f"<u{size}").reshape(shape[1:]))
    return np.stack(decoded)


_WORD: dict[str, str] = {"OW": "u2", "OF": "u4", "OL": "u4", "OD": "u8", "OV": "u8"}


def other_attributes(path: str | Path) -> dict[Any, Any]:
    """Every element but Pixel Data, as values, keyed by tag.

    pydicom gives OW/OF/OL/OD/OV values as the file's raw bytes: those of a
    big endian file are turned little endian here, so values compare.
    """
    ds = pydicom.dcmread(path)
    big = ds.file_meta.TransferSyntaxUID == "1.2.840.10008.1.2.2"
    out = {}
    for elem in ds:
        if elem.tag == 0x7FE00010:
            continue
        value = elem.value
        if big and elem.VR in _WORD and isinstance(value, bytes):
            value = (
                np.frombuffer(value, ">" + _WORD[elem.VR]).astype("<" + _WORD[elem.VR]).tobytes()
            )
        out[elem.tag] = value
    return out


def have(tool: str) -> bool:
    return shutil.which(tool) is not None


def corrupt_decode(data: bytes, layout: Any) -> Any:
    """RLE's decoder with one bit flipped: module-level, so a worker process can run it."""
    from storescu.dataset.compress.codecs import CODECS

    words = np.array(CODECS["rle"].decode(data, layout))
    words.flat[3] ^= 1
    return words


def expected_refusal(path: str, codec: str) -> str | None:
    """What open_compressed must refuse `path` with in `codec` (None: it must encode it).

    Worked out from the source independently of the package: Bits Allocated
    32 outside RLE; stored words a stream of Bits Stored bits cannot hold;
    JPEG-LS with negative values narrower than Bits Allocated.
    """
    ds = pydicom.dcmread(path)
    allocated, stored = ds.BitsAllocated, ds.BitsStored
    if codec == "rle":
        return None
    if allocated > 16:
        return "Bits Allocated 32"
    words = source_words(path).astype(np.int64)
    if stored < allocated:
        if ds.PixelRepresentation == 0 and (words >> stored).any():
            return "above Bits Stored"
        if ds.PixelRepresentation == 1:
            signed = np.where(words >= 1 << (allocated - 1), words - (1 << allocated), words)
            if (signed < -(1 << (stored - 1))).any() or (signed >= 1 << (stored - 1)).any():
                return "not sign-extended"
            if codec == "jpeg-ls" and (signed < 0).any():
                return "JPEG-LS has no sign"
    return None


#: Where scripts/test.sh unpacks the pydicom-data wheel (not installed: see there).
PYDICOM_DATA_DIR = Path(__file__).resolve().parents[4] / "build/pydicom-data/data_store/data"


def pydicom_data(name: str) -> str | None:
    """A real image of the pydicom-data wheel (CR, MR, CT, NM, US...), or None when absent.

    Looked up in ``$STORESCU_PYDICOM_DATA`` (set by scripts/test.sh), then in
    build/pydicom-data, then through pydicom when the package is installed;
    never downloaded here.
    """
    for folder in (os.environ.get("STORESCU_PYDICOM_DATA"), PYDICOM_DATA_DIR):
        if folder and (Path(folder) / name).is_file():
            return str(Path(folder) / name)
    try:
        path = get_testdata_file(name, download=False)
    except Exception:  # no external data source installed
        return None
    return None if path is None else str(path)
