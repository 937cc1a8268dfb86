"""storescu.net.tls without sockets: option mapping onto ssl, key loading, error messages."""

from __future__ import annotations

import getpass
import io
import os
import ssl
import stat
import tempfile
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from storescu.cli.main import main
from storescu.cli.options import InfoRequest
from storescu.cli.parser import parse_args
from storescu.kernel.errors import TlsError, TransportError, UsageError
from storescu.net import tls
from storescu.net.tls import CIPHER_SUITES, PROFILES, TlsOptions, client_context, server_context
from storescu.net.tls import files as tls_files
from tests.helpers.certs import PASSWORD, Pki


def client(pki: Pki, **kw: Any) -> TlsOptions:
    base: dict[str, Any] = {
        "key_file": str(pki.client.key),
        "cert_file": str(pki.client.cert),
        "ca_files": (str(pki.ca.cert),),
    }
    base.update(kw)
    return TlsOptions(**base)


def tls12_names(ctx: ssl.SSLContext) -> list[str]:
    return [str(c["name"]) for c in ctx.get_ciphers() if c["protocol"] != "TLSv1.3"]


def test_tls_error_is_a_transport_error() -> None:
    assert issubclass(TlsError, TransportError)


# --------------------------------------------------------------------- profiles


@pytest.mark.parametrize("name", [n for n in PROFILES if n != "basic"])
def test_profile_sets_versions_and_cipher_list(pki: Pki, name: str) -> None:
    profile = PROFILES[name]
    ctx = client_context(client(pki, profile=name))
    assert ctx.minimum_version is ssl.TLSVersion.TLSv1_2
    expected_max = ssl.TLSVersion.TLSv1_3 if profile.tls13 else ssl.TLSVersion.TLSv1_2
    assert ctx.maximum_version is expected_max
    wanted = {CIPHER_SUITES[s] for s in profile.tls12_suites}
    assert set(tls12_names(ctx)) == wanted & tls.available_cipher_suites()
    assert tls12_names(ctx)  # never empty


def test_default_profile_is_rfc_8996() -> None:
    assert TlsOptions().profile == "8996" == tls.DEFAULT_PROFILE
    assert PROFILES["8996"].option == "+pg"
    assert PROFILES["8996"].section == "PS3.15 B.12"


def test_basic_profile_says_3des_is_missing(pki: Pki) -> None:
    if CIPHER_SUITES["TLS_RSA_WITH_3DES_EDE_CBC_SHA"] in tls.available_cipher_suites():
        pytest.skip("this OpenSSL still has 3DES")
    with pytest.raises(TlsError, match="3DES is not available"):
        client_context(client(pki, profile="basic"))


def test_unknown_profile(pki: Pki) -> None:
    with pytest.raises(TlsError, match=r"unknown TLS profile 'tls9'.*\+ph"):
        client_context(client(pki, profile="tls9"))


# ---------------------------------------------------------------- cipher suites


def test_extra_suite_by_iana_and_openssl_name(pki: Pki) -> None:
    ctx = client_context(
        client(pki, profile="bcp195-nd", cipher_suites=("TLS_RSA_WITH_AES_256_GCM_SHA384",))
    )
    assert "AES256-GCM-SHA384" in tls12_names(ctx)
    ctx = client_context(client(pki, profile="bcp195-nd", cipher_suites=("AES128-GCM-SHA256",)))
    assert "AES128-GCM-SHA256" in tls12_names(ctx)


@pytest.mark.parametrize(
    ("profile", "suite", "message"),
    [
        ("8996", "TLS_NO_SUCH_SUITE", "unknown cipher suite"),
        ("bcp195-ex", "TLS_RSA_WITH_AES_128_GCM_SHA256", r"\+cs is not allowed with profile \+pz"),
        ("8996-mod", "TLS_RSA_WITH_AES_128_GCM_SHA256", r"not allowed with profile \+pm"),
        ("8996", "TLS_RSA_WITH_NULL_SHA", "unencrypted cipher suite is not allowed"),
        ("8996", "TLS_RSA_WITH_AES_128_CBC_SHA", "SHA-1 MAC are not allowed"),
        ("8996", "TLS_AES_128_GCM_SHA256", "TLS 1.3 cipher suites cannot be chosen"),
    ],
)
def test_extra_suite_refused(pki: Pki, profile: str, suite: str, message: str) -> None:
    with pytest.raises(TlsError, match=message):
        client_context(client(pki, profile=profile, cipher_suites=(suite,)))


def test_cipher_table_uses_openssl_names() -> None:
    available = tls.available_cipher_suites()
    # Every profile suite except 3DES is known to this OpenSSL.
    for profile in PROFILES.values():
        for suite in profile.tls12_suites:
            if "3DES" not in suite:
                assert CIPHER_SUITES[suite] in available, suite


