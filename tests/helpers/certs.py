"""Test certificates, made fresh by each test session (never committed).

:func:`make_pki` writes into a directory: two CAs, a server certificate for
``localhost`` / ``127.0.0.1``, a client certificate, an expired server certificate,
one for another host, one signed by the second CA, a revoked one with its CRL, the
same in DER, encrypted keys, and a hashed CA directory (``openssl rehash``).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

PASSWORD = "s3cret pass"
OPENSSL = shutil.which("openssl") or "/usr/bin/openssl"


@dataclass(frozen=True)
class Pair:
    """A key and its certificate, PEM (and DER beside them)."""

    key: Path
    cert: Path

    @property
    def key_der(self) -> Path:
        return self.key.with_suffix(".der")

    @property
    def cert_der(self) -> Path:
        return self.cert.with_suffix(".der")

    @property
    def args(self) -> list[str]:
        """``+tls KEY CERT``."""
        return ["+tls", str(self.key), str(self.cert)]


@dataclass(frozen=True)
class Pki:
    root: Path
    ca: Pair
    ca2: Pair
    server: Pair
    client: Pair
    expired: Pair
    other_host: Pair
    server_ca2: Pair
    client_ca2: Pair
    revoked: Pair
    server_encrypted: Pair
    client_encrypted: Pair
    crl: Path  # CA 1's CRL, revoking ``revoked`` only
    crl_der: Path
    ca_dir: Path  # hashed directory holding CA 1
    dhparam: Path


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _name(cn: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "storescu tests"),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ]
    )


_NOW = dt.datetime.now(dt.timezone.utc)


def _cert(
    key: rsa.RSAPrivateKey,
    cn: str,
    issuer: tuple[rsa.RSAPrivateKey, x509.Certificate] | None,
    *,
    ca: bool = False,
    hosts: tuple[str, ...] = (),
    client: bool = False,
    not_after: dt.datetime | None = None,
    serial: int | None = None,
) -> x509.Certificate:
    signer_key, issuer_name = (key, _name(cn)) if issuer is None else (issuer[0], issuer[1].subject)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(cn))
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(serial or x509.random_serial_number())
        .not_valid_before(_NOW - dt.timedelta(days=30))
        .not_valid_after(not_after or _NOW + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    else:
        usage = ExtendedKeyUsageOID.CLIENT_AUTH if client else ExtendedKeyUsageOID.SERVER_AUTH
        builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    if hosts:
        names: list[x509.GeneralName] = []
        for host in hosts:
            try:
                names.append(x509.IPAddress(ipaddress.ip_address(host)))
            except ValueError:
                names.append(x509.DNSName(host))
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return builder.sign(signer_key, hashes.SHA256())


def _write(
    directory: Path,
    stem: str,
    key: rsa.RSAPrivateKey,
    cert: x509.Certificate,
    password: str | None = None,
) -> Pair:
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(password.encode())
        if password is not None
        else serialization.NoEncryption()
    )
    pair = Pair(directory / f"{stem}.key.pem", directory / f"{stem}.cert.pem")
    pair.key.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)
    )
    pair.key.chmod(0o600)
    pair.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    # DER: PKCS#1 for the key (TraditionalOpenSSL), to exercise the label detection.
    pair.key_der.write_bytes(
        key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    pair.cert_der.write_bytes(cert.public_bytes(serialization.Encoding.DER))
    return pair


def make_pki(directory: Path) -> Pki:
    """Create every certificate and file the TLS tests use (about a second)."""
    directory.mkdir(parents=True, exist_ok=True)
    ca_key, ca2_key, server_key, client_key = _key(), _key(), _key(), _key()
    ca_cert = _cert(ca_key, "storescu test CA", None, ca=True)
    ca2_cert = _cert(ca2_key, "storescu other CA", None, ca=True)
    ca = (ca_key, ca_cert)
    ca2 = (ca2_key, ca2_cert)
    local = ("localhost", "127.0.0.1")
    server_cert = _cert(server_key, "localhost", ca, hosts=local)
    client_cert = _cert(client_key, "storescu client", ca, client=True)
    expired_cert = _cert(
        server_key, "localhost", ca, hosts=local, not_after=_NOW - dt.timedelta(days=1)
    )
    other_cert = _cert(server_key, "other.example", ca, hosts=("other.example",))
    server_ca2 = _cert(server_key, "localhost", ca2, hosts=local)
    client_ca2 = _cert(client_key, "storescu client", ca2, client=True)
    revoked_serial = x509.random_serial_number()
    revoked_cert = _cert(server_key, "localhost", ca, hosts=local, serial=revoked_serial)

    pki_ca = _write(directory, "ca", ca_key, ca_cert)
    crl = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca_cert.subject)
        .last_update(_NOW - dt.timedelta(days=1))
        .next_update(_NOW + dt.timedelta(days=30))
        .add_revoked_certificate(
            x509.RevokedCertificateBuilder()
            .serial_number(revoked_serial)
            .revocation_date(_NOW - dt.timedelta(hours=1))
            .build()
        )
        .sign(ca_key, hashes.SHA256())
    )
    crl_path = directory / "ca.crl.pem"
    crl_path.write_bytes(crl.public_bytes(serialization.Encoding.PEM))
    crl_der = directory / "ca.crl.der"
    crl_der.write_bytes(crl.public_bytes(serialization.Encoding.DER))

    ca_dir = directory / "ca-dir"
    ca_dir.mkdir(exist_ok=True)
    shutil.copy(pki_ca.cert, ca_dir / "ca.pem")
    subprocess.run([OPENSSL, "rehash", str(ca_dir)], check=True, capture_output=True)

    dhparam = directory / "dhparam.pem"
    # A named RFC 7919 group: instant, unlike generating new parameters.
    subprocess.run(
        [OPENSSL, "genpkey", "-genparam", "-algorithm", "DH", "-pkeyopt", "group:ffdhe2048"],
        check=True,
        stdout=dhparam.open("wb"),
        stderr=subprocess.PIPE,
    )

    return Pki(
        root=directory,
        ca=pki_ca,
        ca2=_write(directory, "ca2", ca2_key, ca2_cert),
        server=_write(directory, "server", server_key, server_cert),
        client=_write(directory, "client", client_key, client_cert),
        expired=_write(directory, "expired", server_key, expired_cert),
        other_host=_write(directory, "other-host", server_key, other_cert),
        server_ca2=_write(directory, "server-ca2", server_key, server_ca2),
        client_ca2=_write(directory, "client-ca2", client_key, client_ca2),
        revoked=_write(directory, "revoked", server_key, revoked_cert),
        server_encrypted=_write(directory, "server-enc", server_key, server_cert, PASSWORD),
        client_encrypted=_write(directory, "client-enc", client_key, client_cert, PASSWORD),
        crl=crl_path,
        crl_der=crl_der,
        ca_dir=ca_dir,
        dhparam=dhparam,
    )
