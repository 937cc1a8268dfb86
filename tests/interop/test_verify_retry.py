"""--echo, --probe, --retry / --resend-unknown, user identity, -i4/-i6 against real peers."""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from pydicom.data import get_testdata_file

from tests.helpers.proc import child_env
from tests.helpers.sender import run_sender, send_to, sender_command, skip_if_dcmtk_sender

pytestmark = pytest.mark.interop

CT = str(get_testdata_file("CT_small.dcm"))
MR = str(get_testdata_file("MR_small.dcm"))


# ------------------------------------------------------------------------- echo


@skip_if_dcmtk_sender
def test_echo_storescp_and_orthanc(dcmtk_storescp: Any, orthanc: Any) -> None:
    peer = dcmtk_storescp()
    result = send_to(peer, [], "--echo")
    assert "C-ECHO" in result.stdout and "Success (0x0000)" in result.stdout
    result = send_to(orthanc, [], "--echo", "-aec", "ORTHANC")
    assert "Success (0x0000)" in result.stdout
    assert " ms" in result.stdout


@skip_if_dcmtk_sender
def test_echo_refused_exit_1() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = run_sender(["--echo", "127.0.0.1", str(port)])
    assert result.returncode == 1
    assert "connection refused" in result.stderr


# ------------------------------------------------------------------------ probe


@skip_if_dcmtk_sender
def test_probe_storescp_implicit_only(dcmtk_storescp: Any) -> None:
    peer = dcmtk_storescp("+xi")
    result = send_to(peer, [CT, MR], "--probe")
    lines = result.stdout.splitlines()
    assert lines[0].startswith("CTImageStorage (1.2.840.10008.5.1.4.1.1.2)")
    ct = lines[1:4]
    assert any("Little Endian Implicit" in line and "accepted" in line for line in ct)
    assert any("Little Endian Explicit" in line and "rejected" in line for line in ct)
    assert lines[-1] == "2 of 6 (SOP class, transfer syntax) pairs accepted"
    assert peer.received_files() == []  # no data sent


@skip_if_dcmtk_sender
def test_probe_orthanc_builtin_list(orthanc: Any) -> None:
    # 62 classes x 3 syntaxes = 186 pairs: two associations.
    result = send_to(orthanc, [], "--probe", "-aec", "ORTHANC")
    last = result.stdout.splitlines()[-1]
    accepted, total = int(last.split()[0]), int(last.split()[2])
    assert total == 186
    assert accepted > 100
    assert orthanc.instances() == []


# ---------------------------------------------------------------------- retries


@skip_if_dcmtk_sender
def test_abort_after_store_outcome_unknown_no_halt_retry(dcmtk_storescp: Any) -> None:
    """RELIABILITY row 17: the peer aborts after the C-STORE-RQ: outcome unknown."""
    peer = dcmtk_storescp("--abort-after")
    result = send_to(
        peer,
        [CT, MR],
        "--no-halt",
        "--retry",
        "2",
        "--retry-delay",
        "0.05",
        "-v",
        expect=3,
    )
    # Each file went once (unknown outcome is not resent without --resend-unknown),
    # each on its own association.
    assert result.stderr.count("Requesting Association") == 2
    assert "Retrying" not in result.stderr


@skip_if_dcmtk_sender
def test_abort_after_store_resend_unknown(dcmtk_storescp: Any) -> None:
    peer = dcmtk_storescp("--abort-after")
    result = send_to(
        peer,
        [CT],
        "--retry",
        "2",
        "--retry-delay",
        "0.05",
        "--resend-unknown",
        "-v",
        expect=10,
    )
    assert result.stderr.count("Retrying") == 2
    assert result.stderr.count("Requesting Association") == 3


@skip_if_dcmtk_sender
def test_retry_until_the_peer_comes_up(tmp_path: Path) -> None:
    """Connection refused is transient: with --retry the run waits for the peer."""
    from storescu.scp import StoreSCP

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # The SCP starts only once the sender has said it will retry (not after a fixed
    # sleep, which a slow start-up on a loaded machine outruns): the first attempt is
    # then certainly refused, and a later one finds the peer.
    argv = [*sender_command(), "--retry", "8", "--retry-delay", "0.1", "127.0.0.1", str(port), CT]
    proc = subprocess.Popen(
        argv,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=child_env(),
        text=True,
    )
    scp = None
    lines: list[str] = []
    try:
        assert proc.stderr is not None
        for line in proc.stderr:
            lines.append(line)
            if "Retrying the association" in line:
                scp = StoreSCP(port=port, output_dir=str(tmp_path)).start()
                break
        lines.append(proc.stderr.read())
        returncode = proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if scp is not None:
            scp.stop()
    stderr = "".join(lines)
    assert scp is not None, stderr
    assert returncode == 0, stderr
    assert "1 sent" in stderr
    assert len(scp.received) == 1