# ------------------------------------------------------------ peer verification


@pytest.mark.parametrize(
    ("verify", "mode"),
    [("require", ssl.CERT_REQUIRED), ("verify", ssl.CERT_REQUIRED), ("ignore", ssl.CERT_NONE)],
)
def test_client_verification(pki: Pki, verify: str, mode: ssl.VerifyMode) -> None:
    ctx = client_context(client(pki, verify_peer=verify))
    assert ctx.verify_mode == mode
    assert ctx.check_hostname is False  # DCMTK never checks the host name


@pytest.mark.parametrize(
    ("verify", "mode"),
    [("require", ssl.CERT_REQUIRED), ("verify", ssl.CERT_OPTIONAL), ("ignore", ssl.CERT_NONE)],
)
def test_server_verification(pki: Pki, verify: str, mode: ssl.VerifyMode) -> None:
    options = TlsOptions(
        key_file=str(pki.server.key),
        cert_file=str(pki.server.cert),
        verify_peer=verify,  # type: ignore[arg-type]
    )
    assert server_context(options).verify_mode == mode


def test_hostname_check_is_opt_in(pki: Pki) -> None:
    assert client_context(client(pki, check_hostname=True)).check_hostname is True
    with pytest.raises(TlsError, match="not with -ic"):
        client_context(client(pki, check_hostname=True, verify_peer="ignore"))


def test_server_needs_a_certificate() -> None:
    with pytest.raises(TlsError, match=r"\+tls KEY CERT"):
        server_context(TlsOptions())


# ----------------------------------------------------------- keys and passwords


def test_anonymous_loads_no_certificate(pki: Pki) -> None:
    options = TlsOptions(ca_files=(str(pki.ca.cert),))
    assert options.anonymous
    assert client_context(options).has_certificate is False
    assert client_context(client(pki)).has_certificate is True


