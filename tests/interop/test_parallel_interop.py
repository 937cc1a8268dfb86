"""Parallel associations (``-P``) against real peers: DCMTK storescp, Orthanc, our SCP.

DCMTK ``storescp --fork`` serves each association in a child process (so in
parallel); without ``--fork`` it serves them one after the other, which must
still work (the other associations wait for their A-ASSOCIATE-AC). Orthanc
serves several at once. Every stored instance is compared with its file; the
report lists every input once, in input order. ``-P`` is ours: skipped when the
sender is DCMTK's.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from pydicom import dcmread

from tests.helpers.compare import assert_same_dataset
from tests.helpers.proc import child_env
from tests.helpers.sender import send_to, sender_command, skip_if_dcmtk_sender
from tests.helpers.tree import make_tree, write_instance

pytestmark = [pytest.mark.interop, skip_if_dcmtk_sender]


def _rows(report: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in report.read_text().splitlines()]


def _files(tmp_path: Path, count: int) -> list[Path]:
    return [write_instance(tmp_path / "in" / f"{n:03d}.dcm", n) for n in range(count)]


def _check_received(files: list[Path], received: list[Path]) -> None:
    """Each file arrived once, unchanged (matched by SOP Instance UID)."""
    by_uid = {dcmread(p, stop_before_pixels=True).SOPInstanceUID: p for p in received}
    assert len(by_uid) == len(received) == len(files)
    for path in files:
        uid = dcmread(path, stop_before_pixels=True).SOPInstanceUID
        assert_same_dataset(path, by_uid[uid])


def test_storescp_fork_receives_every_file_once(dcmtk_storescp: Any, tmp_path: Path) -> None:
    peer = dcmtk_storescp("--fork")
    files = _files(tmp_path, 60)
    report = tmp_path / "report.jsonl"
    send_to(peer, files, "-P", "4", "--report", str(report))
    rows = _rows(report)
    assert [r["path"] for r in rows] == [str(p) for p in files]  # input order
    assert {r["outcome"] for r in rows} == {"sent"}
    assert len({r["association"] for r in rows}) > 1
    _check_received(files, peer.received_files())


def test_storescp_without_fork_serves_the_associations_in_turn(
    dcmtk_storescp: Any, tmp_path: Path
) -> None:
    peer = dcmtk_storescp()
    files = _files(tmp_path, 12)
    result = send_to(peer, files, "-P", "3", "-v")
    assert result.output.count("Association Accepted") >= 1
    _check_received(files, peer.received_files())


def test_storescp_halt_and_no_halt(dcmtk_storescp: Any, tmp_path: Path) -> None:
    """storescp +xi accepts only implicit VR: a JPEG file cannot go (-fs, -dn)."""
    peer = dcmtk_storescp("--fork", "+xi")
    files = _files(tmp_path, 10)
    from pydicom.data import get_testdata_file

    jpeg = Path(str(get_testdata_file("JPEG2000.dcm")))
    inputs = [*files[:3], jpeg, *files[3:]]
    report = tmp_path / "nohalt.jsonl"
    send_to(peer, inputs, "-P", "3", "-fs", "-dn", "--no-halt", "--report", str(report), expect=3)
    outcomes = [r["outcome"] for r in _rows(report)]
    assert outcomes == ["sent"] * 3 + ["not-sent"] + ["sent"] * 7


def test_orthanc_stores_everything(orthanc: Any, tmp_path: Path) -> None:
    files = _files(tmp_path, 40)
    report = tmp_path / "report.jsonl"
    send_to(orthanc, files, "-P", "4", "--report", str(report))
    rows = _rows(report)
    assert [r["path"] for r in rows] == [str(p) for p in files]
    assert Counter(r["outcome"] for r in rows) == {"sent": 40}
    assert len(orthanc.instances()) == 40
    _check_received(files, orthanc.received_files())


def test_our_scp_with_repeat_and_invented_identities(our_scp: Any, tmp_path: Path) -> None:
    tree = make_tree(tmp_path / "tree", studies=1, series=2, images=6)
    peer = our_scp()
    report = tmp_path / "report.jsonl"
    send_to(peer, tree.dicom, "-P", "3", "--repeat", "2", "+IR", "5", "--report", str(report))
    rows = _rows(report)
    assert [r["path"] for r in rows] == [str(p) for p in tree.dicom for _ in range(2)]
    received = {
        (ds := dcmread(p, stop_before_pixels=True)).SOPInstanceUID: ds
        for p in peer.received_files()
    }
    assert len(received) == 24
    # +IR 5: a new series every 5 images, in input order whatever association sent it.
    stored = [received[r["sop_instance_uid"]] for r in rows]
    numbers = [(ds.SeriesNumber, ds.InstanceNumber) for ds in stored]
    assert numbers == [(n // 5, n % 5) for n in range(24)]


def test_sigint_aborts_every_association_and_accounts_for_every_file(
    dcmtk_storescp: Any, tmp_path: Path
) -> None:
    """storescp --sleep-after 1: each store takes a second, so four are under way."""
    peer = dcmtk_storescp("--fork", "--sleep-after", "1")
    files = _files(tmp_path, 40)
    report = tmp_path / "report.jsonl"
    argv = [*sender_command(), "-v", "-P", "4", "--report", str(report), peer.host,
            str(peer.port), *map(str, files)]  # fmt: skip
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               env=child_env())  # fmt: skip
    try:
        time.sleep(2.5)
        process.send_signal(signal.SIGINT)
        out, _ = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    output = out.decode()
    assert process.returncode == 130, output
    assert output.count("I: Aborting Association") == 4, output
    assert "Store SCU Failed" not in output  # stopped, not failed
    rows = _rows(report)
    assert [r["path"] for r in rows] == [str(p) for p in files]
    outcomes = Counter(r["outcome"] for r in rows)
    assert set(outcomes) <= {"sent", "failed-outcome-unknown", "not-sent"}
    assert outcomes["sent"] >= 4 and outcomes["failed-outcome-unknown"] <= 4
    assert outcomes["not-sent"] >= 20
