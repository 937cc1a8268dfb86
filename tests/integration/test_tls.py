"""TLS end to end in-process: the library's client against the project's SCP on loopback.

Every failure must be an association failure: ``fatal`` set, every file not-sent,
and a message that names what happened.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import storescu
from storescu.net.client import AssociationSettings
from storescu.net.tls import TlsOptions, client_context, server_context
from storescu.run.results import Outcome, RunResult
from storescu.scp import StoreSCP
from tests.helpers.certs import PASSWORD, Pki
from tests.helpers.data import pydicom_file

FILES = [pydicom_file("CT_small.dcm"), pydicom_file("MR_small.dcm")]


def server(pki: Pki, **kw: Any) -> Any:
    base: dict[str, Any] = {
        "key_file": str(pki.server.key),
        "cert_file": str(pki.server.cert),
        "ca_files": (str(pki.ca.cert),),
    }
    base.update(kw)
    return server_context(TlsOptions(**base))


def client(pki: Pki, **kw: Any) -> TlsOptions:
    base: dict[str, Any] = {
        "key_file": str(pki.client.key),
        "cert_file": str(pki.client.cert),
        "ca_files": (str(pki.ca.cert),),
    }
    base.update(kw)
    return TlsOptions(**base)


@pytest.fixture
def scp_factory(tmp_path: Path) -> Iterator[Any]:
    started: list[StoreSCP] = []

    def start(tls: Any = None) -> StoreSCP:
        scp = StoreSCP(output_dir=str(tmp_path / f"in{len(started)}"), tls=tls).start()
        started.append(scp)
        return scp

    yield start
    for scp in started:
        scp.stop()


def send(
    scp: StoreSCP, options: TlsOptions | None, host: str = "127.0.0.1", **kw: Any
) -> RunResult:
    tls = client_context(options) if options is not None else None
    settings = AssociationSettings(
        tls=tls,
        tls_server_name=options.sni if options else None,
        acse_timeout=10,
        socket_timeout=10,
        **kw,
    )
    return storescu.send_files(host, scp.port, [str(f) for f in FILES], settings=settings)


def assert_failed(result: RunResult, message: str) -> None:
    assert result.fatal is not None
    assert message in result.fatal, result.fatal
    assert [r.outcome for r in result.results] == [Outcome.NOT_SENT] * len(FILES)


def test_mutual_tls(pki: Pki, scp_factory: Any) -> None:
    scp = scp_factory(server(pki))
    result = send(scp, client(pki))
    assert result.all_stored, result.fatal
    assert len(scp.received) == len(FILES)


def test_anonymous_client_with_optional_client_certificates(pki: Pki, scp_factory: Any) -> None:
    scp = scp_factory(server(pki, verify_peer="verify"))
    assert send(scp, TlsOptions(ca_files=(str(pki.ca.cert),))).all_stored


def test_der_files_hashed_dir_crl_and_encrypted_key(pki: Pki, scp_factory: Any) -> None:
    scp = scp_factory(
        server(
            pki,
            key_file=str(pki.server_encrypted.key),
            cert_file=str(pki.server_encrypted.cert),
            password=PASSWORD,
            ca_files=(),
            ca_dirs=(str(pki.ca_dir),),
        )
    )
    options = TlsOptions(
        key_file=str(pki.client.key_der),
        cert_file=str(pki.client.cert_der),
        ca_files=(str(pki.ca.cert_der),),
        crl_files=(str(pki.crl_der),),
        der=True,
        crl_check="all",
    )
    assert send(scp, options).all_stored


@pytest.mark.parametrize("profile", ["8996", "8996-mod", "bcp195-nd", "bcp195", "bcp195-ex", "aes"])
def test_same_profile_on_both_sides(pki: Pki, scp_factory: Any, profile: str) -> None:
    scp = scp_factory(server(pki, profile=profile))
    assert send(scp, client(pki, profile=profile)).all_stored, profile


def test_untrusted_server(pki: Pki, scp_factory: Any) -> None:
    scp = scp_factory(server(pki, verify_peer="ignore"))
    result = send(scp, client(pki, ca_files=(str(pki.ca2.cert),)))
    assert_failed(result, "server certificate not trusted")


def test_expired_server_certificate(pki: Pki, scp_factory: Any) -> None:
    scp = scp_factory(server(pki, key_file=str(pki.expired.key), cert_file=str(pki.expired.cert)))
    assert_failed(send(scp, client(pki)), "server certificate has expired")


def test_host_name_is_checked_only_when_asked(pki: Pki, scp_factory: Any) -> None:
    scp = scp_factory(
        server(pki, key_file=str(pki.other_host.key), cert_file=str(pki.other_host.cert))
    )
    assert send(scp, client(pki)).all_stored  # DCMTK's behaviour: no check
    result = send(scp, client(pki, check_hostname=True), host="localhost")
    assert_failed(result, "does not match the host name 'localhost'")
    # The right name passes, via SNI (--request-sni) as the checked name.
    assert send(scp, client(pki, check_hostname=True, sni="other.example")).all_stored


def test_server_requires_a_client_certificate_tls13(pki: Pki, scp_factory: Any) -> None:
    scp = scp_factory(server(pki))
    result = send(scp, TlsOptions(ca_files=(str(pki.ca.cert),)))
    assert_failed(result, "the server requires a client certificate")


def test_server_requires_a_client_certificate_tls12(pki: Pki, scp_factory: Any) -> None:
    scp = scp_factory(server(pki, profile="bcp195-ex"))
    result = send(scp, TlsOptions(ca_files=(str(pki.ca.cert),), profile="bcp195-ex"))
    assert_failed(result, "requires a client certificate")


def test_server_rejects_our_certificate(pki: Pki, scp_factory: Any) -> None:
    scp = scp_factory(server(pki))
    options = client(pki, key_file=str(pki.client_ca2.key), cert_file=str(pki.client_ca2.cert))
    assert_failed(send(scp, options), "the server rejected our certificate")


def test_revoked_server_certificate(pki: Pki, scp_factory: Any) -> None:
    scp = scp_factory(server(pki, key_file=str(pki.revoked.key), cert_file=str(pki.revoked.cert)))
    assert_failed(send(scp, client(pki, crl_files=(str(pki.crl),))), "revoked")


def test_profile_mismatch(pki: Pki, scp_factory: Any) -> None:
    scp = scp_factory(server(pki, profile="8996"))
    result = send(scp, client(pki, profile="aes"))
    assert result.fatal is not None and "TLS handshake" in result.fatal


def test_tls_client_against_plain_server(pki: Pki, scp_factory: Any) -> None:
    scp = scp_factory(None)
    assert_failed(send(scp, client(pki)), "TLS handshake")


def test_plain_client_against_tls_server(pki: Pki, scp_factory: Any) -> None:
    scp = scp_factory(server(pki))
    assert_failed(send(scp, None), "if the peer expects TLS, use +tls KEY CERT or +tla")


def test_large_file_over_tls(pki: Pki, scp_factory: Any, generated_ct: Any) -> None:
    scp = scp_factory(server(pki))
    settings = AssociationSettings(tls=client_context(client(pki)), max_send_pdu=16384)
    paths = [str(p) for p in generated_ct.all]
    result = storescu.send_files("127.0.0.1", scp.port, paths, settings=settings)
    assert result.all_stored, result.fatal
    assert sum(r.bytes for r in result.results) == sum(i.bytes for i in scp.received)


def test_plain_client_gets_a_tls_alert() -> None:
    # A TLS server that answers plain bytes with an alert record (15 03 03 ...).
    import socket
    import threading

    server = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        conn, _ = server.accept()
        with conn:
            conn.recv(65536)
            conn.sendall(b"\x15\x03\x03\x00\x02\x02\x46")  # fatal protocol_version alert

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        port = server.getsockname()[1]
        settings = AssociationSettings(acse_timeout=10)
        result = storescu.send_files("127.0.0.1", port, [str(FILES[0])], settings=settings)
    finally:
        thread.join(5)
        server.close()
    assert result.fatal is not None
    assert "answered with TLS: it expects a secure connection" in result.fatal
