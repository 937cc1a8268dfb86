"""The truncation check's fast lane (dataset/elements.py) gives exactly what the general
loop of inspection._walk gives: the same FileInfo, or the same error, for whole files,
for every truncation of them and for corrupted bytes."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from pydicom.data import get_testdata_file

from storescu.dataset import inspection
from storescu.kernel.errors import StorescuError

SAMPLES = [
    "CT_small.dcm",  # explicit VR little endian
    "MR_small_bigendian.dcm",  # explicit VR big endian
    "rtplan.dcm",  # implicit VR, sequences of undefined length
    "JPEG2000.dcm",  # encapsulated pixel data
    "MR_small_implicit.dcm",  # implicit VR little endian
    "ExplVR_LitEndNoMeta.dcm",  # no meta header
    "UN_sequence.dcm",  # a sequence of VR UN
    "SC_rgb_small_odd.dcm",
]


def _outcome(path: str) -> object:
    try:
        return inspection.inspect_whole(path)[0]
    except StorescuError as exc:
        return f"{type(exc).__name__}: {exc}"


def _both(path: str, monkeypatch: pytest.MonkeyPatch) -> tuple[object, object]:
    fast = _outcome(path)
    with monkeypatch.context() as patch:
        # The general loop alone: the fast lane skips nothing.
        patch.setattr(inspection, "skip_plain", lambda lane, buf, base, pos, end: pos)
        general = _outcome(path)
    return fast, general


def _variants(data: bytes, rng: random.Random) -> list[bytes]:
    cuts = sorted(
        {len(data) - n for n in range(1, 64)} | {rng.randrange(len(data)) for _ in range(40)}
    )
    out = [data[:cut] for cut in cuts if cut > 0]
    for _ in range(60):  # a corrupted byte somewhere in the first 2 KiB (headers live there)
        pos = rng.randrange(min(len(data), 2048))
        out.append(data[:pos] + bytes([rng.randrange(256)]) + data[pos + 1 :])
    return out


@pytest.mark.parametrize("name", SAMPLES)
def test_fast_lane_matches_the_general_loop(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = get_testdata_file(name)
    assert source is not None
    data = Path(str(source)).read_bytes()
    rng = random.Random(name)
    whole = tmp_path / "whole.dcm"
    whole.write_bytes(data)
    fast, general = _both(str(whole), monkeypatch)
    assert fast == general
    assert isinstance(fast, inspection.FileInfo)
    for n, variant in enumerate(_variants(data, rng)):
        path = tmp_path / f"v{n}.dcm"
        path.write_bytes(variant)
        fast, general = _both(str(path), monkeypatch)
        assert fast == general, (n, len(variant))


def test_a_truncated_last_element_is_still_reported(tmp_path: Path) -> None:
    source = get_testdata_file("CT_small.dcm")
    assert source is not None
    path = tmp_path / "cut.dcm"
    path.write_bytes(Path(str(source)).read_bytes()[:-1])
    outcome = _outcome(str(path))
    assert isinstance(outcome, str) and "truncated" in outcome