def test_der_key_and_certificate(pki: Pki, monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[str] = []
    real = tempfile.mkstemp

    def spy(*args: Any, **kw: Any) -> tuple[int, str]:
        fd, path = real(*args, **kw)
        made.append(path)
        return fd, path

    monkeypatch.setattr(tempfile, "mkstemp", spy)
    options = TlsOptions(
        key_file=str(pki.client.key_der),
        cert_file=str(pki.client.cert_der),
        ca_files=(str(pki.ca.cert_der),),
        crl_files=(str(pki.crl_der),),
        der=True,
    )
    ctx = client_context(options)
    assert ctx.has_certificate
    assert ctx.cert_store_stats()["x509_ca"] == 1
    assert made, "DER needs temporary PEM files"
    assert not any(os.path.exists(p) for p in made), "temporary key files must be removed"


def test_private_temp_file_mode() -> None:
    with tls_files._private_file("secret") as path:
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert not os.path.exists(path)


def test_pem_file_given_as_der_and_back(pki: Pki) -> None:
    with pytest.raises(TlsError, match="as DER"):
        client_context(client(pki, der=True))
    options = client(pki, key_file=str(pki.client.key_der), cert_file=str(pki.client.cert_der))
    with pytest.raises(TlsError, match=r"not a PEM certificate \(use -der"):
        client_context(options)


def test_encrypted_key_with_password(pki: Pki) -> None:
    options = client(
        pki,
        key_file=str(pki.client_encrypted.key),
        cert_file=str(pki.client_encrypted.cert),
        password=PASSWORD,
    )
    assert client_context(options).has_certificate


def test_wrong_password(pki: Pki) -> None:
    options = client(pki, key_file=str(pki.client_encrypted.key), password="nope")
    with pytest.raises(TlsError, match=r"cannot decrypt private key .* \(wrong password\?\)"):
        client_context(options)


def test_prompt_fails_at_once_without_a_terminal(pki: Pki, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tls_files, "_stdin_is_terminal", lambda: False)
    monkeypatch.setattr(getpass, "getpass", lambda prompt="": pytest.fail("prompted"))
    options = client(pki, key_file=str(pki.client_encrypted.key))
    with pytest.raises(TlsError, match=r"stdin is not a terminal.*\+pw PASSWORD"):
        client_context(options)


def test_prompt_on_a_terminal(pki: Pki, monkeypatch: pytest.MonkeyPatch) -> None:
    prompts: list[str] = []

    def fake_getpass(prompt: str = "") -> str:
        prompts.append(prompt)
        return PASSWORD

    monkeypatch.setattr(tls_files, "_stdin_is_terminal", lambda: True)
    monkeypatch.setattr(getpass, "getpass", fake_getpass)
    options = client(pki, key_file=str(pki.client_encrypted.key))
    assert client_context(options).has_certificate
    assert len(prompts) == 1 and str(pki.client_encrypted.key) in prompts[0]


def test_unencrypted_key_never_prompts(pki: Pki, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(getpass, "getpass", lambda prompt="": pytest.fail("prompted"))
    client_context(client(pki))


def test_key_of_another_certificate(pki: Pki) -> None:
    options = client(pki, key_file=str(pki.server.key))
    with pytest.raises(TlsError, match="does not belong to certificate"):
        client_context(options)


def test_missing_files_are_named(pki: Pki, tmp_path: Path) -> None:
    missing = str(tmp_path / "nope.pem")
    with pytest.raises(TlsError, match=r"cannot read private key file .*nope\.pem"):
        client_context(client(pki, key_file=missing))
    with pytest.raises(TlsError, match=r"cannot read CA certificate file .*nope\.pem"):
        client_context(client(pki, ca_files=(missing,)))
    with pytest.raises(TlsError, match="cannot read CA directory"):
        client_context(client(pki, ca_dirs=(missing,)))


def test_ca_directory_must_be_hashed(pki: Pki, tmp_path: Path) -> None:
    (tmp_path / "ca.pem").write_bytes(pki.ca.cert.read_bytes())
    with pytest.raises(TlsError, match="openssl rehash"):
        client_context(client(pki, ca_files=(), ca_dirs=(str(tmp_path),)))
    client_context(client(pki, ca_files=(), ca_dirs=(str(pki.ca_dir),)))


def test_crl_flags(pki: Pki) -> None:
    leaf = client_context(client(pki, crl_files=(str(pki.crl),)))
    assert leaf.verify_flags & ssl.VERIFY_CRL_CHECK_LEAF
    chain = client_context(client(pki, crl_files=(str(pki.crl),), crl_check="all"))
    assert chain.verify_flags & ssl.VERIFY_CRL_CHECK_CHAIN
    none = client_context(client(pki))
    assert not none.verify_flags & (ssl.VERIFY_CRL_CHECK_LEAF | ssl.VERIFY_CRL_CHECK_CHAIN)
    with pytest.raises(TlsError, match="not a PEM CRL"):
        client_context(client(pki, crl_files=(str(pki.ca.cert),)))


def test_dhparam_is_ignored_by_a_client(pki: Pki, caplog: pytest.LogCaptureFixture) -> None:
    client_context(client(pki, dhparam_file=str(pki.dhparam)))
    assert "ignored" in caplog.text
    server = TlsOptions(
        key_file=str(pki.server.key), cert_file=str(pki.server.cert), dhparam_file=str(pki.dhparam)
    )
    server_context(server)


@pytest.mark.parametrize(
    ("make", "label"),
    [
        (lambda k: k.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                   serialization.NoEncryption()), "PRIVATE KEY"),
        (lambda k: k.private_bytes(serialization.Encoding.DER,
                                   serialization.PrivateFormat.TraditionalOpenSSL,
                                   serialization.NoEncryption()), "RSA PRIVATE KEY"),
        (lambda k: k.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                   serialization.BestAvailableEncryption(b"pw")),
         "ENCRYPTED PRIVATE KEY"),
    ],
)  # fmt: skip
def test_der_key_labels(make: Any, label: str) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    assert tls.der_key_label(make(key)) == label


def test_der_key_label_ec_and_garbage() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    der = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    assert tls.der_key_label(der) == "EC PRIVATE KEY"
    for junk in (b"", b"\x30", b"\x30\x03\x02\x01", b"hello world", b"\x04\x00"):
        with pytest.raises(ValueError):
            tls.der_key_label(junk)


# -------------------------------------------------------------------- seeding


