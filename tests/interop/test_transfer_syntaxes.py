"""Every transfer syntax, to real peers: the file arrives, or the sender says why not.

The corpus: every valid storage file shipped in the pydicom wheel (uncompressed,
deflated, JPEG baseline/extended/lossless, JPEG-LS, JPEG 2000, RLE) plus files made
here with DCMTK's tools (``dcmconv +td``, ``dcmcjpeg +eb/+ee/+el/+e1``, ``dcmcjpls``
lossless and ``+en``, ``dcmcrle``). Each goes to

(a) DCMTK storescp ``+xa`` (everything): it arrives in its own syntax, byte-equal
    datasets (the file's own syntax is proposed by default, ``+fs``);
(b) storescp ``+xi`` (implicit VR only): compressed files are decompressed before
    sending -- lossy ones only with ``+dly`` -- and the received pixels equal the
    sent file's decoded pixels;
(c) a storescp that accepts, for each compressed syntax, only that syntax (an
    asconfig profile for ``-xf``): it arrives compressed, unchanged;
(d) Orthanc: everything arrives as sent.

Plus deflate (``-xd +cl 0`` / ``+cl 9``) to storescp and Orthanc, a compressed file
with no decoder installed (not sent, a clear message, the next file still goes), and
files of 70 SOP classes in one run (140 contexts: two associations).
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import pydicom
import pytest
from pydicom.uid import generate_uid

from tests.conftest import GeneratedCT
from tests.helpers.data import BROKEN_PYDICOM_FILES, describe_file, pydicom_file
from tests.helpers.matching import assert_received_all, transfer_syntax, unique_uid_batches
from tests.helpers.peers import OrthancPeer, StorescpPeer
from tests.helpers.pixels import assert_received_all_decoded, is_compressed
from tests.helpers.proc import child_env
from tests.helpers.sender import send_to, skip_if_dcmtk_sender

pytestmark = [pytest.mark.interop, skip_if_dcmtk_sender]

DEFLATED = "1.2.840.10008.1.2.1.99"
JPEG_P14 = "1.2.840.10008.1.2.4.57"
IMPLICIT_OR_EXPLICIT = {"1.2.840.10008.1.2", "1.2.840.10008.1.2.1"}
IMPLICIT = "1.2.840.10008.1.2"
LOSSLESS = frozenset(
    {
        "1.2.840.10008.1.2.4.57",
        "1.2.840.10008.1.2.4.70",
        "1.2.840.10008.1.2.4.80",
        "1.2.840.10008.1.2.4.90",
        "1.2.840.10008.1.2.5",
    }
)
#: pydicom files no decoder here can decode (pydicom's own tests say so): not sent
#: to a peer that needs them decompressed, with the decoder's reason.
UNDECODABLE = {
    "JPEG-lossy.dcm": "libjpeg: misplaced marker segment",
    "JPEG2000-embedded-sequence-delimiter.dcm": "openjpeg: cannot read the header",
}
#: Invalid: an implicit VR dataset labelled JPEG baseline (refused when inspected).
INVALID = {"SC_rgb_jpeg.dcm"}
#: Every element of these is explicit VR "UN": DCMTK cannot read them (its own storescu
#: refuses to send them), so storescp and Orthanc (built on DCMTK) answer C000 when
#: they arrive as they are. Decompressed (b) they arrive, re-encoded properly.
DCMTK_CANNOT_READ = {"rtdose_rle.dcm", "rtdose_rle_1frame.dcm"}

# --- the corpus -------------------------------------------------------------------------


def _dcmtk(tool: str, *args: str) -> None:
    subprocess.run([f"/usr/bin/{tool}", *args], check=True, capture_output=True)


@pytest.fixture(scope="module")
def dcmtk_made(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Files compressed (or deflated) by DCMTK's tools."""
    import numpy as np

    out = tmp_path_factory.mktemp("dcmtk-made")
    ct = pydicom_file("CT_small.dcm")
    rgb = pydicom_file("SC_rgb_jpeg_dcmd.dcm")  # uncompressed 8-bit RGB, despite its name
    # A 12-bit unsigned CT for JPEG extended and near-lossless JPEG-LS.
    ds = pydicom.dcmread(ct)
    pixels = ds.pixel_array.astype(np.int32)
    ds.PixelData = ((pixels - pixels.min()) & 0x0FFF).astype(np.uint16).tobytes()
    ds.PixelRepresentation, ds.BitsStored, ds.HighBit = 0, 12, 11
    ds.SOPInstanceUID = generate_uid(entropy_srcs=["storescu-tests", "ct12"])
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ct12 = out / "ct12.dcm"
    ds.save_as(ct12)
    jobs = [
        ("dcmconv", ["+td"], ct, "deflated.dcm"),
        ("dcmcjpeg", ["+eb"], rgb, "jpeg_baseline.dcm"),
        ("dcmcjpeg", ["+ee"], ct12, "jpeg_extended.dcm"),
        ("dcmcjpeg", ["+el"], ct, "jpeg_lossless_p14.dcm"),
        ("dcmcjpeg", ["+e1"], ct, "jpeg_lossless_sv1.dcm"),
        ("dcmcjpls", [], ct, "jpegls_lossless.dcm"),
        ("dcmcjpls", ["+en"], ct12, "jpegls_near_lossless.dcm"),
        ("dcmcrle", [], ct, "rle.dcm"),
    ]
    made = []
    for tool, options, source, name in jobs:
        _dcmtk(tool, *options, str(source), str(out / name))
        made.append(out / name)
    return made


