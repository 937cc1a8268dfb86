"""Inputs, reports and resuming against DCMTK storescp, with the real sender process.

A 500-file tree with a pattern and non-DICOM files; a run stopped with SIGINT and
resumed with ``--skip-sent``; a DICOMDIR made by DCMTK ``dcmmkdir``; ``--file-list``
from stdin. These are options of ours: skipped when the sender is DCMTK's.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from pydicom import dcmread

from tests.helpers.peers import StorescpPeer, require_executable
from tests.helpers.proc import child_env
from tests.helpers.sender import send_to, sender_command, skip_if_dcmtk_sender
from tests.helpers.tree import Tree, instance_uid, make_tree, write_instance

pytestmark = [pytest.mark.interop, skip_if_dcmtk_sender]

DCMMKDIR = "/usr/bin/dcmmkdir"
MEDIA_STORAGE_DIRECTORY = "1.2.840.10008.1.3.10"


def _rows(report: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in report.read_text().splitlines()]


def _received_uids(peer: StorescpPeer) -> list[str]:
    return [
        str(dcmread(path, stop_before_pixels=True, specific_tags=["SOPInstanceUID"]).SOPInstanceUID)
        for path in peer.received_files()
    ]


def _all_uids(tree: Tree) -> set[str]:
    return {instance_uid(n) for n in range(1, len(tree.dicom) + 1)}


def test_tree_of_500_files_every_one_in_the_report(
    dcmtk_storescp: Callable[..., StorescpPeer], tmp_path: Path
) -> None:
    tree = make_tree(tmp_path / "archive")  # 5 studies x 10 series x 10 images, and others
    assert len(tree.dicom) == 500
    peer = dcmtk_storescp()
    report = tmp_path / "report.jsonl"
    result = send_to(
        peer, [tree.root], "+sd", "+r", "+sp", "*.dcm", "--no-halt", "--report", str(report),
        expect=3,  # the two matching files that are not DICOM
    )  # fmt: skip
    rows = _rows(report)
    assert [r["path"] for r in rows] == [str(p) for p in tree.matching], result.describe()
    by_path = {r["path"]: r for r in rows}
    for path in tree.dicom:
        row = by_path[str(path)]
        assert row["outcome"] == "sent" and row["status"] == "0x0000"
        assert row["sop_instance_uid"] == tree.uid_of(path)
    assert {by_path[str(p)]["outcome"] for p in tree.invalid} == {"skipped-invalid-file"}
    assert [by_path[str(p)]["error"] for p in tree.invalid] == ["not a DICOM file", "empty file"]
    assert sorted(_received_uids(peer)) == sorted(_all_uids(tree))
    summary = result.stderr.strip().splitlines()[-1]
    assert summary.startswith("storescu: 502 files: 500 sent, 2 skipped-invalid-file | ")
    assert "\r" not in result.stderr  # not a terminal: no progress line


def _wait_for_rows(report: Path, rows: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and process.poll() is None:
        with contextlib.suppress(OSError):
            if len(report.read_text().splitlines()) >= rows:
                return
        time.sleep(0.05)
    pytest.fail(f"the sender wrote fewer than {rows} rows to {report} in time")


def test_sigint_midway_then_resume_sends_only_the_rest(
    dcmtk_storescp: Callable[..., StorescpPeer], tmp_path: Path
) -> None:
    tree = make_tree(tmp_path / "archive", studies=2, series=3, images=5)
    slow = dcmtk_storescp("--sleep-after", "1")  # one store per second
    first = tmp_path / "run1.jsonl"
    argv = [
        *sender_command(), "+sd", "+r", "+sp", "*.dcm", "--no-halt", "--report", str(first),
        slow.host, str(slow.port), str(tree.root),
    ]  # fmt: skip
    process = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=child_env()
    )
    try:
        _wait_for_rows(first, 2, process)
        process.send_signal(signal.SIGINT)  # Ctrl-C
        _, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    stderr = err.decode()
    assert process.returncode == 130, stderr
    assert "storescu: interrupted: 32 files:" in stderr and "F: interrupted" in stderr
    rows = _rows(first)
    assert [r["path"] for r in rows] == [str(p) for p in tree.matching]  # every input, once
    outcomes = Counter(r["outcome"] for r in rows)
    assert outcomes["sent"] >= 2 and outcomes["not-sent"] > 10
    # Inputs read ahead before the interrupt (to plan the proposal) were inspected,
    # so the invalid ones may already say so; the rest was not opened.
    invalid = {str(p) for p in tree.invalid}
    for row in rows:
        allowed = {"sent", "failed-outcome-unknown", "not-sent"}
        assert row["outcome"] in allowed | (
            {"skipped-invalid-file"} if row["path"] in invalid else set()
        )
    stored_first = {r["sop_instance_uid"] for r in rows if r["outcome"] == "sent"}

    fast = dcmtk_storescp()
    second = tmp_path / "run2.jsonl"
    result = send_to(
        fast, [tree.root], "+sd", "+r", "+sp", "*.dcm", "--no-halt", "--skip-sent", str(first),
        "--report", str(second), expect=3,
    )  # fmt: skip
    resumed = {r["path"]: r["outcome"] for r in _rows(second)}
    assert len(resumed) == len(tree.matching), result.describe()
    for row in rows:
        expected = "skipped-already-sent" if row["outcome"] == "sent" else "sent"
        if row["path"] in {str(p) for p in tree.invalid}:
            expected = "skipped-invalid-file"
        assert resumed[row["path"]] == expected, row["path"]
    received_second = set(_received_uids(fast))
    assert received_second == _all_uids(tree) - stored_first  # only the rest, and all of it
    assert stored_first <= set(_received_uids(slow))


def test_dicomdir_made_by_dcmmkdir(
    dcmtk_storescp: Callable[..., StorescpPeer], tmp_path: Path
) -> None:
    require_executable(DCMMKDIR, "apt-get install dcmtk")
    media = tmp_path / "media"
    files = [
        write_instance(media / f"SERIES{s}" / f"IMG{i}", s * 10 + i)
        for s in (1, 2)
        for i in (1, 2, 3)
    ]
    made = subprocess.run(
        [DCMMKDIR, "+r", "+id", ".", "+D", "DICOMDIR"],
        cwd=media,
        capture_output=True,
        text=True,
        check=False,
    )
    assert made.returncode == 0, made.stderr
    # Media copied by a tool that lowercased one folder: found case-insensitively.
    (media / "SERIES2").rename(media / "series2")
    peer = dcmtk_storescp()
    report = tmp_path / "report.jsonl"
    result = send_to(peer, [media / "DICOMDIR"], "-v", "--report", str(report))
    rows = _rows(report)
    assert len(rows) == 6 and {r["outcome"] for r in rows} == {"sent"}, result.describe()
    assert str(media / "DICOMDIR") not in {r["path"] for r in rows}
    assert MEDIA_STORAGE_DIRECTORY not in {r["sop_class_uid"] for r in rows}
    expected = {instance_uid(s * 10 + i) for s in (1, 2) for i in (1, 2, 3)}
    assert set(_received_uids(peer)) == expected  # the referenced files, not the DICOMDIR
    assert len(files) == len(peer.received_files())
    assert "DICOMDIR" in result.stderr and "references 6 file(s)" in result.stderr


def test_file_list_from_stdin(dcmtk_storescp: Callable[..., StorescpPeer], tmp_path: Path) -> None:
    files = [write_instance(tmp_path / f"{n}.dcm", n) for n in range(1, 21)]
    peer = dcmtk_storescp()
    listing = "".join(f"{path}\n" for path in files).encode()
    argv = [*sender_command(), "--file-list", "-", peer.host, str(peer.port)]
    done = subprocess.run(argv, input=listing, capture_output=True, env=child_env(), timeout=60)
    assert done.returncode == 0, done.stderr.decode()
    assert sorted(_received_uids(peer)) == sorted(instance_uid(n) for n in range(1, 21))
    assert done.stderr.decode().startswith("storescu: 20 files: 20 sent | ")
    assert os.path.exists(files[0])  # no +rn: nothing renamed
