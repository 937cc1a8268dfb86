"""DICOM TLS against real peers: DCMTK storescp 3.6.7 ``+tls``, our SCP, Orthanc.

Certificates come from the session's ``pki`` fixture (tests.helpers.certs). DCMTK
3.6.7's storescp knows the profiles +py (its default), +px, +pz, +pa and +pn, not
DCMTK 3.7's +pg / +pm: our default +pg is tested against its +py.

Failures are association failures: exit code 1, nothing stored, and a message that
names what happened (DCMTK says only "certificate verify failed"; those checks are
skipped when the sender under test is DCMTK's storescu).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.helpers.certs import PASSWORD, Pair, Pki
from tests.helpers.data import pydicom_file
from tests.helpers.peers import OrthancPeer, OurScpPeer, StorescpPeer
from tests.helpers.reporting import attach_peer
from tests.helpers.sender import SENDER_IS_DCMTK, SendResult, send_to, skip_if_dcmtk_sender

pytestmark = pytest.mark.interop

EXIT_FATAL = 1


@pytest.fixture
def files() -> list[Path]:
    return [pydicom_file("CT_small.dcm"), pydicom_file("MR_small.dcm")]


def key_cert(pair: Pair, der: bool = False) -> list[str]:
    if der:
        return ["+tls", str(pair.key_der), str(pair.cert_der)]
    return ["+tls", str(pair.key), str(pair.cert)]


@pytest.fixture
def tls_storescp(
    dcmtk_storescp: Callable[..., StorescpPeer], pki: Pki
) -> Callable[..., StorescpPeer]:
    """storescp +tls with the server certificate and CA 1 trusted, plus ``extra``."""

    def start(*extra: str, server: Pair | None = None, trust: bool = True) -> StorescpPeer:
        args = key_cert(server or pki.server)
        if trust:
            args += ["+cf", str(pki.ca.cert)]
        return dcmtk_storescp(*args, *extra)

    return start


def client_args(pki: Pki, *extra: str) -> list[str]:
    return [*key_cert(pki.client), "+cf", str(pki.ca.cert), *extra]


def assert_tls_failure(result: SendResult, peer: object, message: str) -> None:
    assert result.returncode == EXIT_FATAL, result.describe()
    assert "Association Request Failed" in result.stderr, result.describe()
    assert message in result.stderr, result.describe()
    received = getattr(peer, "received_files")  # noqa: B009 - duck-typed peer
    assert received() == [], "nothing may be stored"


# --- successful sends to DCMTK storescp --------------------------------------------------


def test_tls_with_client_certificate(
    tls_storescp: Callable[..., StorescpPeer], pki: Pki, files: list[Path]
) -> None:
    peer = tls_storescp()
    result = send_to(peer, files, "-v", *client_args(pki))
    assert len(peer.received_files()) == len(files)
    if not SENDER_IS_DCMTK:
        assert "TLS connection established: TLSv1.3" in result.stderr, result.describe()


def test_anonymous_tls(
    tls_storescp: Callable[..., StorescpPeer], pki: Pki, files: list[Path]
) -> None:
    peer = tls_storescp("-ic")
    send_to(peer, files, "+tla", "+cf", str(pki.ca.cert))
    assert len(peer.received_files()) == len(files)


@pytest.mark.parametrize(
    "variant",
    ["der", "password", "cert-dir", "crl", "crl-all", "sni", "seed"],
)
def test_key_and_trust_variants(
    tls_storescp: Callable[..., StorescpPeer],
    pki: Pki,
    files: list[Path],
    variant: str,
    tmp_path: Path,
) -> None:
    peer = tls_storescp()
    ca = ["+cf", str(pki.ca.cert)]
    args = {
        "der": ["-der", *key_cert(pki.client, der=True), "+cf", str(pki.ca.cert_der)],
        "password": [*key_cert(pki.client_encrypted), "+pw", PASSWORD, *ca],
        "cert-dir": [*key_cert(pki.client), "+cd", str(pki.ca_dir)],
        "crl": [*key_cert(pki.client), *ca, "+crl", str(pki.crl)],
        "crl-all": [*key_cert(pki.client), *ca, "+crl", str(pki.crl), "+cra"],
        "sni": [*key_cert(pki.client), *ca, "--request-sni", "localhost"],
        "seed": [*key_cert(pki.client), *ca, "+rs", str(tmp_path / "seed"), "+ws"],
    }[variant]
    if SENDER_IS_DCMTK and variant == "sni":
        pytest.skip("DCMTK 3.6.7 storescu has no --request-sni")
    send_to(peer, files, *args)
    assert len(peer.received_files()) == len(files)
    if variant == "seed" and not SENDER_IS_DCMTK:
        assert (tmp_path / "seed").stat().st_size == 1024


@pytest.mark.parametrize(
    ("server_profile", "client_profile"),
    [
        ((), "+pg"),  # storescp 3.6.7's default is +py; +pg is TLS 1.2/1.3 ECDHE-GCM
        (("+py",), "+py"),
        (("+px",), "+px"),
        (("+pz",), "+pz"),
        (("+pa",), "+pa"),
        (("+pn",), "+pn"),
    ],
    ids=lambda v: "".join(v) or "default",
)
def test_profiles(
    tls_storescp: Callable[..., StorescpPeer],
    pki: Pki,
    files: list[Path],
    server_profile: tuple[str, ...],
    client_profile: str,
) -> None:
    if SENDER_IS_DCMTK and client_profile == "+pg":
        pytest.skip("DCMTK 3.6.7 storescu has no +pg")
    peer = tls_storescp(*server_profile)
    send_to(peer, files, *client_args(pki, client_profile))
    assert len(peer.received_files()) == len(files)


# --- failures, each with its message -----------------------------------------------------


@skip_if_dcmtk_sender
def test_untrusted_server_certificate(
    tls_storescp: Callable[..., StorescpPeer], pki: Pki, files: list[Path]
) -> None:
    # Without +cf storescp sends its certificate alone: the issuer is unknown to us.
    peer = tls_storescp("-ic", trust=False)
    result = send_to(peer, files, "+tla", "+cf", str(pki.ca2.cert), expect=None)
    assert_tls_failure(
        result, peer, "server certificate not trusted (unable to get local issuer certificate)"
    )


@skip_if_dcmtk_sender
def test_expired_server_certificate(
    tls_storescp: Callable[..., StorescpPeer], pki: Pki, files: list[Path]
) -> None:
    peer = tls_storescp(server=pki.expired)
    result = send_to(peer, files, *client_args(pki), expect=None)
    assert_tls_failure(result, peer, "server certificate has expired")


@skip_if_dcmtk_sender
def test_host_name_mismatch_only_when_checked(
    tls_storescp: Callable[..., StorescpPeer], pki: Pki, files: list[Path]
) -> None:
    peer = tls_storescp(server=pki.other_host)
    send_to(peer, files[:1], *client_args(pki))  # DCMTK never checks: accepted
    assert len(peer.received_files()) == 1
    peer = tls_storescp(server=pki.other_host)
    result = send_to(peer, files, *client_args(pki, "--check-hostname"), expect=None)
    assert_tls_failure(result, peer, "server certificate does not match the host name")


@skip_if_dcmtk_sender
@pytest.mark.parametrize("profile", [(), ("+pz",)], ids=["tls1.3", "tls1.2"])
def test_server_requires_a_client_certificate(
    tls_storescp: Callable[..., StorescpPeer],
    pki: Pki,
    files: list[Path],
    profile: tuple[str, ...],
) -> None:
    # TLS 1.3: the handshake succeeds and the alert comes at the first read.
    peer = tls_storescp(*profile)
    result = send_to(peer, files, "+tla", "+cf", str(pki.ca.cert), *profile, expect=None)
    assert_tls_failure(result, peer, "requires a client certificate")


@skip_if_dcmtk_sender
def test_server_rejects_our_certificate(
    tls_storescp: Callable[..., StorescpPeer], pki: Pki, files: list[Path]
) -> None:
    peer = tls_storescp()
    args = [*key_cert(pki.client_ca2), "+cf", str(pki.ca.cert)]
    result = send_to(peer, files, *args, expect=None)
    assert_tls_failure(result, peer, "the server rejected our certificate")


@skip_if_dcmtk_sender
def test_revoked_server_certificate(
    tls_storescp: Callable[..., StorescpPeer], pki: Pki, files: list[Path]
) -> None:
    peer = tls_storescp(server=pki.revoked)
    result = send_to(peer, files, *client_args(pki, "+crl", str(pki.crl)), expect=None)
    assert_tls_failure(result, peer, "server certificate has been revoked")


@skip_if_dcmtk_sender
def test_profile_mismatch(
    tls_storescp: Callable[..., StorescpPeer], pki: Pki, files: list[Path]
) -> None:
    peer = tls_storescp("+pa")  # AES128-SHA, TLS <= 1.2 only; our +pg has none of it
    result = send_to(peer, files, *client_args(pki), expect=None)
    assert_tls_failure(result, peer, "no cipher suite in common")


@skip_if_dcmtk_sender
def test_tls_client_against_plain_storescp(
    dcmtk_storescp: Callable[..., StorescpPeer], pki: Pki, files: list[Path]
) -> None:
    peer = dcmtk_storescp()
    result = send_to(peer, files, *client_args(pki), expect=None)
    assert_tls_failure(result, peer, "a plain DICOM port?")


@skip_if_dcmtk_sender
def test_plain_client_against_tls_storescp(
    tls_storescp: Callable[..., StorescpPeer], files: list[Path]
) -> None:
    peer = tls_storescp()
    result = send_to(peer, files, expect=None)
    assert_tls_failure(result, peer, "if the peer expects TLS, use +tls KEY CERT or +tla")


# --- the project's SCP ---------------------------------------------------------------


def test_our_scp_over_tls(our_scp: Callable[..., OurScpPeer], pki: Pki, files: list[Path]) -> None:
    peer = our_scp(*key_cert(pki.server), "+cf", str(pki.ca.cert))
    send_to(peer, files, *client_args(pki))
    assert len(peer.received_files()) == len(files)


def test_our_scp_der_files_and_anonymous_clients(
    our_scp: Callable[..., OurScpPeer], pki: Pki, files: list[Path]
) -> None:
    peer = our_scp("-der", *key_cert(pki.server, der=True), "-ic", "+pz")
    send_to(peer, files, "+tla", "+cf", str(pki.ca.cert), "+pz")
    assert len(peer.received_files()) == len(files)


@skip_if_dcmtk_sender
def test_our_scp_requires_client_certificates(
    our_scp: Callable[..., OurScpPeer], pki: Pki, files: list[Path]
) -> None:
    peer = our_scp(*key_cert(pki.server), "+cf", str(pki.ca.cert))
    result = send_to(peer, files, "+tla", "+cf", str(pki.ca.cert), expect=None)
    assert_tls_failure(result, peer, "the server requires a client certificate")
    assert "the client sent no certificate" in peer.describe()


# --- Orthanc (its Debian build has DCMTK's TLS: DicomTlsEnabled) -------------------------


@pytest.fixture
def orthanc_tls(request: pytest.FixtureRequest, tmp_path: Path, pki: Pki) -> Iterator[OrthancPeer]:
    peer = OrthancPeer(
        tmp_path / "orthanc-tls",
        {
            "DicomTlsEnabled": True,
            "DicomTlsCertificate": str(pki.server.cert),
            "DicomTlsPrivateKey": str(pki.server.key),
            "DicomTlsTrustedCertificates": str(pki.ca.cert),
            "DicomTlsRemoteCertificateRequired": True,
        },
    )
    attach_peer(request.node, "Orthanc (TLS)", peer)
    try:
        yield peer
    finally:
        peer.stop()


def test_orthanc_over_tls(orthanc_tls: OrthancPeer, pki: Pki, files: list[Path]) -> None:
    send_to(orthanc_tls, files, *client_args(pki))
    assert len(orthanc_tls.instances()) == len(files)
