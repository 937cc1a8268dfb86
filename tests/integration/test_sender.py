"""The sender against the project's own SCP, in process (loopback sockets).

These check the run logic (halt / no-halt, repeat, accounting, conversion,
exit codes, messages) quickly and deterministically; tests/interop does the
same against DCMTK, Orthanc and pynetdicom.
"""

from __future__ import annotations

import io
import os
import socket
from pathlib import Path

import pydicom
import pytest
from pydicom.data import get_testdata_file

import storescu
from storescu.cli.main import main
from storescu.kernel.constants import EXPLICIT_VR_BIG_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN
from storescu.run.options import SendOptions
from storescu.run.results import Outcome
from storescu.scp import StoreSCP

CT = str(get_testdata_file("CT_small.dcm"))
MR_BE = str(get_testdata_file("MR_small_bigendian.dcm"))
RTPLAN = str(get_testdata_file("rtplan.dcm"))
JPEG = str(get_testdata_file("JPEG2000.dcm"))


@pytest.fixture
def scp(tmp_path: Path):  # type: ignore[no-untyped-def]
    with StoreSCP(output_dir=str(tmp_path / "in")) as server:
        yield server


def _cli(*argv: str) -> tuple[int, str]:
    err = io.StringIO()
    code = main(list(argv), stdout=io.StringIO(), stderr=err)
    return code, err.getvalue()


def _same_dataset(sent: str, received: str) -> None:
    a = pydicom.dcmread(sent)
    b = pydicom.dcmread(received)
    assert [e.tag for e in a] == [e.tag for e in b]
    same_syntax = a.file_meta.TransferSyntaxUID == b.file_meta.TransferSyntaxUID
    for elem in a:
        if elem.tag == 0x7FE00010 and not same_syntax:
            continue  # byte order of pixel data differs by design; checked in tests/unit
        assert b[elem.tag].value == elem.value, elem.tag


def test_sends_and_received_datasets_match(scp: StoreSCP) -> None:
    code, err = _cli("-v", "127.0.0.1", str(scp.port), CT, MR_BE, RTPLAN)
    assert code == 0, err
    assert "I: Sending Store Request (MsgID 1, CT)" in err
    assert "I: Received Store Response (Success)" in err
    assert "I: Releasing Association" in err
    assert len(scp.received) == 3
    for sent, got in zip((CT, MR_BE, RTPLAN), scp.received, strict=True):
        assert got.path is not None
        _same_dataset(sent, got.path)


def test_repeat_uses_increasing_message_ids(scp: StoreSCP) -> None:
    result = storescu.send_files(
        "127.0.0.1", scp.port, [CT, MR_BE], options=SendOptions(repeat=3)
    )
    assert [r.message_id for r in result.results] == [1, 2, 3, 4, 5, 6]
    assert len(scp.received) == 6
    assert result.associations == 1


def test_conversion_to_implicit_when_only_implicit_accepted(tmp_path: Path) -> None:
    only_implicit = frozenset({IMPLICIT_VR_LITTLE_ENDIAN})
    with StoreSCP(output_dir=str(tmp_path), accepted_syntaxes=only_implicit) as server:
        result = storescu.send_files("127.0.0.1", server.port, [MR_BE, CT])
    assert [r.outcome for r in result.results] == [Outcome.SENT, Outcome.SENT]
    assert {r.network_transfer_syntax for r in result.results} == {IMPLICIT_VR_LITTLE_ENDIAN}
    received = pydicom.dcmread(server.received[0].path)
    original = pydicom.dcmread(MR_BE)
    assert received.file_meta.TransferSyntaxUID == IMPLICIT_VR_LITTLE_ENDIAN
    # OW pixel data was byte-swapped from big to little endian.
    words = original.PixelData
    swapped = b"".join(words[i + 1 : i + 2] + words[i : i + 1] for i in range(0, len(words), 2))
    assert received.PixelData == swapped


def test_compressed_file_on_uncompressed_context_is_not_sent(tmp_path: Path) -> None:
    only_explicit = frozenset({EXPLICIT_VR_BIG_ENDIAN})
    with StoreSCP(output_dir=str(tmp_path), accepted_syntaxes=only_explicit) as server:
        code, err = _cli("--no-halt", "-R", "127.0.0.1", str(server.port), JPEG, MR_BE)
        assert len(server.received) == 1  # only the MR; nothing of the JPEG file
    assert code == 3
    assert "cannot convert" in err


def test_failure_status_halts_and_lists_unsent(tmp_path: Path) -> None:
    with StoreSCP(status=0xA700, error_comment="disk full") as server:
        code, err = _cli("127.0.0.1", str(server.port), CT, MR_BE, RTPLAN)
        assert len(server.received) == 1
    assert code == 0xA7
    assert "0xA700" in err and "Refused: OutOfResources" in err and "disk full" in err
    assert f"not sent: {MR_BE}" in err and f"not sent: {RTPLAN}" in err


def test_failure_status_no_halt_tries_everything() -> None:
    with StoreSCP(status=0xC000) as server:
        result = storescu.send_files(
            "127.0.0.1", server.port, [CT, MR_BE], options=SendOptions(halt=False)
        )
        assert len(server.received) == 2
    assert [r.outcome for r in result.results] == [Outcome.FAILED_STATUS] * 2
    assert result.results[0].status_text == "Error: CannotUnderstand"
    code, _ = _cli("--no-halt", "127.0.0.1", str(server.port), CT)  # server stopped
    assert code == 1


