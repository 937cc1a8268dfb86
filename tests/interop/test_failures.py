"""Rejections, failure and warning statuses, lost contexts, network failures.

Exit codes per BEHAVIOUR.md section 4: DCMTK's where it has them (1 fatal, status
high byte in halt mode, 10 network failure), and our distinct code 3 when
``--no-halt`` ran but some file was not stored (DCMTK exits 0 there: those checks
are skipped when the sender is DCMTK's storescu).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.data import pydicom_file
from tests.helpers.peers import OurScpPeer, PynetdicomPeer, StorescpPeer
from tests.helpers.sender import SENDER_IS_DCMTK, send_to, skip_if_dcmtk_sender

pytestmark = pytest.mark.interop

EXIT_FATAL = 1
EXIT_NETWORK = 10
EXIT_NO_HALT_INCOMPLETE = 3


@pytest.fixture
def files() -> list[Path]:
    return [pydicom_file(n) for n in ("CT_small.dcm", "MR_small.dcm", "rtplan.dcm")]


# --- rejected associations --------------------------------------------------------------


def test_rejected_by_storescp(
    dcmtk_storescp: Callable[..., StorescpPeer], files: list[Path]
) -> None:
    peer = dcmtk_storescp("--refuse")
    result = send_to(peer, files, expect=EXIT_FATAL)
    assert "Association Rejected" in result.stderr, result.describe()
    assert peer.received_files() == []


def test_rejected_for_wrong_called_ae(
    pynetdicom_scp: Callable[..., PynetdicomPeer], files: list[Path]
) -> None:
    peer = pynetdicom_scp(ae_title="PYSCP", require_called_aet=True)
    result = send_to(peer, files, "-aec", "SOMEONE-ELSE", expect=EXIT_FATAL)
    assert "Association Rejected" in result.stderr, result.describe()
    assert "called ae title not recognized" in result.stderr.lower(), result.describe()
    assert peer.requests == []


def test_nobody_listening(files: list[Path]) -> None:
    from tests.helpers.net import LOOPBACK, free_port

    class Closed:
        host = LOOPBACK
        port = free_port()

    result = send_to(Closed(), files, "-to", "5", expect=EXIT_FATAL)
    assert result.seconds < 30


# --- failure statuses -------------------------------------------------------------------

FAILURES = [
    (0xA700, "Refused: OutOfResources"),
    (0xC000, "Error: CannotUnderstand"),
    (0xA900, "Error: DataSetDoesNotMatchSOPClass"),
]


def _status_peer(request: pytest.FixtureRequest, kind: str, status: int, **extra: Any) -> Any:
    if kind == "pynetdicom":
        return request.getfixturevalue("pynetdicom_scp")(status=status, **extra)
    args = ["--status", f"{status:04X}"]
    if "error_comment" in extra:
        args += ["--error-comment", extra["error_comment"]]
    return request.getfixturevalue("our_scp")(*args)


@pytest.mark.parametrize("kind", ["pynetdicom", "our_scp"])
@pytest.mark.parametrize(("status", "text"), FAILURES, ids=[f"{s:04X}" for s, _ in FAILURES])
def test_failure_status_halts(
    request: pytest.FixtureRequest, files: list[Path], kind: str, status: int, text: str
) -> None:
    """Halt mode: exit code = the status's high byte; the other files are not sent."""
    peer = _status_peer(request, kind, status)
    result = send_to(peer, files, "-v", expect=status >> 8)
    assert f"Received Store Response ({text}" in result.stderr, result.describe()
    assert result.stderr.count("Sending Store Request") == 1, result.describe()
    if isinstance(peer, PynetdicomPeer):
        assert len(peer.requests) == 1
        peer.wait_for_associations_closed()
        assert peer.associations[0].outcome == "released"


@pytest.mark.parametrize("kind", ["pynetdicom", "our_scp"])
def test_failure_status_no_halt_sends_every_file(
    request: pytest.FixtureRequest, files: list[Path], kind: str
) -> None:
    peer = _status_peer(request, kind, 0xA700)
    result = send_to(peer, files, "-v", "--no-halt", expect=None)
    assert result.returncode != 0xA7, result.describe()
    assert result.stderr.count("Sending Store Request") == 3, result.describe()
    if isinstance(peer, PynetdicomPeer):
        assert [r.message_id for r in peer.requests] == [1, 2, 3]


@skip_if_dcmtk_sender
@pytest.mark.parametrize("kind", ["pynetdicom", "our_scp"])
def test_failure_status_no_halt_exit_code(
    request: pytest.FixtureRequest, files: list[Path], kind: str
) -> None:
    """Our deliberate difference: not 0 when --no-halt ran and a file was not stored."""
    peer = _status_peer(request, kind, 0xA700)
    send_to(peer, files, "--no-halt", expect=EXIT_NO_HALT_INCOMPLETE)