@pytest.fixture(scope="module")
def corpus(dcmtk_made: list[Path]) -> list[Path]:
    """Every valid storage file of the pydicom wheel, then the DCMTK-made ones."""
    from pydicom.data import get_testdata_files

    files = []
    for name in sorted(get_testdata_files()):
        path = Path(name)
        if not path.is_file() or path.name in BROKEN_PYDICOM_FILES or path.name in INVALID:
            continue
        if describe_file(path) is not None:
            files.append(path)
    syntaxes = {transfer_syntax(p) for p in files}
    assert len([ts for ts in syntaxes if is_compressed(ts)]) >= 8, syntaxes
    return files + dcmtk_made


def _decodable(files: list[Path]) -> list[Path]:
    return [p for p in files if p.name not in UNDECODABLE]


def _send_all(peer: object, files: list[Path], *options: str) -> str:
    # -R: many pydicom files have classes outside DCMTK's built-in list.
    result = send_to(peer, files, "-R", "--no-halt", "-v", *options, expect=None, timeout=300)
    return result.describe(limit=10**7)


# --- (a) storescp accepting everything --------------------------------------------------


def test_every_syntax_arrives_as_it_is_at_storescp_accepting_all(
    dcmtk_storescp: Callable[..., StorescpPeer], corpus: list[Path]
) -> None:
    peer = dcmtk_storescp("+xa")
    files = [p for p in corpus if p.name not in DCMTK_CANNOT_READ]
    log = _send_all(peer, files)
    pairs = assert_received_all_decoded(files, peer.received_files(), log)
    for sent, received in pairs:
        # A compressed file's own syntax was proposed and accepted, except JPEG
        # process 14, which storescp +xa does not accept: it was decompressed
        # (lossless). Uncompressed files may be converted (DCMTK's proposal puts
        # implicit VR next to explicit VR big endian; storescp takes explicit).
        sent_ts, got = transfer_syntax(sent), transfer_syntax(received)
        if sent_ts == JPEG_P14:
            assert got in IMPLICIT_OR_EXPLICIT, (sent.name, got)
        elif is_compressed(sent_ts):
            assert got == sent_ts, (sent.name, got, log)


# --- (b) storescp accepting implicit VR only -------------------------------------------


def test_compressed_files_are_decompressed_for_implicit_only_storescp(
    dcmtk_storescp: Callable[..., StorescpPeer], corpus: list[Path]
) -> None:
    peer = dcmtk_storescp("+xi")
    log = _send_all(peer, corpus, "+dly")
    expected = _decodable(corpus)
    pairs = assert_received_all_decoded(expected, peer.received_files(), log)
    assert {transfer_syntax(r) for _, r in pairs} == {IMPLICIT}
    for name, reason in UNDECODABLE.items():
        assert f"{name}: cannot convert" not in log  # it is undecodable, not unconvertible
        assert f"{name}: cannot decode its" in log, (reason, log)


def test_lossy_files_need_the_lossy_option(
    dcmtk_storescp: Callable[..., StorescpPeer], corpus: list[Path]
) -> None:
    compressed = [p for p in _decodable(corpus) if is_compressed(transfer_syntax(p))]
    lossless = [p for p in compressed if transfer_syntax(p) in LOSSLESS]
    lossy = [p for p in compressed if transfer_syntax(p) not in LOSSLESS]
    assert lossless and lossy
    peer = dcmtk_storescp("+xi")
    log = _send_all(peer, compressed)
    assert_received_all_decoded(lossless, peer.received_files(), log)
    for path in lossy:
        assert f"{path.name}: cannot convert from '" in log, log
    assert log.count("decompressed only with +dly (--decompress-lossy)") == len(lossy), log
    # -dn: nothing is decompressed.
    peer = dcmtk_storescp("+xi")
    log = _send_all(peer, lossless[:2], "-dn")
    assert peer.received_files() == []
    assert log.count("nothing is decompressed with -dn") == 2, log