def test_warning_status_counts_as_stored() -> None:
    with StoreSCP(status=0xB000) as server:
        code, err = _cli("127.0.0.1", str(server.port), CT)
    assert code == 0
    assert "Warning: CoercionOfDataElements" in err


def test_invalid_inputs_are_accounted(tmp_path: Path, scp: StoreSCP) -> None:
    empty = tmp_path / "empty.dcm"
    empty.write_bytes(b"")
    text = tmp_path / "notes.txt"
    text.write_text("not dicom at all " * 20)
    missing = tmp_path / "missing.dcm"
    paths = [str(empty), CT, str(text), str(missing), MR_BE]
    result = storescu.send_files("127.0.0.1", scp.port, paths, options=SendOptions(halt=False))
    assert [r.path for r in result.results] == paths
    assert [r.outcome for r in result.results] == [
        Outcome.SKIPPED_INVALID,
        Outcome.SENT,
        Outcome.SKIPPED_INVALID,
        Outcome.SKIPPED_INVALID,
        Outcome.SENT,
    ]
    # Halt mode stops at the first bad file, after the files before it.
    code, err = _cli("127.0.0.1", str(scp.port), CT, str(empty), MR_BE)
    assert code == 1
    assert "empty file" in err
    assert f"not sent: {MR_BE}" in err


def test_no_presentation_context(tmp_path: Path, scp: StoreSCP) -> None:
    ds = pydicom.dcmread(CT)
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.2.1"  # Enhanced CT: not in the seed list
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    enhanced = tmp_path / "enhanced.dcm"
    ds.save_as(enhanced)
    # -fc: DCMTK's proposal (by default the file's own class is proposed too).
    code, err = _cli("--no-halt", "-fc", "127.0.0.1", str(scp.port), str(enhanced), CT)
    assert code == 3
    assert "E: No presentation context for: (CTe) 1.2.840.10008.5.1.4.1.1.2.1" in err
    # -R proposes the files' own classes, so it goes.
    code, err = _cli("-R", "127.0.0.1", str(scp.port), str(enhanced))
    assert code == 0, err


def test_association_refused_is_fatal() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    code, err = _cli("127.0.0.1", str(port), CT)
    assert code == 1
    assert "connection refused" in err
    result = storescu.send_files("127.0.0.1", port, [CT, CT])
    assert result.fatal is not None
    assert [r.outcome for r in result.results] == [Outcome.NOT_SENT] * 2


def test_abort_and_small_pdus(scp: StoreSCP) -> None:
    code, err = _cli(
        "-v", "--abort", "-pdu", "4096", "--max-send-pdu", "4096", "127.0.0.1", str(scp.port), CT
    )
    assert code == 0, err
    assert "I: Aborting Association" in err
    assert scp.received[0].path is not None
    _same_dataset(CT, scp.received[0].path)


def test_send_datasets_and_echo(scp: StoreSCP) -> None:
    assert storescu.echo("127.0.0.1", scp.port).is_success
    ds = pydicom.dcmread(CT)
    ds.PatientName = "ANON^IN^MEMORY"
    result = storescu.send_datasets("127.0.0.1", scp.port, [ds])
    assert result.results[0].outcome is Outcome.SENT
    received = pydicom.dcmread(scp.received[0].path)
    assert received.PatientName == "ANON^IN^MEMORY"


def test_usage_errors_exit_1() -> None:
    code, err = _cli("127.0.0.1")
    assert code == 1 and "storescu:" in err
    code, err = _cli("+cl", "9", "127.0.0.1", "104", CT)
    assert code == 1 and "option +cl only allowed with -xd or -xf" in err
    assert not os.environ.get("STORESCU_NEVER_SET")


@pytest.mark.parametrize(("name", "code"), [("low", 2), ("medium", 0), ("high", 1)])
def test_priority_on_the_wire_in_debug_and_api(name: str, code: int) -> None:
    """Issue 14.3: --priority LOW / MEDIUM / HIGH is the C-STORE-RQ's Priority
    (0000,0700) (PS3.7 9.1.1.1.9), shown by -d; SendOptions(priority=...) likewise."""
    from storescu.protocol import dimse
    from tests.helpers.hostile import HostilePeer, scenarios

    with HostilePeer(scenarios.good()) as peer:
        code_, err = _cli("-d", "--priority", name, "127.0.0.1", str(peer.port), CT)
        assert code_ == 0, err
        assert f"priority {name.upper()}" in err, err
        options = SendOptions(priority=name)
        assert storescu.send_files("127.0.0.1", peer.port, [CT], options=options).all_stored
        peer.wait_idle()
        stores = [s for session in peer.sessions for s in session.stores]
        assert [s.command.get_int(dimse.PRIORITY) for s in stores] == [code, code]
    with pytest.raises(ValueError, match="priority must be one of low, medium, high"):
        storescu.send_files("127.0.0.1", 1, [CT], options=SendOptions(priority="urgent"))