@skip_if_dcmtk_sender
def test_a700_is_retried_then_reported(pynetdicom_scp: Any) -> None:
    peer = pynetdicom_scp(status=0xA700)
    started = time.monotonic()
    result = send_to(peer, [CT], "--retry", "2", "--retry-delay", "0.1", expect=0xA7)
    assert time.monotonic() - started >= 0.3  # 0.1 + 0.2 of back-off
    assert len(peer.requests) == 3
    assert result.stderr.count("Retrying") == 2


@skip_if_dcmtk_sender
def test_rejected_permanent_is_not_retried(dcmtk_storescp: Any) -> None:
    peer = dcmtk_storescp("--refuse")
    result = send_to(peer, [CT], "--retry", "3", "--retry-delay", "0.05", expect=1)
    assert "Retrying" not in result.stderr
    assert "Rejected Permanent" in result.stderr


# ---------------------------------------------------------------- user identity


def _identity_scp(expected: tuple[bytes, bytes]) -> tuple[Any, int, list[Any]]:
    from pynetdicom import AE, evt
    from pynetdicom.sop_class import CTImageStorage  # type: ignore[attr-defined]

    seen: list[Any] = []

    def on_user_id(event: Any) -> tuple[bool, bytes | None]:
        seen.append((event.user_id_type, event.primary_field, event.secondary_field))
        ok = (event.primary_field, event.secondary_field) == expected
        return ok, (b"welcome" if ok else None)

    def on_store(event: Any) -> int:
        return 0x0000

    ae = AE(ae_title="IDENTITY")
    ae.add_supported_context(CTImageStorage)
    server = ae.start_server(
        ("127.0.0.1", 0),
        block=False,
        evt_handlers=[(evt.EVT_USER_ID, on_user_id), (evt.EVT_C_STORE, on_store)],
    )
    return server, int(server.server_address[1]), seen


@skip_if_dcmtk_sender
def test_user_identity_username_and_password() -> None:
    # pynetdicom rejects the association when its handler refuses the identity.
    server, port, seen = _identity_scp((b"alice", b"secret"))
    try:
        ok = run_sender(["-usr", "alice", "-pwd", "secret", "127.0.0.1", str(port), CT])
        bad = run_sender(["-usr", "alice", "-pwd", "wrong", "127.0.0.1", str(port), CT])
    finally:
        server.shutdown()
    assert ok.returncode == 0, ok.describe()
    assert seen[0] == (2, b"alice", b"secret")
    assert bad.returncode == 1
    assert "Association Rejected" in bad.stderr


@skip_if_dcmtk_sender
def test_user_identity_jwt_with_positive_response(tmp_path: Path) -> None:
    token = tmp_path / "token.jwt"
    token.write_bytes(b"header.payload.signature")
    server, port, seen = _identity_scp((b"header.payload.signature", b""))
    try:
        ok = run_sender(["--jwt", str(token), "-rsp", "-v", "127.0.0.1", str(port), CT])
    finally:
        server.shutdown()
    assert ok.returncode == 0, ok.describe()
    assert "User identity accepted" in ok.stderr
    assert seen[0][0] == 5


@skip_if_dcmtk_sender
def test_positive_response_missing_fails(pynetdicom_scp: Any) -> None:
    # An SCP without user identity support ignores the request (no response):
    # with -rsp that is a failed association, as in DCMTK.
    peer = pynetdicom_scp()
    result = send_to(peer, [CT], "-usr", "alice", "-rsp", expect=1)
    assert "positive response requested but none received" in result.stderr
    assert peer.requests == []


@skip_if_dcmtk_sender
def test_identity_usage_errors(tmp_path: Path) -> None:
    result = run_sender(["-pwd", "x", "127.0.0.1", "104", CT])
    assert result.returncode == 1 and "-pwd and -epw need -usr" in result.stderr
    result = run_sender(["--jwt", str(tmp_path / "missing"), "127.0.0.1", "104", CT])
    assert result.returncode == 1 and "cannot read JSON web token file" in result.stderr


# ------------------------------------------------------------------ IP version


def _has_ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as sock:
            sock.bind(("::1", 0))
        return True
    except OSError:
        return False


@skip_if_dcmtk_sender
@pytest.mark.skipif(not _has_ipv6_loopback(), reason="no IPv6 loopback on this machine")
def test_ipv6_and_ipv4_selection(tmp_path: Path) -> None:
    from storescu.scp import StoreSCP

    with StoreSCP(host="::1", output_dir=str(tmp_path)) as scp:
        ok = run_sender(["-i6", "::1", str(scp.port), CT])
        wrong = run_sender(["-i4", "::1", str(scp.port), CT])
    assert ok.returncode == 0, ok.describe()
    assert wrong.returncode == 1
    assert len(scp.received) == 1