def test_seed_files(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    seed = tmp_path / "seed"
    tls.read_seed(str(seed))  # missing: a warning, not an error
    assert "cannot read random seed file" in caplog.text
    tls.write_seed(str(seed))
    assert seed.stat().st_size == 1024
    assert stat.S_IMODE(seed.stat().st_mode) == 0o600
    tls.read_seed(str(seed))


# ------------------------------------------------------------------- messages


def _ssl_error(reason: str, cls: type[ssl.SSLError] = ssl.SSLError) -> ssl.SSLError:
    exc = cls(1, f"[SSL: {reason}] {reason.lower()}")
    exc.reason = reason
    return exc


def _verify_error(code: int, message: str) -> ssl.SSLCertVerificationError:
    exc = ssl.SSLCertVerificationError(1, "certificate verify failed")
    exc.verify_code = code
    exc.verify_message = message
    return exc


@pytest.mark.parametrize(
    ("exc", "kw", "expected"),
    [
        (_verify_error(20, "unable to get local issuer certificate"), {},
         "server certificate not trusted (unable to get local issuer certificate)"),
        (_verify_error(10, "certificate has expired"), {}, "server certificate has expired"),
        (_verify_error(62, "Hostname mismatch"), {"server_name": "pacs"},
         "does not match the host name 'pacs'"),
        (_verify_error(23, "certificate revoked"), {}, "revoked"),
        (_verify_error(3, "unable to get certificate CRL"), {}, "+crl FILE"),
        (_ssl_error("TLSV13_ALERT_CERTIFICATE_REQUIRED"), {}, "requires a client certificate"),
        (_ssl_error("SSLV3_ALERT_HANDSHAKE_FAILURE"), {}, "requires a client certificate"),
        (_ssl_error("SSLV3_ALERT_HANDSHAKE_FAILURE"), {"has_certificate": True},
         "no cipher suite in common"),
        (_ssl_error("WRONG_VERSION_NUMBER"), {}, "does not answer with TLS"),
        (_ssl_error("TLSV1_ALERT_PROTOCOL_VERSION"), {"profile": "bcp195-ex"},
         "no TLS version in common with the server"),
        (_ssl_error("NO_SHARED_CIPHER"), {}, "no cipher suite in common"),
        (_ssl_error("TLSV1_ALERT_UNKNOWN_CA"), {}, "the server rejected our certificate"),
        (_ssl_error("UNEXPECTED_EOF_WHILE_READING", ssl.SSLEOFError), {},
         "closed the connection during the handshake"),
        (ConnectionResetError(104, "reset"), {}, "closed the connection during the handshake"),
        (_ssl_error("SOMETHING_NEW"), {}, "something_new"),
        (_ssl_error("PEER_DID_NOT_RETURN_A_CERTIFICATE"), {"server": True},
         "the client sent no certificate"),
    ],
)  # fmt: skip
def test_describe_ssl_error(exc: BaseException, kw: dict[str, Any], expected: str) -> None:
    assert expected in tls.describe_ssl_error(exc, peer="pacs:2762", **kw)


# ------------------------------------------------------------------ the CLI

BASE = ["pacs", "2762", "a.dcm"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["+cf", "ca.pem"], "option +cf only allowed with +tls or +tla"),
        (["+tla", "+pw", "x"], "option +pw only allowed with +tls"),
        (["+tla", "+ws"], "option +ws only allowed with +rs"),
        (["+tla", "--no-sni", "--request-sni", "x"], "not allowed with --no-sni"),
        (["+tla", "+pz", "+cs", "AES128-SHA"], "option +cs not allowed with +pz"),
        (["+tla", "--check-hostname", "-ic"], "--check-hostname not allowed with -ic"),
        (["+tls", "k", "c", "-tls", "-der"], "option -der only allowed with +tls or +tla"),
    ],
)
def test_cli_dependencies(argv: list[str], message: str) -> None:
    with pytest.raises(UsageError) as info:
        parse_args([*argv, *BASE])
    assert message in str(info.value)


def test_cli_repeatable_and_last_wins() -> None:
    options = parse_args(["+tls", "k", "c", "+tla", "+cf", "a", "+cf", "b", "+py", "+pz", *BASE])
    assert not isinstance(options, InfoRequest)
    assert options.tls == "anonymous"
    assert options.tls_ca_files == ("a", "b")
    assert options.tls_profile == "bcp195-ex"


@pytest.mark.parametrize(
    ("word", "head"),
    [("+ph", "Supported TLS security profiles"), ("+cc", "Supported TLS ciphersuites are:")],
)
def test_cli_lists_exit_0(word: str, head: str) -> None:
    out, err = io.StringIO(), io.StringIO()
    assert main([word], stdout=out, stderr=err) == 0
    assert out.getvalue().startswith(head)
    assert err.getvalue() == ""


def test_profiles_and_ciphers_text() -> None:
    text = tls.profiles_text()
    for profile in PROFILES.values():
        assert profile.option in text
    assert "PS3.15 B.12" in text
    ciphers = tls.ciphers_text()
    rows = [line.split() for line in ciphers.splitlines()]
    assert ["TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "ECDHE-RSA-AES128-GCM-SHA256"] in rows
    assert "TLS_AES_256_GCM_SHA384" in ciphers


def test_cli_tls_configuration_error_is_fatal(pki: Pki, tmp_path: Path) -> None:
    err = io.StringIO()
    argv = ["+tls", str(pki.client_encrypted.key), str(pki.client_encrypted.cert), "+pw",
            "wrong", "127.0.0.1", "9", str(tmp_path / "x.dcm")]  # fmt: skip
    assert main(argv, stdout=io.StringIO(), stderr=err) == 1
    assert "F: TLS: cannot decrypt private key" in err.getvalue()
    assert "wrong password?" in err.getvalue()
