"""Storage Commitment (``--commit``, PS3.4 Annex J) against real Storage Commitment SCPs.

* Orthanc (Debian package): configured with our AE title, host and port as a
  modality, it reports on an association it opens back to ``--commit-port``.
* A pynetdicom Storage Commitment SCP reporting on the same association.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.helpers.commitpeer import PynetdicomCommitSCP
from tests.helpers.data import pydicom_file
from tests.helpers.net import free_port
from tests.helpers.peers import OrthancPeer, OurScpPeer
from tests.helpers.proc import child_env
from tests.helpers.sender import run_sender, sender_command, skip_if_dcmtk_sender

pytestmark = skip_if_dcmtk_sender  # DCMTK's storescu has no Storage Commitment

FILES = ("CT_small.dcm", "MR_small.dcm")


def _inputs() -> list[str]:
    return [str(pydicom_file(name)) for name in FILES]


def _rows(report: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in report.read_text().splitlines() if line.strip()]


@pytest.fixture(scope="module")
def orthanc_callback(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[OrthancPeer, int]]:
    """Orthanc that knows us (STORESCU at 127.0.0.1:port) as a modality to call back."""
    port = free_port()
    peer = OrthancPeer(
        tmp_path_factory.mktemp("orthanc-commit"),
        {"DicomModalities": {"storescu": ["STORESCU", "127.0.0.1", port]}},
    )
    yield peer, port
    peer.stop()


def test_orthanc_calls_back_every_instance_committed(
    orthanc_callback: tuple[OrthancPeer, int], tmp_path: Path
) -> None:
    orthanc, port = orthanc_callback
    report = tmp_path / "report.jsonl"
    result = run_sender(
        [
            "-v",
            "-aec",
            "ORTHANC",
            "--commit",
            "--commit-port",
            str(port),
            "--commit-timeout",
            "30",
            "--report",
            report,
            "127.0.0.1",
            str(orthanc.port),
            *_inputs(),
        ]
    )
    assert result.returncode == 0, result.describe()
    assert "Storage Commitment: 2 committed, 0 failed, 0 unconfirmed" in result.stderr
    assert "Storage Commitment association from" in result.stderr  # the call-back
    assert [row["commitment"] for row in _rows(report)] == ["committed", "committed"]


def test_orthanc_fails_an_instance_it_does_not_have(
    orthanc_callback: tuple[OrthancPeer, int], tmp_path: Path
) -> None:
    orthanc, port = orthanc_callback
    report = tmp_path / "report.jsonl"
    result = run_sender(
        [
            "-aec",
            "ORTHANC",
            "--commit",
            "--commit-port",
            str(port),
            "--report",
            report,
            "127.0.0.1",
            str(orthanc.port),
            _inputs()[0],
        ]
    )
    assert result.returncode == 0, result.describe()
    rows = _rows(report)
    made_up = dict(rows[0], sop_instance_uid="2.25.1234567890123456789", commitment=None)
    report.write_text("".join(json.dumps(r) + "\n" for r in (*rows, made_up)))
    # Checking later, without resending: the made-up instance comes back failed.
    check = run_sender(
        [
            "-aec",
            "ORTHANC",
            "--commit-check",
            report,
            "--commit-port",
            str(port),
            "127.0.0.1",
            str(orthanc.port),
        ]
    )
    assert check.returncode == 4, check.describe()
    assert "Storage Commitment: 1 committed, 1 failed, 0 unconfirmed" in check.stderr
    commitments = [row["commitment"] for row in _rows(report)]
    assert commitments == ["committed", "failed 0x0112 no such object instance"]


@pytest.fixture
def commit_scp() -> Iterator[type[PynetdicomCommitSCP]]:
    started: list[PynetdicomCommitSCP] = []

    class Factory(PynetdicomCommitSCP):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, **kwargs)  # type: ignore[arg-type]
            started.append(self)

    yield Factory
    for peer in started:
        peer.stop()


def test_pynetdicom_reports_on_the_same_association(
    commit_scp: type[PynetdicomCommitSCP], tmp_path: Path
) -> None:
    inputs = _inputs()
    ct_uid = "1.3.6.1.4.1.5962.1.1.1.1.1.20040119072730.12322"
    peer = commit_scp(fail=frozenset({ct_uid}))
    report = tmp_path / "report.csv"
    result = run_sender(
        ["-v", "--commit", "--report", report, "127.0.0.1", str(peer.port), *inputs]
    )
    assert result.returncode == 4, result.describe()
    assert "Storage Commitment: 1 committed, 1 failed, 0 unconfirmed" in result.stderr
    text = report.read_text()
    assert "failed 0x0110 processing failure" in text
    assert "commitment" in text.splitlines()[0].split(",")
    assert peer.report_statuses == [0]  # we answered its N-EVENT-REPORT with success


def test_batches_one_transaction_each(commit_scp: type[PynetdicomCommitSCP]) -> None:
    peer = commit_scp()
    result = run_sender(
        ["--commit", "--commit-batch", "1", "127.0.0.1", str(peer.port), *_inputs()]
    )
    assert result.returncode == 0, result.describe()
    assert len(peer.actions) == 2
    assert len({str(a.TransactionUID) for a in peer.actions}) == 2


def test_report_that_never_comes_is_unconfirmed(
    commit_scp: type[PynetdicomCommitSCP], tmp_path: Path
) -> None:
    peer = commit_scp(report=False)
    report = tmp_path / "report.jsonl"
    result = run_sender(
        [
            "--commit",
            "--commit-timeout",
            "1.5",
            "--report",
            report,
            "127.0.0.1",
            str(peer.port),
            *_inputs(),
        ]
    )
    assert result.returncode == 4, result.describe()
    assert result.seconds < 15
    assert "no report for 1 transaction(s) within 1.5 s" in result.stderr
    assert [row["commitment"] for row in _rows(report)] == ["unconfirmed", "unconfirmed"]


def test_ctrl_c_while_waiting(commit_scp: type[PynetdicomCommitSCP], tmp_path: Path) -> None:
    peer = commit_scp(report=False)
    report = tmp_path / "report.jsonl"
    argv = [*sender_command(), "-v", "--commit", "--commit-timeout", "60", "--report", str(report)]
    proc = subprocess.Popen(
        [*argv, "127.0.0.1", str(peer.port), *_inputs()],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=child_env(),
        start_new_session=True,
        text=True,
    )
    try:
        assert proc.stderr is not None
        deadline = time.monotonic() + 30
        seen = []
        for line in proc.stderr:
            seen.append(line)
            if "Waiting up to" in line or time.monotonic() > deadline:
                break
        assert any("Waiting up to" in line for line in seen), "".join(seen)
        os.kill(proc.pid, signal.SIGINT)
        _, rest = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
    assert proc.returncode == 130, "".join(seen) + rest
    assert "Storage Commitment: 0 committed, 0 failed, 2 unconfirmed" in rest
    assert [row["commitment"] for row in _rows(report)] == ["unconfirmed", "unconfirmed"]


@pytest.mark.parametrize("mode", ["same", "new"])
def test_our_scp_command_line_in_both_modes(
    mode: str, our_scp: Callable[..., OurScpPeer], tmp_path: Path
) -> None:
    port = free_port()
    ct_uid = "1.3.6.1.4.1.5962.1.1.1.1.1.20040119072730.12322"
    args = ["--commit", mode, "--commit-delay", "0.3", "--commit-fail", ct_uid]
    if mode == "new":
        args += ["--commit-report-to", f"127.0.0.1:{port}"]
    scp = our_scp(*args)
    report = tmp_path / "report.jsonl"
    listen = ["--commit-port", str(port)] if mode == "new" else []
    result = run_sender(
        ["-v", "--commit", *listen, "--report", report, "127.0.0.1", str(scp.port), *_inputs()]
    )
    assert result.returncode == 4, result.describe()
    assert [row["commitment"] for row in _rows(report)] == [
        "failed 0x0110 processing failure",
        "committed",
    ]
    assert ("Storage Commitment association from" in result.stderr) == (mode == "new")
