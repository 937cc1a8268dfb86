"""Fixtures: real images from pydicom's test data, and variants derived from them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
import pytest

from tests.unit.dataset.compress.helpers import sample, write_native


def _ct_12bit_signed(out: Path) -> str:
    """CT_small (signed 16-bit) as signed 12-bit: values moved down and clipped, sign-extended."""
    ds = pydicom.dcmread(sample("CT_small.dcm"))
    arr = np.clip(ds.pixel_array.astype(np.int32) - 1024, -2048, 2047).astype("<i2")
    assert (arr < 0).any()
    ds.PixelData, ds.BitsStored, ds.HighBit = arr.tobytes(), 12, 11
    return write_native(ds, out)


def _mr_15bit(out: Path) -> str:
    """MR_small as unsigned 15-bit."""
    ds = pydicom.dcmread(sample("MR_small.dcm"))
    arr = (ds.pixel_array.astype(np.int32) * 7 & 0x7FFF).astype("<u2")
    ds.PixelData, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = arr.tobytes(), 15, 14, 0
    return write_native(ds, out)


def _multiframe(out: Path) -> str:
    """MR_small as 6 frames (each shifted), a multi-frame image."""
    ds = pydicom.dcmread(sample("MR_small.dcm"))
    arr = ds.pixel_array
    frames = np.stack([np.roll(arr, 3 * i, axis=1) for i in range(6)]).astype("<i2")
    ds.PixelData, ds.NumberOfFrames = frames.tobytes(), 6
    return write_native(ds, out)


def _rgb_planar(out: Path) -> str:
    """examples_rgb_color (US, RGB, by pixel) with Planar Configuration 1."""
    ds = pydicom.dcmread(sample("examples_rgb_color.dcm"))
    arr = ds.pixel_array  # rows, columns, 3
    ds.PixelData, ds.PlanarConfiguration = np.ascontiguousarray(arr.transpose(2, 0, 1)).tobytes(), 1
    return write_native(ds, out)


DERIVED = {
    "ct_12bit_signed": _ct_12bit_signed,
    "mr_15bit": _mr_15bit,
    "multiframe": _multiframe,
    "rgb_planar": _rgb_planar,
}


@pytest.fixture(scope="session")
def derived(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Paths of the derived images, by name."""
    root = tmp_path_factory.mktemp("derived")
    return {name: make(root / f"{name}.dcm") for name, make in DERIVED.items()}


#: Frames of the streamed multi-frame image (512x512 16-bit: 512 KiB each).
BIG_FRAMES = 64


@pytest.fixture(scope="session")
def big_multiframe(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A 32 MiB multi-frame CT: CT_small's 128x128 tiled 4x4, shifted per frame."""
    ds = pydicom.dcmread(sample("CT_small.dcm"))
    tile = np.tile(ds.pixel_array, (4, 4))
    frames = np.stack([np.roll(tile, 5 * i, axis=0) for i in range(BIG_FRAMES)]).astype("<i2")
    ds.Rows, ds.Columns, ds.NumberOfFrames = 512, 512, BIG_FRAMES
    ds.PixelData = frames.tobytes()
    return write_native(ds, tmp_path_factory.mktemp("big") / "ct_multiframe.dcm")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """An exception a codec swallowed in a callback (imagecodecs' HTJ2K did) fails the test."""
    for item in items:
        if "/dataset/compress/" in item.nodeid:
            item.add_marker(
                pytest.mark.filterwarnings("error::pytest.PytestUnraisableExceptionWarning")
            )
