"""Keys, certificates, CA, CRL and DH parameter files onto a context, PEM or DER.

Theory of operation
-------------------
Each ``load_*`` function reads one kind of file named by the options into an
:class:`ssl.SSLContext`; a file that cannot be used raises
:class:`~storescu.kernel.errors.TlsError` naming the file and the option to change.

* ``load_cert_chain`` reads PEM only: a DER certificate is converted with
  :func:`ssl.DER_cert_to_PEM_cert`, a DER key is given the PEM label that matches
  its ASN.1 structure (:func:`der_key_label`) and written to a private temporary
  file, removed at once. DER CRLs and DH parameters go the same way.
* A password callable is always passed, so OpenSSL never prompts by itself; it
  prompts (``+ps``) only when stdin is a terminal and fails at once otherwise.
* ``+cd`` directories need OpenSSL's hashed names (``openssl rehash``); with
  ``-der`` the hashed files are loaded one by one.
"""

from __future__ import annotations

import base64
import contextlib
import getpass
import os
import re
import ssl
import sys
import tempfile
from collections.abc import Iterator
from typing import Final

from storescu.kernel.errors import TlsError
from storescu.net.tls.options import TlsOptions

__all__ = [
    "der_key_label",
    "load_ca_dir",
    "load_ca_file",
    "load_crl",
    "load_dh_params",
    "load_key_and_certificate",
]


# ------------------------------------------------------------ DER and PEM


def _read(path: str, what: str) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as exc:
        raise TlsError(f"cannot read {what} '{path}': {exc.strerror or exc}") from exc


def _pem(label: str, der: bytes) -> str:
    body = base64.encodebytes(der).decode("ascii")
    return f"-----BEGIN {label}-----\n{body}-----END {label}-----\n"


def _der_items(data: bytes) -> list[tuple[int, bytes]]:
    """Split DER content into (tag, value) pairs; raise ValueError on bad lengths."""
    items: list[tuple[int, bytes]] = []
    pos = 0
    while pos < len(data):
        if pos + 2 > len(data):
            raise ValueError("truncated")
        tag, first = data[pos], data[pos + 1]
        pos += 2
        if first < 0x80:
            length = first
        else:
            count = first & 0x7F
            if count == 0 or count > 4 or pos + count > len(data):
                raise ValueError("bad length")
            length = int.from_bytes(data[pos : pos + count], "big")
            pos += count
        if pos + length > len(data):
            raise ValueError("truncated")
        items.append((tag, data[pos : pos + length]))
        pos += length
    return items


def der_key_label(der: bytes) -> str:
    """The PEM label of a DER private key, found from its ASN.1 structure.

    PKCS#8 (``PRIVATE KEY``), encrypted PKCS#8 (``ENCRYPTED PRIVATE KEY``),
    PKCS#1 RSA (``RSA PRIVATE KEY``), SEC1 EC (``EC PRIVATE KEY``) and DSA.

    Raises
    ------
    ValueError
        The bytes are not one of these structures.
    """
    outer = _der_items(der)
    if len(outer) != 1 or outer[0][0] != 0x30:
        raise ValueError("not a DER SEQUENCE")
    inner = _der_items(outer[0][1])
    if len(inner) < 2:
        raise ValueError("too few fields")
    tags = [tag for tag, _ in inner]
    if tags[0] == 0x30 and tags[1] == 0x04:
        return "ENCRYPTED PRIVATE KEY"  # EncryptedPrivateKeyInfo (RFC 5958)
    if tags[0] != 0x02:
        raise ValueError("no version field")
    version = int.from_bytes(inner[0][1], "big")
    if version == 1 and tags[1] == 0x04:
        return "EC PRIVATE KEY"  # ECPrivateKey (RFC 5915)
    if tags[1] == 0x30:
        return "PRIVATE KEY"  # PrivateKeyInfo (RFC 5958)
    if all(tag == 0x02 for tag in tags):
        if len(tags) >= 9:
            return "RSA PRIVATE KEY"  # RSAPrivateKey (RFC 8017)
        if len(tags) == 6:
            return "DSA PRIVATE KEY"
    raise ValueError("unknown private key structure")


@contextlib.contextmanager
def _private_file(text: str) -> Iterator[str]:
    """A temporary file only we can read (mode 0600), removed when done."""
    fd, path = tempfile.mkstemp(prefix="storescu-", suffix=".pem")
    try:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(text)
        yield path
    finally:
        with contextlib.suppress(OSError):
            os.remove(path)


class _NoTerminal(Exception):
    """+ps needs a terminal and stdin is not one."""


def _stdin_is_terminal() -> bool:
    stream = sys.stdin
    try:
        return stream is not None and stream.isatty()
    except (ValueError, OSError):
        return False


# ------------------------------------------------------------------ loading


