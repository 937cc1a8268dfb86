"""Real images encoded by open_compressed, decoded by another decoder, equal to the source's words.

Issue 18, tests: CT, MR, US colour (RGB) and palette, multi-frame, big
endian, signed, 8/12/15/16-bit; every other attribute equal.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from storescu.dataset.compress import PIXEL_CODECS, NotCompressed, available_codecs
from tests.unit.dataset.compress.helpers import (
    DCMTK,
    as_file,
    compress,
    expected_refusal,
    have,
    independent_words,
    other_attributes,
    pydicom_data,
    sample,
    source_words,
)

#: pydicom's real images: (file, what it covers).
REAL = {
    "CT_small.dcm": "CT, signed 16-bit",
    "MR_small.dcm": "MR, signed 16-bit",
    "MR_small_bigendian.dcm": "MR, explicit VR big endian",
    "MR_small_implicit.dcm": "MR, implicit VR",
    "ExplVR_BigEnd.dcm": "US RGB 8-bit, big endian, Planar Configuration 1",
    "examples_rgb_color.dcm": "US RGB 8-bit",
    "examples_palette.dcm": "US palette colour 8-bit",
    "examples_overlay.dcm": "MR 12-bit unsigned",
    "image_dfl.dcm": "OT 8-bit, deflated source",
}
#: Real images of the pydicom-data wheel (scripts/test.sh unpacks it under build/).
PYDICOM_DATA = {
    "RG1_UNCR.dcm": "CR 15-bit, MONOCHROME1, 1955x1841",
    "RG3_UNCR.dcm": "CR 10-bit",
    "MR2_UNCR.dcm": "MR 12-bit 1024x1024",
    "693_UNCR.dcm": "CT signed 14-bit",
    "JPEG2000_UNC.dcm": "NM signed 16-bit",
    "US1_UNCR.dcm": "US RGB 640x480",
    "color-pl.dcm": "US RGB, Planar Configuration 1",
    "gdcm-US-ALOKA-16.dcm": "US palette colour 16-bit, implicit VR",
    "OBXXXX1A_expb_2frame.dcm": "US palette colour 8-bit, big endian, 2 frames",
    "emri_small_big_endian.dcm": "MR 12-bit, 10 frames, big endian",
    "eCT_Supplemental.dcm": "enhanced CT, 2 frames",
    "SC_rgb_expb_16bit_2frame.dcm": "RGB 16-bit, big endian, 2 frames",
    "SC_rgb_32bit_2frame.dcm": "RGB 32-bit, 2 frames (RLE only)",
    "SC_ybr_full_uncompressed.dcm": "YBR_FULL 8-bit",
    "MR-SIEMENS-DICOM-WithOverlays.dcm": "MR 12-bit with overlays",
}
DERIVED = ("ct_12bit_signed", "mr_15bit", "multiframe", "rgb_planar")


def _path(name: str, derived: dict[str, str]) -> str:
    if name in derived:
        return derived[name]
    if name in PYDICOM_DATA:
        path = pydicom_data(name)
        if path is None:
            pytest.skip("pydicom-data images absent: scripts/test.sh fetches them")
        return path
    return sample(name)


@pytest.mark.parametrize("codec", PIXEL_CODECS)
@pytest.mark.parametrize("name", [*REAL, *PYDICOM_DATA, *DERIVED])
def test_independent_decoder_gets_the_stored_words(
    name: str, codec: str, derived: dict[str, str], tmp_path: Path
) -> None:
    if codec not in available_codecs():
        pytest.skip(f"{codec} encoder not installed")
    if codec in DCMTK and not have(DCMTK[codec]):
        pytest.skip(f"{DCMTK[codec]} not installed")
    source = _path(name, derived)
    refusal = expected_refusal(source, codec)
    if refusal is not None:  # test_fallbacks.py has each case
        with pytest.raises(NotCompressed, match=refusal):
            compress(source, codec)
        return
    data, reader = compress(source, codec)
    assert reader.length == len(data) and reader.exhausted
    encoded = as_file(source, data, codec, tmp_path / f"{codec}.dcm")
    got = independent_words(codec, encoded, tmp_path)
    want = source_words(source)
    assert got.dtype == want.dtype and got.shape == want.shape
    assert np.array_equal(got, want)  # every bit of Bits Allocated
    # Every other attribute as it was, apart from what the syntax requires.
    before, after = other_attributes(source), other_attributes(encoded)
    planar = 0x00280006
    if codec != "rle" and before.get(planar) == 1:
        assert after.pop(planar) == 0  # PS3.5 8.2.3 / 8.2.4
        before.pop(planar)
    # Group lengths (gggg,0000) are kept with the value of the new encoding
    # (PS3.5 7.2, as transcode does); every other value is unchanged, Lossy
    # Image Compression (0028,2110) included: never set, never changed.
    lengths = {tag for tag in before if tag & 0xFFFF == 0}
    assert lengths == {tag for tag in after if tag & 0xFFFF == 0}
    for tag in lengths:
        del before[tag], after[tag]
    assert after == before