@skip_if_dcmtk_sender
def test_failure_shows_status_code_and_error_comment(
    pynetdicom_scp: Callable[..., PynetdicomPeer], files: list[Path]
) -> None:
    """Beyond DCMTK (which prints neither at -v): hex code and ErrorComment."""
    peer = pynetdicom_scp(status=0xA700, error_comment="disk full")
    result = send_to(peer, files, "-v", expect=0xA7)
    assert "a700" in result.stderr.lower(), result.describe()
    assert "disk full" in result.stderr, result.describe()


@pytest.mark.parametrize("kind", ["pynetdicom", "our_scp"])
def test_warning_status_is_success(
    request: pytest.FixtureRequest, files: list[Path], kind: str
) -> None:
    peer = _status_peer(request, kind, 0xB000)
    result = send_to(peer, files, "-v", expect=0)
    responses = result.stderr.count("Received Store Response (Warning: CoercionOfDataElements)")
    assert responses == 3, result.describe()
    if isinstance(peer, PynetdicomPeer):
        assert len(peer.requests) == 3


# --- no presentation context ------------------------------------------------------------


def test_sop_class_outside_the_default_proposal(
    pynetdicom_scp: Callable[..., PynetdicomPeer], files: list[Path]
) -> None:
    """DCMTK's proposal (DCMTK, or ours with -fc) lacks Segmentation: halt with exit 1
    before sending it. Ours proposes the files' classes by default (issue 14.1)."""
    segmentation = pydicom_file("liver_1frame.dcm")
    peer = pynetdicom_scp()
    dcmtk_proposal = [] if SENDER_IS_DCMTK else ["-fc"]
    result = send_to(peer, [segmentation, *files], "-v", *dcmtk_proposal, expect=EXIT_FATAL)
    assert "No presentation context for" in result.stderr, result.describe()
    assert "1.2.840.10008.5.1.4.1.1.66.4" in result.stderr, result.describe()
    assert peer.requests == []


@skip_if_dcmtk_sender
def test_sop_class_outside_dcmtk_list_is_proposed_by_default(
    pynetdicom_scp: Callable[..., PynetdicomPeer], files: list[Path]
) -> None:
    segmentation = pydicom_file("liver_1frame.dcm")
    peer = pynetdicom_scp()
    send_to(peer, [segmentation, *files])
    assert peer.requests[0].sop_class_uid == "1.2.840.10008.5.1.4.1.1.66.4"
    assert len(peer.requests) == 1 + len(files)


def test_context_rejected_by_peer_halts(
    pynetdicom_scp: Callable[..., PynetdicomPeer], files: list[Path]
) -> None:
    """The SCP accepts CT only: the MR file stops the run (halt mode), nothing after it."""
    peer = pynetdicom_scp(sop_classes=["1.2.840.10008.5.1.4.1.1.2"])
    result = send_to(peer, files, "-v", expect=EXIT_FATAL)
    assert "No presentation context for: (MR) 1.2.840.10008.5.1.4.1.1.4" in result.stderr
    assert len(peer.requests) == 1  # CT went first


def test_context_rejected_by_peer_no_halt(
    pynetdicom_scp: Callable[..., PynetdicomPeer], files: list[Path]
) -> None:
    peer = pynetdicom_scp(sop_classes=["1.2.840.10008.5.1.4.1.1.2"])
    reordered = [files[1], files[0], files[2]]  # MR (refused), CT, RT plan (refused)
    result = send_to(peer, reordered, "-v", "--no-halt", expect=None)
    assert result.stderr.count("No presentation context for") == 2, result.describe()
    assert [r.sop_class_uid for r in peer.requests] == ["1.2.840.10008.5.1.4.1.1.2"]
    if not SENDER_IS_DCMTK:
        assert result.returncode == EXIT_NO_HALT_INCOMPLETE, result.describe()


# --- network failure during a store -----------------------------------------------------


@pytest.mark.parametrize("when", ["--abort-after", "--abort-during"])
def test_peer_aborts_during_store(
    dcmtk_storescp: Callable[..., StorescpPeer], files: list[Path], when: str
) -> None:
    peer = dcmtk_storescp(when)
    result = send_to(peer, files, "-v", expect=EXIT_NETWORK)
    assert result.stderr.count("Sending Store Request") == 1, result.describe()


def test_our_scp_unknown_status_class(
    our_scp: Callable[..., OurScpPeer], files: list[Path]
) -> None:
    """0xFF00 is not a valid C-STORE final status: a failure (exit = high byte)."""
    peer = our_scp("--status", "FF00")
    send_to(peer, files, expect=0xFF)
