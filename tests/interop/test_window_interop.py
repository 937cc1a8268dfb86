"""The Asynchronous Operations Window (``--max-ops-invoked``, PS3.7 D.3.3.3) against
real peers: our SCP grants it (up to 16), pynetdicom answers its own (1), DCMTK
storescp does not negotiate it (one at a time, unchanged). Every file arrives
identical; the report lists each input once.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from pydicom import dcmread

from tests.helpers.compare import assert_same_dataset
from tests.helpers.sender import send_to, skip_if_dcmtk_sender
from tests.helpers.tree import write_instance

pytestmark = [pytest.mark.interop, skip_if_dcmtk_sender]


def _files(tmp_path: Path, count: int) -> list[Path]:
    return [write_instance(tmp_path / "in" / f"{n:03d}.dcm", n) for n in range(count)]


def _check(files: list[Path], received: list[Path], report: Path) -> None:
    rows = [json.loads(line) for line in report.read_text().splitlines()]
    assert sorted(r["path"] for r in rows) == sorted(str(p) for p in files)
    assert {r["outcome"] for r in rows} == {"sent"}
    by_uid = {dcmread(p, stop_before_pixels=True).SOPInstanceUID: p for p in received}
    assert len(by_uid) == len(received) == len(files)
    for path in files:
        assert_same_dataset(path, by_uid[dcmread(path, stop_before_pixels=True).SOPInstanceUID])


def _window(output: str) -> int:
    found = re.search(r"Asynchronous Operations Window: .*: (\d+) outstanding", output)
    assert found is not None, output
    return int(found.group(1))


def test_window_of_16_to_our_scp(our_scp: Any, tmp_path: Path) -> None:
    peer = our_scp()
    files = _files(tmp_path, 60)
    report = tmp_path / "report.jsonl"
    result = send_to(peer, files, "-v", "--max-ops-invoked", "16", "--report", str(report))
    assert _window(result.output) == 16
    _check(files, peer.received_files(), report)


def test_window_with_our_scp_limit(our_scp: Any, tmp_path: Path) -> None:
    peer = our_scp("--max-ops-performed", "3")
    files = _files(tmp_path, 10)
    report = tmp_path / "report.jsonl"
    result = send_to(peer, files, "-v", "--max-ops-invoked", "16", "--report", str(report))
    assert _window(result.output) == 3
    _check(files, peer.received_files(), report)


def test_window_to_pynetdicom_uses_its_answer(pynetdicom_scp: Any, tmp_path: Path) -> None:
    peer = pynetdicom_scp()
    files = _files(tmp_path, 12)
    report = tmp_path / "report.jsonl"
    result = send_to(peer, files, "-v", "--max-ops-invoked", "16", "--report", str(report))
    assert _window(result.output) == 1  # pynetdicom 3.0 grants no window: one at a time
    _check(files, peer.received_files(), report)


def test_window_to_dcmtk_storescp_is_unchanged(dcmtk_storescp: Any, tmp_path: Path) -> None:
    peer = dcmtk_storescp()
    files = _files(tmp_path, 12)
    report = tmp_path / "report.jsonl"
    result = send_to(peer, files, "-v", "--max-ops-invoked", "16", "--report", str(report))
    # storescp 3.6.7 leaves the sub-item out of its A-ASSOCIATE-AC: one at a time.
    assert _window(result.output) == 1
    _check(files, peer.received_files(), report)