def load_key_and_certificate(ctx: ssl.SSLContext, options: TlsOptions) -> None:
    """``+tls KEY CERT``: our private key and certificate, PEM or DER (``-der``)."""
    key_path, cert_path = options.key_file, options.cert_file
    assert key_path is not None and cert_path is not None
    key_data = _read(key_path, "private key file")
    cert_data = _read(cert_path, "certificate file")
    if options.der:
        try:
            cert_text = ssl.DER_cert_to_PEM_cert(cert_data)
            _der_items(cert_data)
            key_text = _pem(der_key_label(key_data), key_data)
        except ValueError as exc:
            raise TlsError(
                f"cannot read '{key_path}' / '{cert_path}' as DER ({exc}); drop -der for PEM files"
            ) from exc
    else:
        cert_text = cert_data.decode("latin-1")
        key_text = key_data.decode("latin-1")
        if "-----BEGIN CERTIFICATE-----" not in cert_text:
            raise TlsError(f"'{cert_path}' is not a PEM certificate (use -der for DER files)")
        if not re.search(r"-----BEGIN [A-Z ]*PRIVATE KEY-----", key_text):
            raise TlsError(f"'{key_path}' is not a PEM private key (use -der for DER files)")
    asked: list[bool] = []

    def password() -> bytes:
        # Always given to OpenSSL, which would otherwise prompt on the terminal
        # by itself and hang a batch job. Called only for an encrypted key.
        asked.append(True)
        if options.password is not None:
            return options.password.encode("utf-8")
        if not _stdin_is_terminal():
            raise _NoTerminal
        return getpass.getpass(f"Enter pass phrase for {key_path}: ").encode("utf-8")

    with contextlib.ExitStack() as stack:
        key_file = key_path
        cert_file = cert_path
        if options.der:
            key_file = stack.enter_context(_private_file(key_text))
            cert_file = stack.enter_context(_private_file(cert_text))
        try:
            ctx.load_cert_chain(cert_file, key_file, password=password)
        except _NoTerminal:
            raise TlsError(
                f"private key '{key_path}' is encrypted and stdin is not a terminal to ask "
                "for its password: give it with +pw PASSWORD (or -pw for an empty one)"
            ) from None
        except ssl.SSLError as exc:
            if exc.reason == "KEY_VALUES_MISMATCH":
                raise TlsError(
                    f"private key '{key_path}' does not belong to certificate '{cert_path}'"
                ) from exc
            if asked:
                raise TlsError(
                    f"cannot decrypt private key '{key_path}' (wrong password?)"
                ) from exc
            raise TlsError(
                f"cannot load private key '{key_path}' with certificate '{cert_path}': "
                f"{exc.reason or exc}"
            ) from exc


def load_ca_file(ctx: ssl.SSLContext, path: str, der: bool) -> None:
    """``+cf FILE``: trust the CA certificate in ``path``."""
    data = _read(path, "CA certificate file")
    try:
        if der:
            ctx.load_verify_locations(cadata=data)
        else:
            ctx.load_verify_locations(cafile=path)
    except (ssl.SSLError, ValueError) as exc:
        form = "DER" if der else "PEM"
        raise TlsError(
            f"cannot load CA certificate file '{path}': no {form} certificate in it"
            + ("" if der else " (use -der for DER files)")
        ) from exc


_HASH_NAME: Final = re.compile(r"[0-9a-f]{8}\.(?:r)?[0-9]+")


def load_ca_dir(ctx: ssl.SSLContext, path: str, der: bool) -> None:
    """``+cd DIR``: trust the certificates of a hashed directory (``openssl rehash``)."""
    try:
        names = os.listdir(path)
    except OSError as exc:
        raise TlsError(f"cannot read CA directory '{path}': {exc.strerror or exc}") from exc
    hashed = [n for n in names if _HASH_NAME.fullmatch(n)]
    if not hashed:
        raise TlsError(
            f"CA directory '{path}' has no hashed certificate names (like 1a2b3c4d.0): "
            f"run 'openssl rehash {path}'"
        )
    if der:
        # OpenSSL's directory lookup from Python reads PEM only: load the DER
        # files it would have consulted (the hashed names) one by one.
        for name in hashed:
            if not name.split(".")[1].startswith("r"):
                load_ca_file(ctx, os.path.join(path, name), True)
        return
    ctx.load_verify_locations(capath=path)


def load_crl(ctx: ssl.SSLContext, path: str, der: bool) -> None:
    """``+crl FILE``: add a certificate revocation list to the trust store."""
    data = _read(path, "CRL file")
    if der:
        with _private_file(_pem("X509 CRL", data)) as pem_path:
            _load_crl_pem(ctx, pem_path, path)
    else:
        if b"-----BEGIN X509 CRL-----" not in data:
            raise TlsError(f"'{path}' is not a PEM CRL (use -der for DER files)")
        _load_crl_pem(ctx, path, path)


def _load_crl_pem(ctx: ssl.SSLContext, pem_path: str, shown: str) -> None:
    try:
        ctx.load_verify_locations(cafile=pem_path)
    except ssl.SSLError as exc:
        raise TlsError(f"cannot load CRL file '{shown}': {exc.reason or exc}") from exc


def load_dh_params(ctx: ssl.SSLContext, path: str, der: bool) -> None:
    """``+dp FILE``: DH parameters for the DHE suites of a server."""
    data = _read(path, "DH parameter file")
    with contextlib.ExitStack() as stack:
        pem_path = path
        if der:
            pem_path = stack.enter_context(_private_file(_pem("DH PARAMETERS", data)))
        try:
            ctx.load_dh_params(pem_path)
        except (ssl.SSLError, ValueError) as exc:
            raise TlsError(f"cannot load DH parameter file '{path}': {exc}") from exc