# --- (c) storescp accepting only the file's own compressed syntax ----------------------


def _only_syntax_profile(path: Path, ts: str, classes: set[str]) -> Path:
    """An asconfig file whose profile "Only" accepts `classes` in `ts` alone."""
    lines = ["[[TransferSyntaxes]]", "[OnlyThis]", f"TransferSyntax1 = {ts}", ""]
    lines += ["[[PresentationContexts]]", "[Contexts]"]
    lines += [f"PresentationContext{i} = {c}\\OnlyThis" for i, c in enumerate(sorted(classes), 1)]
    lines += ["", "[[Profiles]]", "[Only]", "PresentationContexts = Contexts", ""]
    path.write_text("\n".join(lines))
    return path


def test_compressed_files_arrive_unchanged_where_only_their_syntax_is_accepted(
    dcmtk_storescp: Callable[..., StorescpPeer], corpus: list[Path], tmp_path: Path
) -> None:
    by_syntax: dict[str, list[Path]] = defaultdict(list)
    for path in corpus:
        ts = transfer_syntax(path)
        if (is_compressed(ts) or ts == DEFLATED) and path.name not in DCMTK_CANNOT_READ:
            by_syntax[ts].append(path)
    assert len(by_syntax) >= 9, sorted(by_syntax)
    for index, (ts, files) in enumerate(sorted(by_syntax.items())):
        classes = {str(pydicom.dcmread(p, stop_before_pixels=True).SOPClassUID) for p in files}
        config = _only_syntax_profile(tmp_path / f"only{index}.cfg", ts, classes)
        peer = dcmtk_storescp("-xf", str(config), "Only")
        # Deflate is no compressed syntax of its own (nothing to propose per file): -xd.
        options = ["-xd"] if ts == DEFLATED else []
        for batch in unique_uid_batches(files):  # storescp names files by UID: avoid clashes
            log = _send_all(peer, batch, *options)
        pairs = assert_received_all(files, peer.received_files(), log)
        assert {transfer_syntax(r) for _, r in pairs} == {ts}, log


# --- (d) Orthanc ----------------------------------------------------------------------


def _orthanc_can_index(path: Path) -> bool:
    """Orthanc refuses (A700) instances with none of these (its index needs them)."""
    ds = pydicom.dcmread(path, stop_before_pixels=True)
    return any(k in ds for k in ("PatientID", "StudyInstanceUID", "SeriesInstanceUID"))


def test_every_syntax_arrives_at_orthanc(orthanc: OrthancPeer, corpus: list[Path]) -> None:
    """Orthanc keeps one instance per UID: send batches of unique UIDs, check, clear."""
    files = [p for p in corpus if _orthanc_can_index(p) and p.name not in DCMTK_CANNOT_READ]
    assert len(corpus) - len(files) <= 6, [p.name for p in corpus if p not in files]
    for batch in unique_uid_batches(files):
        log = _send_all(orthanc, batch)
        pairs = assert_received_all(batch, orthanc.received_files(), log)
        for sent, received in pairs:  # Orthanc accepts every syntax: none was decompressed
            if is_compressed(transfer_syntax(sent)):
                assert transfer_syntax(received) == transfer_syntax(sent), (sent.name, log)
        orthanc.clear()


# --- deflate ----------------------------------------------------------------------------


def _bytes_sent(report: Path) -> int:
    rows = [json.loads(line) for line in report.read_text().splitlines() if line.strip()]
    assert all(r["outcome"] == "sent" for r in rows), rows
    return sum(int(r["bytes"]) for r in rows)


