"""RELIABILITY.md rows 1-13: bad and unusual inputs (row 11, the 3 GiB file, is in test_soak.py).

Each test runs the CLI against a well-behaved scripted peer (or DCMTK storescp
where the row names it) with ``--report`` and checks the six invariants
(:func:`tests.faults.invariants.check`).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.faults import files
from tests.faults.invariants import (
    EXIT_FAILURE,
    EXIT_INCOMPLETE,
    EXIT_SUCCESS,
    TIMEOUTS,
    CliRun,
    check,
    run_cli,
    storescp_endings,
)
from tests.helpers.hostile import HostilePeer, scenarios
from tests.helpers.peers import StorescpPeer

Hostile = Callable[..., HostilePeer]


def send(
    hostile: Hostile, report: Path, inputs: list[Path], *options: str
) -> tuple[CliRun, HostilePeer]:
    peer = hostile(scenarios.good())
    run = run_cli([*TIMEOUTS, *options, peer.host, str(peer.port), *inputs], report=report)
    peer.wait_idle()
    return run, peer


def bad_file_row(
    hostile: Hostile, report: Path, bad: Path, good: Path, cause: str, *options: str
) -> None:
    """A bad input among good ones: skipped with its cause, the rest sent (``--no-halt``)."""
    run, peer = send(hostile, report, [bad, good], "--no-halt", *options)
    check(
        run,
        exit_code=EXIT_INCOMPLETE,
        outcomes={str(bad): "skipped-invalid-file", str(good): "sent"},
        causes=[cause],
        names=[str(bad)],
        sessions=peer.sessions,
        endings=["release"],
    )
    assert len(peer.sessions[0].stores) == 1


def test_row01_zero_byte_file(hostile: Hostile, report: Path, tmp_path: Path, ct: Path) -> None:
    bad_file_row(hostile, report, files.empty(tmp_path / "empty.dcm"), ct, "empty file")


def test_row01_halt_mode_stops_at_the_bad_file(
    hostile: Hostile, report: Path, tmp_path: Path, ct: Path, mr: Path
) -> None:
    """Halt mode (DCMTK's default): exit 1, the inputs after it not sent and listed."""
    empty = files.empty(tmp_path / "empty.dcm")
    run, peer = send(hostile, report, [ct, empty, mr])
    check(
        run,
        exit_code=EXIT_FAILURE,
        outcomes={str(ct): "sent", str(empty): "skipped-invalid-file", str(mr): "not-sent"},
        causes=["empty file", "not sent: " + str(mr)],
        names=[str(empty)],
        sessions=peer.sessions,
        endings=["release"],
    )


def test_row02_non_dicom_file(hostile: Hostile, report: Path, tmp_path: Path, ct: Path) -> None:
    bad_file_row(hostile, report, files.not_dicom(tmp_path / "notes.dcm"), ct, "not a DICOM file")


def test_row03_truncated_file(hostile: Hostile, report: Path, tmp_path: Path, ct: Path) -> None:
    """pydicom would read it silently; the declared lengths are checked against the size."""
    bad = files.truncated(tmp_path / "truncated.dcm")
    bad_file_row(hostile, report, bad, ct, "truncated at offset")


def test_row04_no_meta_header_sent_with_plus_f(
    hostile: Hostile, report: Path, tmp_path: Path, ct: Path
) -> None:
    bare = files.without_meta(tmp_path / "bare.dcm")
    run, peer = send(hostile, report, [bare, ct], "+f")
    check(
        run,
        exit_code=EXIT_SUCCESS,
        outcomes={str(bare): "sent", str(ct): "sent"},
        causes=[],
        sessions=peer.sessions,
        endings=["release"],
    )
    row = run.rows()[0]
    assert row["file_transfer_syntax"] == "1.2.840.10008.1.2", row  # inferred: implicit VR
    assert peer.sessions[0].stores[0].sop_instance_uid == "1.2.826.0.1.3680043.8.498.99.1"


def test_row04_no_meta_header_skipped_with_plus_fo(
    hostile: Hostile, report: Path, tmp_path: Path, ct: Path
) -> None:
    bare = files.without_meta(tmp_path / "bare.dcm")
    bad_file_row(hostile, report, bare, ct, "meta header missing", "+fo")


def test_row05_meta_without_transfer_syntax_is_inferred(
    hostile: Hostile, report: Path, tmp_path: Path, ct: Path
) -> None:
    """Documented choice: the syntax is inferred from the dataset's first element."""
    odd = files.meta_without_syntax(tmp_path / "no-ts.dcm")
    run, peer = send(hostile, report, [odd, ct])
    check(
        run,
        exit_code=EXIT_SUCCESS,
        outcomes={str(odd): "sent", str(ct): "sent"},
        causes=[],
        sessions=peer.sessions,
        endings=["release"],
    )
    assert run.rows()[0]["file_transfer_syntax"] == "1.2.840.10008.1.2.1"


@pytest.mark.parametrize(
    ("make", "cause"),
    [
        (files.without_sop_class, "missing SOP Class UID"),
        (files.without_sop_instance, "missing SOP Instance UID"),
    ],
    ids=["class", "instance"],
)
def test_row06_missing_sop_uid(
    hostile: Hostile,
    report: Path,
    tmp_path: Path,
    ct: Path,
    make: Callable[[Path], Path],
    cause: str,
) -> None:
    bad_file_row(hostile, report, make(tmp_path / "no-uid.dcm"), ct, cause)


def test_row06_non_ascii_uid_is_invalid_not_a_crash(
    hostile: Hostile, report: Path, tmp_path: Path, ct: Path
) -> None:
    """Found by this suite: it escaped as UnicodeEncodeError and ended the whole run
    (no report rows at all). A UID that cannot be encoded makes the file invalid."""
    bad = files.with_raw_instance_uid(tmp_path / "latin1.dcm", b"1.\xe9.3.4")
    bad_file_row(hostile, report, bad, ct, "SOP Instance UID is not ASCII")


@pytest.mark.parametrize(
    "sop_class", ["1.2.3.4.5.6", "1.2.840.10008.5.1.4.31"], ids=["unknown", "worklist"]
)
def test_row07_unknown_or_non_storage_class_not_proposed(
    hostile: Hostile, report: Path, tmp_path: Path, ct: Path, sop_class: str
) -> None:
    """Not in the built-in proposal (``-fc``, DCMTK's behaviour; by default, +fc, the
    file's class is proposed and the peer decides, as in the ``-R`` test below):
    not-sent "No presentation context", warned at once."""
    odd = files.with_sop_class(tmp_path / "odd.dcm", sop_class)
    run, peer = send(hostile, report, [odd, ct], "--no-halt", "-fc")
    check(
        run,
        exit_code=EXIT_INCOMPLETE,
        outcomes={str(odd): "not-sent", str(ct): "sent"},
        causes=["No presentation context for", sop_class, "unknown storage SOP class"],
        names=[str(odd)],
        sessions=peer.sessions,
        endings=["release"],
    )
    assert [s.sop_class_uid for s in peer.sessions[0].stores] == [files.CT_IMAGE_STORAGE]


@pytest.mark.interop
def test_row07_with_required_only_reported_before_association(
    dcmtk_storescp: Callable[..., StorescpPeer], report: Path, tmp_path: Path, ct: Path
) -> None:
    """-R proposes the odd class; DCMTK storescp refuses it; the warning comes first."""
    odd = files.with_sop_class(tmp_path / "odd.dcm", "1.2.3.4.5.6")
    peer = dcmtk_storescp()
    run = run_cli(
        [*TIMEOUTS, "-v", "-R", "--no-halt", peer.host, str(peer.port), odd, ct], report=report
    )
    check(
        run,
        exit_code=EXIT_INCOMPLETE,
        outcomes={str(odd): "not-sent", str(ct): "sent"},
        causes=["No presentation context for", "unknown storage SOP class in file"],
        names=[str(odd)],
    )
    warned = run.stderr.index("unknown storage SOP class in file")
    assert warned < run.stderr.index("Requesting Association"), run.describe()
    assert len(peer.received_files()) == 1
    assert storescp_endings(peer) == ["release"]


def test_row08_uid_with_path_characters_is_data_not_a_path(
    hostile: Hostile, report: Path, tmp_path: Path
) -> None:
    """Sent as it is; renames (+rn) and the report never build a path from it."""
    uid = "1.2/../../escaped"
    work = tmp_path / "in"
    work.mkdir()
    odd = files.with_instance_uid(work / "odd.dcm", uid)
    before = {p for p in tmp_path.rglob("*")}
    run, peer = send(hostile, report, [odd], "+rn")
    check(
        run,
        exit_code=EXIT_SUCCESS,
        outcomes={str(odd): "sent"},
        causes=[],
        sessions=peer.sessions,
        endings=["release"],
    )
    assert peer.sessions[0].stores[0].sop_instance_uid == uid
    assert run.rows()[0]["sop_instance_uid"] == uid
    created = {p for p in tmp_path.rglob("*")} - before
    assert created == {report, work / "odd.dcm.done"}, created
    assert not (tmp_path.parent / "escaped").exists()


def test_row09_missing_path_and_directory_without_sd(
    hostile: Hostile, report: Path, tmp_path: Path, ct: Path
) -> None:
    missing = tmp_path / "missing.dcm"
    folder = tmp_path / "folder"
    folder.mkdir()
    run, peer = send(hostile, report, [missing, folder, ct], "--no-halt")
    check(
        run,
        exit_code=EXIT_INCOMPLETE,
        outcomes={
            str(missing): "skipped-invalid-file",
            str(folder): "ignored-directory",
            str(ct): "sent",
        },
        causes=["cannot access", "ignoring directory because option --scan-directories"],
        names=[str(missing)],
        sessions=peer.sessions,
        endings=["release"],
    )


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads unreadable files")
def test_row09_unreadable_file(hostile: Hostile, report: Path, tmp_path: Path, ct: Path) -> None:
    locked = files.copy_mr(tmp_path / "locked.dcm")
    locked.chmod(0)
    bad_file_row(hostile, report, locked, ct, "cannot access")


def test_row10_deeply_nested_sequences(
    hostile: Hostile, report: Path, tmp_path: Path, ct: Path
) -> None:
    """3000 levels: refused with a bounded walk, no RecursionError."""
    deep = files.deeply_nested(tmp_path / "deep.dcm")
    bad_file_row(hostile, report, deep, ct, "nested deeper")


@pytest.mark.interop
def test_row12_compressed_file_to_implicit_only_peer(
    dcmtk_storescp: Callable[..., StorescpPeer], report: Path, tmp_path: Path
) -> None:
    """Lossless RLE is decompressed (+dls, the default); lossy JPEG is not-sent before
    any byte of it goes out (DCMTK fails mid-send), and +dly would allow it."""
    rle = tmp_path / "rle.dcm"
    rle.write_bytes(files.pydicom_file("MR_small_RLE.dcm").read_bytes())
    jpeg = files.compressed(tmp_path / "jpeg.dcm")
    peer = dcmtk_storescp("+xi")
    run = run_cli([*TIMEOUTS, "--no-halt", peer.host, str(peer.port), rle, jpeg], report=report)
    check(
        run,
        exit_code=EXIT_INCOMPLETE,
        outcomes={str(rle): "sent", str(jpeg): "not-sent"},
        causes=["lossy compression", "+dly"],
        names=[str(jpeg)],
    )
    rows = run.rows()
    assert rows[0]["network_transfer_syntax"] == "1.2.840.10008.1.2", rows[0]
    assert rows[1]["message_id"] is None, rows[1]  # no C-STORE-RQ was ever started
    assert len(peer.received_files()) == 1
    assert storescp_endings(peer) == ["release"]
    assert peer.process.log().count("Received Store Request") == 1


def test_row13_more_than_128_contexts_split_over_associations(
    hostile: Hostile, report: Path, tmp_path: Path
) -> None:
    """-R with 70 SOP classes (140 contexts): two associations, every file sent."""
    inputs = files.many_classes(tmp_path / "classes", 70)
    run, peer = send(hostile, report, inputs, "-R")
    check(
        run,
        exit_code=EXIT_SUCCESS,
        outcomes={str(p): "sent" for p in inputs},
        causes=[],
        sessions=peer.sessions,
        endings=["release", "release"],
    )
    for session in peer.sessions:
        assert session.rq is not None and len(session.rq.presentation_contexts) <= 128
    assert sum(len(s.stores) for s in peer.sessions) == 70
