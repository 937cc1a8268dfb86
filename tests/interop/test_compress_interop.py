"""--compress against real peers (issue 18): DCMTK storescp +xa, Orthanc, pynetdicom.

Real images (pydicom's test files, and variants derived from them by the
compression tests' fixtures) go out with ``--compress CODEC``; each received
file is checked against its source: the transfer syntax is the one chosen, its
pixels decoded by a decoder other than the encoder (DCMTK ``dcmdjpls`` /
``dcmdrle``, imagecodecs' OpenJPEG for JPEG 2000, pylibjpeg-openjpeg for HTJ2K
encoded by OpenJPH; :mod:`tests.unit.dataset.compress.helpers`) equal the
source's stored words, and every other attribute equal (apart from what the
syntax requires: the Pixel Data group length, Planar Configuration of colour
images, PS3.5 8.2.3/8.2.4). Then the peers that accept only uncompressed
syntaxes or only the compressed context, a streamed multi-frame object
(length unknown) to DCMTK, and -P with the window.

DCMTK 3.6.7's storescp and Orthanc 1.10 do not know HTJ2K (1.2.840.10008.1.2.4.201):
HTJ2K goes to a pynetdicom SCP that accepts it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
import pytest
from pydicom.uid import generate_uid

from storescu.dataset.compress import CODEC_SYNTAXES, available_codecs
from tests.helpers.compare import assert_same_dataset
from tests.helpers.peers import OrthancPeer, PynetdicomPeer, StorescpPeer
from tests.helpers.sender import send_to, skip_if_dcmtk_sender
from tests.unit.dataset.compress.conftest import DERIVED
from tests.unit.dataset.compress.helpers import (
    have,
    independent_words,
    sample,
    source_words,
)

pytestmark = [pytest.mark.interop, skip_if_dcmtk_sender]

EXPLICIT_LE = "1.2.840.10008.1.2.1"
HTJ2K = CODEC_SYNTAXES["htj2k"]
#: (source, what it covers): CT, MR, CR-like 12-bit, US colour and palette,
#: big endian, signed, 8/12/15/16-bit, multi-frame.
REAL = (
    "CT_small.dcm",
    "MR_small_bigendian.dcm",
    "examples_rgb_color.dcm",
    "examples_palette.dcm",
    "examples_overlay.dcm",
)
DERIVED_NAMES = ("ct_12bit_signed", "mr_15bit", "multiframe", "rgb_planar")
#: JPEG-LS has no sign: negative values below Bits Allocated would come back with
#: high bits that depend on the receiver's decoder, so that file goes uncompressed
#: (storescu.dataset.compress; tests/unit/dataset/compress test it).
GOES_UNCOMPRESSED = {("jpeg-ls", "ct_12bit_signed.dcm")}
#: What a syntax may change besides the pixels (PS3.5 8.2.3, 8.2.4; A.4 group length).
ALLOWED_CHANGES = {0x7FE00000, 0x00280006}


def _unique(path: str, out: Path) -> str:
    """`path` again with a SOP Instance UID of its own (derived images share their
    source's; a peer keeps one instance per UID)."""
    ds = pydicom.dcmread(path)
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.save_as(out, enforce_file_format=True)
    return str(out)


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    root = tmp_path_factory.mktemp("compress-sources")
    paths = [_unique(sample(name), root / name) for name in REAL]
    paths += [
        _unique(DERIVED[name](root / f"{name}-0.dcm"), root / f"{name}.dcm")
        for name in DERIVED_NAMES
    ]
    return paths


def _need(codec: str) -> None:
    if codec not in available_codecs():
        pytest.skip(f"no {codec} encoder here")
    tool = {"jpeg-ls": "dcmdjpls", "rle": "dcmdrle"}.get(codec)
    if tool is not None and not have(tool):
        pytest.skip(f"{tool} not installed")


def _check(received: list[Path], sources: list[str], codec: str, tmp: Path) -> None:
    """Every source arrived once, in the codec's syntax, pixels and attributes equal."""
    by_uid = {str(pydicom.dcmread(p, stop_before_pixels=True).SOPInstanceUID): p for p in sources}
    got = {str(pydicom.dcmread(p, stop_before_pixels=True).SOPInstanceUID): p for p in received}
    assert sorted(got) == sorted(by_uid)
    for uid, path in got.items():
        source = by_uid[uid]
        syntax = pydicom.dcmread(path, stop_before_pixels=True).file_meta.TransferSyntaxUID
        if (codec, Path(source).name) in GOES_UNCOMPRESSED:
            # Sent as it is, the stored words unchanged (the fallback, not an error).
            assert syntax == EXPLICIT_LE, (source, syntax)
            assert_same_dataset(source, path, ignore=frozenset({0x7FE00000}))
            continue
        assert syntax == CODEC_SYNTAXES[codec], (source, syntax)
        words = independent_words(codec, path, tmp)
        assert np.array_equal(words, source_words(source)), source
        # Element by element (the trailing padding a storage peer drops aside).
        assert_same_dataset(source, path, ignore=frozenset({0x7FE00010, *ALLOWED_CHANGES}))
        photometric = pydicom.dcmread(path, stop_before_pixels=True).PhotometricInterpretation
        assert (
            photometric
            == pydicom.dcmread(source, stop_before_pixels=True).PhotometricInterpretation
        )


def _rows(report: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in report.read_text().splitlines()]


@pytest.mark.parametrize("codec", ["jpeg-ls", "rle", "j2k"])
def test_dcmtk_storescp_receives_each_codec(
    codec: str,
    sources: list[str],
    dcmtk_storescp: Callable[..., StorescpPeer],
    tmp_path: Path,
) -> None:
    _need(codec)
    peer = dcmtk_storescp("+xa")
    report = tmp_path / "run.jsonl"
    send_to(peer, sources, "--compress", codec, "--report", str(report), timeout=300)
    _check(peer.received_files(), sources, codec, tmp_path)
    for row in _rows(report):
        assert row["bytes"] > 0 and row["source_bytes"] > 0
        if (codec, Path(row["path"]).name) in GOES_UNCOMPRESSED:
            assert row["network_transfer_syntax"] == EXPLICIT_LE
            assert row["compression"]  # the reason it went as it is
            continue
        assert row["network_transfer_syntax"] == CODEC_SYNTAXES[codec]
        assert row["compression"] is None


@pytest.mark.parametrize("codec", ["jpeg-ls", "rle", "j2k"])
def test_orthanc_receives_each_codec(
    codec: str, sources: list[str], orthanc: OrthancPeer, tmp_path: Path
) -> None:
    _need(codec)
    send_to(orthanc, sources, "--compress", codec, timeout=300)
    received = orthanc.received_files()
    _check(received, sources, codec, tmp_path)


def test_htj2k_to_a_peer_that_accepts_it(
    sources: list[str], pynetdicom_scp: Callable[..., PynetdicomPeer], tmp_path: Path
) -> None:
    _need("htj2k")
    peer = pynetdicom_scp(transfer_syntaxes=[HTJ2K, EXPLICIT_LE])
    send_to(peer, sources, "--compress", "htj2k", timeout=300)
    _check(peer.received_files(), sources, "htj2k", tmp_path)


def test_peer_accepting_only_uncompressed_gets_every_file_uncompressed(
    sources: list[str], pynetdicom_scp: Callable[..., PynetdicomPeer], tmp_path: Path
) -> None:
    _need("jpeg-ls")
    peer = pynetdicom_scp()  # the three uncompressed syntaxes only
    report = tmp_path / "run.jsonl"
    result = send_to(peer, sources, "-v", "--compress", "jpeg-ls", "--report", str(report))
    received = peer.received_files()
    assert len(received) == len(sources)
    for path in received:
        syntax = pydicom.dcmread(path, stop_before_pixels=True).file_meta.TransferSyntaxUID
        assert syntax == EXPLICIT_LE
    assert all("did not accept" in (row["compression"] or "") for row in _rows(report))
    assert "sent uncompressed: the peer did not accept" in result.output


def test_peer_accepting_only_the_compressed_context(
    sources: list[str], pynetdicom_scp: Callable[..., PynetdicomPeer], tmp_path: Path
) -> None:
    _need("jpeg-ls")
    peer = pynetdicom_scp(transfer_syntaxes=[CODEC_SYNTAXES["jpeg-ls"]])
    # Those JPEG-LS cannot carry exactly have no context here: left out.
    carried = [p for p in sources if ("jpeg-ls", Path(p).name) not in GOES_UNCOMPRESSED]
    send_to(peer, carried, "--compress", "jpeg-ls")
    _check(peer.received_files(), carried, "jpeg-ls", tmp_path)


def test_parallel_and_window_with_compress(
    sources: list[str], dcmtk_storescp: Callable[..., StorescpPeer], tmp_path: Path
) -> None:
    _need("jpeg-ls")
    peer = dcmtk_storescp("+xa")
    send_to(
        peer, sources, "--compress", "jpeg-ls", "-P", "2", "--max-ops-invoked", "4", timeout=300
    )
    _check(peer.received_files(), sources, "jpeg-ls", tmp_path)


def test_streamed_multiframe_to_dcmtk(
    monkeypatch: pytest.MonkeyPatch,
    dcmtk_storescp: Callable[..., StorescpPeer],
    tmp_path: Path,
) -> None:
    """A multi-frame object streamed frame by frame (length unknown) arrives whole."""
    _need("jpeg-ls")
    import storescu
    import storescu.dataset.compress as compress
    from storescu.dataset.compress import opening

    monkeypatch.setattr(opening, "STREAM_ABOVE", 1024)  # stream even this small object
    lengths: list[int | None] = []
    real_open = compress.open_compressed

    def spy(*args: Any, **kwargs: Any) -> Any:
        reader = real_open(*args, **kwargs)
        lengths.append(reader.length)
        return reader

    monkeypatch.setattr(compress, "open_compressed", spy)
    source = _unique(DERIVED["multiframe"](tmp_path / "mf-0.dcm"), tmp_path / "multiframe.dcm")
    peer = dcmtk_storescp("+xa")
    result = storescu.send_files(peer.host, peer.port, [source], compress="jpeg-ls")
    (row,) = result.results
    assert row.outcome.stored and row.network_transfer_syntax == CODEC_SYNTAXES["jpeg-ls"]
    _check(peer.received_files(), [source], "jpeg-ls", tmp_path)
    assert lengths == [None]  # really streamed: the length was known only at the end
    assert row.bytes > 0