@pytest.mark.parametrize("peer_kind", ["storescp", "orthanc"])
def test_deflate_levels(
    peer_kind: str,
    dcmtk_storescp: Callable[..., StorescpPeer],
    request: pytest.FixtureRequest,
    generated_ct: GeneratedCT,
    tmp_path: Path,
) -> None:
    files = [pydicom_file("CT_small.dcm"), pydicom_file("MR_small_bigendian.dcm")]
    files.append(generated_ct.implicit)
    sizes = {}
    for level in ("0", "9"):
        peer: StorescpPeer | OrthancPeer
        if peer_kind == "storescp":
            peer = dcmtk_storescp("+xd")
        else:
            peer = request.getfixturevalue("orthanc")
            peer.clear()
        report = tmp_path / f"report-{peer_kind}-{level}.jsonl"
        result = send_to(peer, files, "-xd", "+cl", level, "--report", str(report))
        sizes[level] = _bytes_sent(report)
        pairs = assert_received_all(files, peer.received_files(), result.describe())
        for _, received in pairs:
            assert transfer_syntax(received) == DEFLATED
    # Level 0 stores (no compression); level 9 compresses the 512x512 random CT little
    # but the headers and the small images a lot.
    assert sizes["0"] > sizes["9"], sizes


# --- no decoder installed ------------------------------------------------------------------

_NO_CODECS = textwrap.dedent(
    """
    import sys
    # As if storescu[codecs] were not installed: every decoder and numpy are missing.
    for name in ("numpy", "pylibjpeg", "openjpeg", "libjpeg", "rle", "PIL", "gdcm", "jpeg_ls"):
        sys.modules[name] = None
    from storescu.cli.main import main
    sys.exit(main())
    """
)


def test_compressed_file_without_a_decoder_is_not_sent(
    dcmtk_storescp: Callable[..., StorescpPeer], tmp_path: Path
) -> None:
    wrapper = tmp_path / "storescu_without_codecs.py"
    wrapper.write_text(_NO_CODECS)
    peer = dcmtk_storescp("+xi")
    lossless = pydicom_file("MR_small_jpeg_ls_lossless.dcm")
    plain = pydicom_file("CT_small.dcm")
    argv = [sys.executable, str(wrapper), "--no-halt", "-v", peer.host, str(peer.port)]
    proc = subprocess.run(
        [*argv, str(lossless), str(plain)],
        capture_output=True,
        text=True,
        timeout=120,
        env=child_env(),
        check=False,
    )
    err = proc.stderr
    assert proc.returncode == 3, err  # --no-halt: the run completed, a file was not stored
    assert "cannot convert from 'JPEG-LS Lossless' to 'Little Endian Implicit'" in err, err
    assert "pip install 'storescu[codecs]'" in err, err
    assert "the peer accepted MRImageStorage only as 'Little Endian Implicit'" in err, err
    assert "Traceback" not in err
    # Nothing of the JPEG-LS file reached the peer; the next file did.
    received = peer.received_files()
    assert [str(pydicom.dcmread(p).SOPInstanceUID) for p in received] == [
        str(pydicom.dcmread(plain).SOPInstanceUID)
    ]
    assert "Store SCP Failed" not in peer.describe()


# --- more than 128 presentation contexts -------------------------------------------------


@pytest.fixture(scope="module")
def seventy_classes(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """CT_small relabelled with 70 storage SOP classes (and new instance UIDs)."""
    from pydicom._uid_dict import UID_dictionary

    classes = [
        uid
        for uid, (name, kind, _info, retired, _kw) in UID_dictionary.items()
        if kind == "SOP Class"
        and name.endswith("Storage")
        and uid.startswith("1.2.840.10008.5.1.4.1.1.")
        and not retired
    ][:70]
    assert len(classes) == 70
    out = tmp_path_factory.mktemp("seventy")
    files = []
    for index, uid in enumerate(classes):
        ds = pydicom.dcmread(pydicom_file("CT_small.dcm"))
        ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = uid
        ds.SOPInstanceUID = generate_uid(entropy_srcs=["storescu-tests", "seventy", str(index)])
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        path = out / f"class{index:02d}.dcm"
        ds.save_as(path)
        files.append(path)
    return files


def test_seventy_sop_classes_go_over_two_associations(
    dcmtk_storescp: Callable[..., StorescpPeer], seventy_classes: list[Path]
) -> None:
    peer = dcmtk_storescp("-pm")  # promiscuous: also classes DCMTK 3.6.7 does not know
    result = send_to(peer, seventy_classes, "-R", "-v")
    assert result.stderr.count("I: Requesting Association") == 2, result.describe()
    assert "70 inputs need 2 associations" in result.stderr
    assert "Too many presentation contexts" not in result.stderr
    assert_received_all(seventy_classes, peer.received_files(), result.describe())
    # Each association sends its files in input order: the first 64 classes, then 6.
    sent_order = [
        line.split("Sending file: ")[1]
        for line in result.stderr.splitlines()
        if "Sending file: " in line
    ]
    assert sent_order == [str(p) for p in seventy_classes]
