"""RELIABILITY.md rows 36-40 (TLS), with the six invariants.

The TLS behaviour itself is covered in depth by tests/interop/test_tls.py (DCMTK
storescp +tls, Orthanc, our SCP), tests/integration/test_tls.py (in-process) and
tests/unit/net/test_tls.py (messages, DER labels, passwords, prompts); the table in
tests/faults/README.md maps each row to those tests. Here each row runs the CLI
once more against the project's SCP over TLS (in this process), with --report, to
check what those tests do not: every input accounted for, bounded time and memory,
no traceback, the documented exit code.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from storescu.net.tls import TlsOptions, server_context
from storescu.scp import StoreSCP
from tests.faults.invariants import EXIT_FAILURE, EXIT_SUCCESS, TIMEOUTS, check, run_cli
from tests.helpers.certs import PASSWORD, Pki


@pytest.fixture
def tls_scp(tmp_path: Path, pki: Pki) -> Iterator[Any]:
    started: list[StoreSCP] = []

    def start(plain: bool = False, **kw: Any) -> StoreSCP:
        options: dict[str, Any] = {
            "key_file": str(pki.server.key),
            "cert_file": str(pki.server.cert),
            "ca_files": (str(pki.ca.cert),),
        }
        options.update(kw)
        tls = None if plain else server_context(TlsOptions(**options))
        scp = StoreSCP(output_dir=str(tmp_path / f"in{len(started)}"), tls=tls).start()
        started.append(scp)
        return scp

    yield start
    for scp in started:
        scp.stop()


def client(pki: Pki, *extra: str) -> list[str]:
    return ["+tls", str(pki.client.key), str(pki.client.cert), "+cf", str(pki.ca.cert), *extra]


def failed(
    report: Path, ct: Path, mr: Path, scp: StoreSCP, host: str, args: list[str], *causes: str
) -> None:
    """A TLS failure is an association failure: exit 1, every input not-sent."""
    run = run_cli([*TIMEOUTS, *args, host, str(scp.port), ct, mr], report=report)
    check(
        run,
        exit_code=EXIT_FAILURE,
        outcomes={str(ct): "not-sent", str(mr): "not-sent"},
        causes=["Association Request Failed", *causes],
        names=[f"{host}:{scp.port}"],
    )
    assert scp.received == []


def stored(report: Path, ct: Path, mr: Path, scp: StoreSCP, host: str, args: list[str]) -> None:
    run = run_cli([*TIMEOUTS, *args, host, str(scp.port), ct, mr], report=report)
    check(run, exit_code=EXIT_SUCCESS, outcomes={str(ct): "sent", str(mr): "sent"}, causes=[])
    assert len(scp.received) == 2


def test_row36_unknown_ca(tls_scp: Any, pki: Pki, report: Path, ct: Path, mr: Path) -> None:
    scp = tls_scp(verify_peer="ignore")
    args = ["+tls", str(pki.client.key), str(pki.client.cert), "+cf", str(pki.ca2.cert)]
    failed(
        report, ct, mr, scp, "127.0.0.1", args,
        "server certificate not trusted", "add the CA that issued it with +cf FILE",
    )  # fmt: skip


def test_row37_expired_server_certificate(
    tls_scp: Any, pki: Pki, report: Path, ct: Path, mr: Path
) -> None:
    scp = tls_scp(key_file=str(pki.expired.key), cert_file=str(pki.expired.cert))
    failed(report, ct, mr, scp, "127.0.0.1", client(pki), "certificate has expired")


def test_row38_hostname_mismatch(
    tls_scp: Any, pki: Pki, report: Path, ct: Path, mr: Path, tmp_path: Path
) -> None:
    """Accepted by default (as DCMTK); refused with --check-hostname."""
    other = {"key_file": str(pki.other_host.key), "cert_file": str(pki.other_host.cert)}
    stored(report, ct, mr, tls_scp(**other), "localhost", client(pki))
    scp = tls_scp(**other)
    args = client(pki, "--check-hostname")
    failed(
        tmp_path / "second.jsonl", ct, mr, scp, "localhost", args,
        "does not match the host name 'localhost'",
    )  # fmt: skip


def test_row39_client_certificate_required(
    tls_scp: Any, pki: Pki, report: Path, ct: Path, mr: Path
) -> None:
    """TLS 1.3: the alert comes at the first read, while we await the A-ASSOCIATE-AC."""
    scp = tls_scp()
    args = ["+tla", "+cf", str(pki.ca.cert)]
    failed(report, ct, mr, scp, "127.0.0.1", args, "the server requires a client certificate")


@pytest.mark.parametrize(
    "case", ["profile", "tls-to-plain", "plain-to-tls", "wrong-password", "no-terminal"]
)
def test_row40_handshake_and_key_failures(
    tls_scp: Any, pki: Pki, report: Path, ct: Path, mr: Path, case: str
) -> None:
    """Clear handshake / key messages; never a password prompt without a terminal
    (the CLI runs with stdin from /dev/null)."""
    encrypted = ["+tls", str(pki.client_encrypted.key), str(pki.client_encrypted.cert)]
    ca = ["+cf", str(pki.ca.cert)]
    scp = tls_scp(plain=case == "tls-to-plain", profile="8996" if case == "profile" else "bcp195")
    args, cause = {
        "profile": (client(pki, "+pa"), "TLS handshake"),
        "tls-to-plain": (client(pki), "does not answer with TLS (a plain DICOM port?)"),
        "plain-to-tls": ([], "if the peer expects TLS, use +tls KEY CERT or +tla"),
        "wrong-password": ([*encrypted, "+pw", PASSWORD + "x", *ca], "cannot decrypt private key"),
        "no-terminal": ([*encrypted, *ca], "stdin is not a terminal"),
    }[case]
    if case in ("wrong-password", "no-terminal"):
        # Refused while reading the options, before any association: exit 1, no report.
        run = run_cli([*TIMEOUTS, *args, "127.0.0.1", str(scp.port), ct, mr], report=None)
        assert run.returncode == EXIT_FAILURE, run.describe()
        assert "Traceback" not in run.output and cause in run.stderr, run.describe()
        assert run.seconds < 10, run.describe()
        return
    failed(report, ct, mr, scp, "127.0.0.1", args, cause)


def test_row40_der_files_and_hashed_ca_directory(
    tls_scp: Any, pki: Pki, report: Path, ct: Path, mr: Path
) -> None:
    der = ["-der", "+tls", str(pki.client.key_der), str(pki.client.cert_der)]
    stored(report, ct, mr, tls_scp(), "127.0.0.1", [*der, "+cf", str(pki.ca.cert_der)])
    hashed = ["+tls", str(pki.client.key), str(pki.client.cert), "+cd", str(pki.ca_dir)]
    stored(report, ct, mr, tls_scp(), "127.0.0.1", hashed)
