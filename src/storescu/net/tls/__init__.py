"""DICOM TLS (PS3.15 Annex B) on Python's :mod:`ssl`: options, profiles, contexts, errors.

Theory of operation
-------------------
:class:`TlsOptions` holds what DCMTK's TLS options say (``+tls``/``+tla``, password,
PEM/DER, trusted CAs, CRLs, profile, extra cipher suites, seed files, peer
verification, SNI) in a frozen object. :func:`client_context` and
:func:`server_context` turn it into an :class:`ssl.SSLContext`; every problem found
there (a missing file, a wrong password, a profile OpenSSL cannot do) raises
:class:`~storescu.kernel.errors.TlsError` with a message that names the file or option to
change, before any connection is made. :func:`describe_ssl_error` turns what
OpenSSL reports during or after the handshake into such a message too; the
transport uses it.

How the pieces map onto :mod:`ssl` (the README lists it option by option):

* ``load_cert_chain`` reads PEM only: a DER certificate is converted with
  :func:`ssl.DER_cert_to_PEM_cert`, a DER key is given the PEM label that matches
  its ASN.1 structure and written to a private temporary file, removed at once.
* A password callable is always passed, so OpenSSL never prompts by itself; it
  prompts (``+ps``) only when stdin is a terminal and fails at once otherwise.
* A security profile sets the minimum and maximum TLS version and the TLS <= 1.2
  cipher list. TLS 1.3 suites cannot be restricted from Python; OpenSSL's defaults
  (AES-GCM and ChaCha20) are within every profile that allows TLS 1.3.
* TLS 1.0 and 1.1 are never offered: RFC 8996 deprecates them, and OpenSSL 3 at its
  default security level cannot complete them anyway.
* DCMTK never checks the server's host name; neither do we unless asked
  (``check_hostname``), in which case Python sends the checked name as SNI.
"""

from __future__ import annotations

import base64
import contextlib
import getpass
import logging
import os
import re
import ssl
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Final, Literal

from storescu.kernel.errors import TlsError

log = logging.getLogger("storescu")

__all__ = [
    "CIPHER_SUITES",
    "DEFAULT_PROFILE",
    "PROFILES",
    "Profile",
    "StorescuSSLContext",
    "TlsOptions",
    "available_cipher_suites",
    "ciphers_text",
    "client_context",
    "der_key_label",
    "describe_ssl_error",
    "profiles_text",
    "read_seed",
    "server_context",
    "write_seed",
]

VerifyMode = Literal["require", "verify", "ignore"]
CrlMode = Literal["none", "leaf", "all"]


# ------------------------------------------------------------------- profiles


@dataclass(frozen=True)
class Profile:
    """One DICOM secure transport connection profile, as DCMTK implements it.

    ``tls12_suites`` are IANA names (keys of :data:`CIPHER_SUITES`) for TLS <= 1.2;
    ``tls13`` says whether TLS 1.3 may be negotiated; ``extra_suites`` whether
    ``+cs`` may add suites.
    """

    name: str
    option: str
    title: str
    section: str
    tls12_suites: tuple[str, ...]
    tls13: bool = True
    extra_suites: bool = True
    retired: bool = True
    note: str = ""


_GCM_RSA: Final = (
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384",
)

#: Profile name (DCMTK's ``--profile-NAME``) -> profile, in DCMTK 3.7's order.
PROFILES: Final[dict[str, Profile]] = {
    p.name: p
    for p in (
        # PS3.15 B.12: RFC 9325 (BCP 195, 2022) recommended suites, TLS >= 1.2.
        Profile(
            "8996",
            "+pg",
            "BCP 195 RFC 8996 TLS Profile",
            "PS3.15 B.12",
            (
                "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
                "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
                "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
                "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
            ),
            retired=False,
            note="default",
        ),
        # PS3.15 B.13: a fixed list; Camellia-GCM is left out (OpenSSL has none).
        Profile(
            "8996-mod",
            "+pm",
            "Modified BCP 195 RFC 8996 TLS Profile",
            "PS3.15 B.13",
            (
                "TLS_ECDHE_ECDSA_WITH_AES_128_CCM",
                "TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8",
                "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
                "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
                "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
                "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
                "TLS_ECDHE_ECDSA_WITH_AES_256_CCM",
                "TLS_ECDHE_ECDSA_WITH_AES_256_CCM_8",
                "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
                "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
            ),
            extra_suites=False,
            retired=False,
        ),
        Profile(
            "bcp195-nd",
            "+py",
            "Non-downgrading BCP 195 TLS Profile",
            "PS3.15 B.10",
            _GCM_RSA,
            note="DCMTK 3.6.7's default",
        ),
        Profile(
            "bcp195",
            "+px",
            "BCP 195 TLS Profile",
            "PS3.15 B.9",
            (*_GCM_RSA, "TLS_RSA_WITH_AES_128_CBC_SHA"),
        ),
        Profile(
            "bcp195-ex",
            "+pz",
            "Extended BCP 195 TLS Profile",
            "PS3.15 B.11",
            (
                *_GCM_RSA,
                "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
                "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
            ),
            tls13=False,
            extra_suites=False,
        ),
        Profile(
            "basic",
            "+pb",
            "Basic TLS Secure Transport Connection Profile",
            "PS3.15 B.1",
            ("TLS_RSA_WITH_3DES_EDE_CBC_SHA",),
            tls13=False,
        ),
        Profile(
            "aes",
            "+pa",
            "AES TLS Secure Transport Connection Profile",
            "PS3.15 B.3",
            ("TLS_RSA_WITH_AES_128_CBC_SHA",),
            tls13=False,
        ),
        Profile(
            "null",
            "+pn",
            "Authenticated unencrypted communication",
            "IHE ATNA",
            ("TLS_RSA_WITH_NULL_SHA",),
            tls13=False,
            note="no encryption",
        ),
    )
}
DEFAULT_PROFILE: Final = "8996"

#: IANA cipher suite name (DCMTK's ``+cs`` names) -> OpenSSL name, for the TLS <= 1.2
#: suites DCMTK knows and OpenSSL 3 still implements (static ECDH is gone).
CIPHER_SUITES: Final[dict[str, str]] = {
    "TLS_RSA_WITH_NULL_SHA": "NULL-SHA",
    "TLS_RSA_WITH_3DES_EDE_CBC_SHA": "DES-CBC3-SHA",
    "TLS_RSA_WITH_AES_128_CBC_SHA": "AES128-SHA",
    "TLS_RSA_WITH_CAMELLIA_128_CBC_SHA": "CAMELLIA128-SHA",
    "TLS_RSA_WITH_AES_128_CBC_SHA256": "AES128-SHA256",
    "TLS_RSA_WITH_AES_128_GCM_SHA256": "AES128-GCM-SHA256",
    "TLS_RSA_WITH_CAMELLIA_256_CBC_SHA": "CAMELLIA256-SHA",
    "TLS_RSA_WITH_AES_256_CBC_SHA": "AES256-SHA",
    "TLS_RSA_WITH_AES_256_CBC_SHA256": "AES256-SHA256",
    "TLS_RSA_WITH_AES_256_GCM_SHA384": "AES256-GCM-SHA384",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA": "ECDHE-ECDSA-AES128-SHA",
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA": "ECDHE-RSA-AES128-SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256": "ECDHE-ECDSA-AES128-SHA256",
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256": "ECDHE-RSA-AES128-SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256": "ECDHE-ECDSA-AES128-GCM-SHA256",
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256": "ECDHE-RSA-AES128-GCM-SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CCM": "ECDHE-ECDSA-AES128-CCM",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8": "ECDHE-ECDSA-AES128-CCM8",
    "TLS_DHE_DSS_WITH_AES_128_CBC_SHA": "DHE-DSS-AES128-SHA",
    "TLS_DHE_DSS_WITH_CAMELLIA_128_CBC_SHA": "DHE-DSS-CAMELLIA128-SHA",
    "TLS_DHE_RSA_WITH_AES_128_CBC_SHA": "DHE-RSA-AES128-SHA",
    "TLS_DHE_RSA_WITH_CAMELLIA_128_CBC_SHA": "DHE-RSA-CAMELLIA128-SHA",
    "TLS_DHE_DSS_WITH_AES_128_CBC_SHA256": "DHE-DSS-AES128-SHA256",
    "TLS_DHE_RSA_WITH_AES_128_CBC_SHA256": "DHE-RSA-AES128-SHA256",
    "TLS_DHE_DSS_WITH_AES_128_GCM_SHA256": "DHE-DSS-AES128-GCM-SHA256",
    "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256": "DHE-RSA-AES128-GCM-SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA": "ECDHE-ECDSA-AES256-SHA",
    "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA": "ECDHE-RSA-AES256-SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384": "ECDHE-ECDSA-AES256-SHA384",
    "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384": "ECDHE-RSA-AES256-SHA384",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256": "ECDHE-ECDSA-CHACHA20-POLY1305",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256": "ECDHE-RSA-CHACHA20-POLY1305",
    "TLS_ECDHE_ECDSA_WITH_AES_256_CCM": "ECDHE-ECDSA-AES256-CCM",
    "TLS_ECDHE_ECDSA_WITH_AES_256_CCM_8": "ECDHE-ECDSA-AES256-CCM8",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384": "ECDHE-ECDSA-AES256-GCM-SHA384",
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384": "ECDHE-RSA-AES256-GCM-SHA384",
    "TLS_DHE_DSS_WITH_AES_256_CBC_SHA": "DHE-DSS-AES256-SHA",
    "TLS_DHE_RSA_WITH_AES_256_CBC_SHA": "DHE-RSA-AES256-SHA",
    "TLS_DHE_DSS_WITH_CAMELLIA_256_CBC_SHA": "DHE-DSS-CAMELLIA256-SHA",
    "TLS_DHE_RSA_WITH_CAMELLIA_256_CBC_SHA": "DHE-RSA-CAMELLIA256-SHA",
    "TLS_DHE_DSS_WITH_AES_256_CBC_SHA256": "DHE-DSS-AES256-SHA256",
    "TLS_DHE_RSA_WITH_AES_256_CBC_SHA256": "DHE-RSA-AES256-SHA256",
    "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256": "DHE-RSA-CHACHA20-POLY1305",
    "TLS_DHE_DSS_WITH_AES_256_GCM_SHA384": "DHE-DSS-AES256-GCM-SHA384",
    "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384": "DHE-RSA-AES256-GCM-SHA384",
}
_OPENSSL_TO_IANA: Final = {v: k for k, v in CIPHER_SUITES.items()}

#: TLS 1.3 suites OpenSSL negotiates by default (not selectable from Python).
_TLS13_SUITES: Final = (
    "TLS_AES_256_GCM_SHA384",
    "TLS_CHACHA20_POLY1305_SHA256",
    "TLS_AES_128_GCM_SHA256",
)


# -------------------------------------------------------------------- options


@dataclass(frozen=True)
class TlsOptions:
    """What DCMTK's TLS options ask for. Build a context with :func:`client_context`.

    Parameters
    ----------
    key_file, cert_file : str or None
        Our private key and certificate (``+tls KEY CERT``); both None means
        anonymous TLS (``+tla``): no client certificate.
    password : str or None
        Password of an encrypted key (``+pw``; ``-pw`` is ``""``). None (``+ps``)
        asks on the terminal if the key is encrypted and stdin is a terminal.
    der : bool
        ``-der``: key, certificate, CA, CRL and DH files are DER, not PEM.
    ca_files, ca_dirs : tuple of str
        Trusted certificates (``+cf``) and hashed certificate directories (``+cd``).
    crl_files : tuple of str
        Revocation lists (``+crl``); giving any implies ``crl_check="leaf"``.
    crl_check : {"none", "leaf", "all"}
        ``+crv`` checks the peer's certificate, ``+cra`` the whole chain.
    profile : str
        A key of :data:`PROFILES` (``+pg`` is ``"8996"``, the default).
    cipher_suites : tuple of str
        ``+cs``: more TLS <= 1.2 suites, IANA (DCMTK) or OpenSSL names.
    dhparam_file : str or None
        ``+dp``: DH parameters for DHE suites; only a server uses them.
    seed_file, write_seed_file : str or None
        ``+rs`` / ``+ws`` / ``+wf``: see :func:`read_seed` and :func:`write_seed`.
    verify_peer : {"require", "verify", "ignore"}
        ``-rc`` / ``-vc`` / ``-ic``. A client always gets a certificate from the
        server, so ``"verify"`` equals ``"require"`` there; a server with
        ``"verify"`` accepts clients without one.
    sni : str or None
        ``--request-sni NAME``: server name sent in the handshake (none by default).
    check_hostname : bool
        Beyond DCMTK: the server certificate must match the host name (or the SNI
        name, when given).
    """

    key_file: str | None = None
    cert_file: str | None = None
    password: str | None = None
    der: bool = False
    ca_files: tuple[str, ...] = ()
    ca_dirs: tuple[str, ...] = ()
    crl_files: tuple[str, ...] = ()
    crl_check: CrlMode = "none"
    profile: str = DEFAULT_PROFILE
    cipher_suites: tuple[str, ...] = ()
    dhparam_file: str | None = None
    seed_file: str | None = None
    write_seed_file: str | None = None
    verify_peer: VerifyMode = "require"
    sni: str | None = None
    check_hostname: bool = False

    @property
    def anonymous(self) -> bool:
        """True when we present no certificate (``+tla``)."""
        return self.key_file is None and self.cert_file is None


class StorescuSSLContext(ssl.SSLContext):
    """An :class:`ssl.SSLContext` that remembers what error messages need."""

    has_certificate: bool = False
    profile_name: str = DEFAULT_PROFILE


# ------------------------------------------------------------------ contexts


def client_context(options: TlsOptions) -> StorescuSSLContext:
    """Build the context of a TLS client (the SCU) from ``options``.

    Raises
    ------
    TlsError
        A file cannot be read, the key's password is wrong or missing, the
        profile or a cipher suite is not available, or options contradict.
    """
    if options.check_hostname and options.verify_peer == "ignore":
        raise TlsError("the host name check needs the server certificate: not with -ic")
    ctx = StorescuSSLContext(ssl.PROTOCOL_TLS_CLIENT)
    # Order matters: check_hostname must be off before CERT_NONE is allowed.
    ctx.check_hostname = options.check_hostname
    ctx.verify_mode = ssl.CERT_NONE if options.verify_peer == "ignore" else ssl.CERT_REQUIRED
    _configure(ctx, options, server=False)
    if options.dhparam_file is not None:
        log.warning(
            "+dp %s ignored: DH parameters are chosen by the server, not by a TLS client",
            options.dhparam_file,
        )
    return ctx


def server_context(options: TlsOptions) -> StorescuSSLContext:
    """Build the context of a TLS server (the project's SCP) from ``options``.

    The server needs a key and certificate. ``verify_peer`` decides whether a
    client certificate is required (DCMTK's default), optional or ignored.
    """
    if options.anonymous:
        raise TlsError("a TLS server needs a private key and a certificate (+tls KEY CERT)")
    ctx = StorescuSSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.verify_mode = {
        "require": ssl.CERT_REQUIRED,
        "verify": ssl.CERT_OPTIONAL,
        "ignore": ssl.CERT_NONE,
    }[options.verify_peer]
    _configure(ctx, options, server=True)
    if options.dhparam_file is not None:
        _load_dh_params(ctx, options.dhparam_file, options.der)
    return ctx


def _configure(ctx: StorescuSSLContext, options: TlsOptions, *, server: bool) -> None:
    profile = PROFILES.get(options.profile)
    if profile is None:
        raise TlsError(f"unknown TLS profile {options.profile!r} (use +ph to list them)")
    ctx.profile_name = profile.name
    _apply_profile(ctx, profile, options.cipher_suites)
    if options.seed_file is not None:
        read_seed(options.seed_file)
    if not options.anonymous:
        if options.key_file is None or options.cert_file is None:
            raise TlsError("+tls needs both a private key file and a certificate file")
        _load_key_and_certificate(ctx, options)
        ctx.has_certificate = True
    for path in options.ca_files:
        _load_ca_file(ctx, path, options.der)
    for path in options.ca_dirs:
        _load_ca_dir(ctx, path, options.der)
    crl_check = options.crl_check
    for path in options.crl_files:
        _load_crl(ctx, path, options.der)
        if crl_check == "none":
            crl_check = "leaf"  # +crl implies +crv, as in DCMTK
    if crl_check == "leaf":
        ctx.verify_flags |= ssl.VERIFY_CRL_CHECK_LEAF
    elif crl_check == "all":
        ctx.verify_flags |= ssl.VERIFY_CRL_CHECK_CHAIN


def _apply_profile(ctx: ssl.SSLContext, profile: Profile, extra: tuple[str, ...]) -> None:
    available = available_cipher_suites()
    if profile.name == "basic" and CIPHER_SUITES["TLS_RSA_WITH_3DES_EDE_CBC_SHA"] not in available:
        raise TlsError(
            f"profile +pb ({profile.title}, retired) needs TLS_RSA_WITH_3DES_EDE_CBC_SHA: "
            f"3DES is not available in {ssl.OPENSSL_VERSION}; use the default +pg"
        )
    if extra and not profile.extra_suites:
        raise TlsError(f"+cs is not allowed with profile {profile.option} ({profile.title})")
    names = [CIPHER_SUITES[s] for s in profile.tls12_suites if CIPHER_SUITES[s] in available]
    for suite in extra:
        openssl_name = _check_extra_suite(suite, profile, available)
        if openssl_name not in names:
            names.append(openssl_name)
    # PS3.15 B.12/B.13 and RFC 8996: TLS 1.2 at least, for every profile (see the
    # module docstring); TLS 1.3 only where the profile allows it.
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.maximum_version = ssl.TLSVersion.TLSv1_3 if profile.tls13 else ssl.TLSVersion.TLSv1_2
    cipher_string = ":".join(names)
    if profile.name == "null" or any(n.startswith("NULL") for n in names):
        # Security level 0 is the only one that lets OpenSSL pick a NULL cipher.
        cipher_string += ":@SECLEVEL=0"
        log.warning("TLS profile %s: the data is sent without encryption", profile.option)
    try:
        ctx.set_ciphers(cipher_string)
    except ssl.SSLError as exc:
        raise TlsError(f"no cipher suite of profile {profile.option} is available") from exc


def _check_extra_suite(suite: str, profile: Profile, available: frozenset[str]) -> str:
    """Return the OpenSSL name of a ``+cs`` suite, or raise when it cannot be used."""
    if suite in CIPHER_SUITES:
        iana, openssl_name = suite, CIPHER_SUITES[suite]
    elif suite in _OPENSSL_TO_IANA:
        iana, openssl_name = _OPENSSL_TO_IANA[suite], suite
    elif suite in _TLS13_SUITES or suite.startswith("TLS_AES_"):
        raise TlsError(
            f"+cs {suite}: TLS 1.3 cipher suites cannot be chosen (OpenSSL's defaults are used)"
        )
    else:
        raise TlsError(f"+cs {suite}: unknown cipher suite (+cc lists the supported ones)")
    if openssl_name not in available:
        raise TlsError(f"+cs {suite}: not available in {ssl.OPENSSL_VERSION}")
    encrypted = "NULL" not in iana
    if not encrypted and profile.name != "null":
        raise TlsError(
            f"+cs {suite}: an unencrypted cipher suite is not allowed with profile {profile.option}"
        )
    if profile.name == "8996" and iana.endswith("_SHA"):
        raise TlsError(
            f"+cs {suite}: cipher suites with a SHA-1 MAC are not allowed with profile +pg "
            "(RFC 9325)"
        )
    if iana.startswith("TLS_RSA_"):
        log.warning("cipher suite %s uses RSA key transport (RFC 9325: should not be used)", iana)
    return openssl_name


@lru_cache(maxsize=1)
def available_cipher_suites() -> frozenset[str]:
    """OpenSSL names of the TLS <= 1.2 suites this OpenSSL can negotiate at all."""
    probe = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    probe.set_ciphers("ALL:COMPLEMENTOFALL:@SECLEVEL=0")
    return frozenset(str(c["name"]) for c in probe.get_ciphers() if c.get("protocol") != "TLSv1.3")


# ----------------------------------------------------------- keys and files


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


def _load_key_and_certificate(ctx: ssl.SSLContext, options: TlsOptions) -> None:
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


def _load_ca_file(ctx: ssl.SSLContext, path: str, der: bool) -> None:
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


def _load_ca_dir(ctx: ssl.SSLContext, path: str, der: bool) -> None:
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
                _load_ca_file(ctx, os.path.join(path, name), True)
        return
    ctx.load_verify_locations(capath=path)


def _load_crl(ctx: ssl.SSLContext, path: str, der: bool) -> None:
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


def _load_dh_params(ctx: ssl.SSLContext, path: str, der: bool) -> None:
    data = _read(path, "DH parameter file")
    with contextlib.ExitStack() as stack:
        pem_path = path
        if der:
            pem_path = stack.enter_context(_private_file(_pem("DH PARAMETERS", data)))
        try:
            ctx.load_dh_params(pem_path)
        except (ssl.SSLError, ValueError) as exc:
            raise TlsError(f"cannot load DH parameter file '{path}': {exc}") from exc


# --------------------------------------------------------------- seed files


def read_seed(path: str) -> None:
    """``+rs``: mix the file's bytes into OpenSSL's random generator.

    OpenSSL 3 seeds itself from the operating system; the bytes are added without
    any entropy claimed, so this can never weaken it. A missing file is a warning.
    """
    try:
        with open(path, "rb") as handle:
            data = handle.read(1 << 20)
    except OSError as exc:
        log.warning("cannot read random seed file '%s': %s (ignored)", path, exc.strerror)
        return
    ssl.RAND_add(data, 0.0)


def write_seed(path: str) -> None:
    """``+ws`` / ``+wf``: write 1024 fresh random bytes to ``path`` (mode 0600)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(ssl.RAND_bytes(1024))
    except OSError as exc:
        log.warning("cannot write random seed file '%s': %s", path, exc.strerror)


# ------------------------------------------------------------------ listings


def profiles_text() -> str:
    """``+ph``: the security profiles, their TLS versions and cipher suites."""
    available = available_cipher_suites()
    lines = ["Supported TLS security profiles (PS3.15 Annex B):", ""]
    for profile in PROFILES.values():
        state = "retired" if profile.retired else "current"
        note = f", {profile.note}" if profile.note else ""
        versions = "TLS 1.2 and 1.3" if profile.tls13 else "TLS 1.2 only"
        lines.append(f"  {profile.option}  {profile.title} ({profile.section}, {state}{note})")
        usable = [s for s in profile.tls12_suites if CIPHER_SUITES[s] in available]
        if not usable:
            lines.append("        not available: OpenSSL lacks its cipher suites")
            continue
        lines.append(f"        {versions}; TLS 1.2 suites:")
        lines += [f"          {s}" for s in profile.tls12_suites if CIPHER_SUITES[s] in available]
        missing = [s for s in profile.tls12_suites if CIPHER_SUITES[s] not in available]
        lines += [f"          ({s}: not in this OpenSSL)" for s in missing]
    lines += [
        "",
        "TLS 1.3 suites are OpenSSL's defaults: " + ", ".join(_TLS13_SUITES) + ".",
        "TLS 1.0 and 1.1 are never offered (RFC 8996).",
    ]
    return "\n".join(lines) + "\n"


def ciphers_text() -> str:
    """``+cc``: the cipher suites ``+cs`` accepts here (IANA name, OpenSSL name)."""
    available = available_cipher_suites()
    lines = ["Supported TLS ciphersuites are:"]
    width = max(len(n) for n in CIPHER_SUITES)
    for iana, openssl_name in CIPHER_SUITES.items():
        if openssl_name in available:
            lines.append(f"  {iana.ljust(width)}  {openssl_name}")
    lines.append("TLS 1.3 (always offered with TLS 1.3, not selectable):")
    lines += [f"  {name}" for name in _TLS13_SUITES]
    return "\n".join(lines) + "\n"


# -------------------------------------------------------------------- errors

#: OpenSSL certificate verification codes (X509_V_ERR_*) grouped by what to do.
_UNTRUSTED: Final = frozenset({2, 18, 19, 20, 21})
_EXPIRED: Final = 10
_NOT_YET_VALID: Final = 9
_REVOKED: Final = 23
_NO_CRL: Final = 3
_CRL_EXPIRED: Final = 12
_HOST_MISMATCH: Final = frozenset({62, 64})

_NOT_TLS: Final = frozenset(
    {"WRONG_VERSION_NUMBER", "PACKET_LENGTH_TOO_LONG", "RECORD_LAYER_FAILURE", "HTTP_REQUEST"}
)
_PROTOCOL_MISMATCH: Final = frozenset(
    {
        "TLSV1_ALERT_PROTOCOL_VERSION",
        "UNSUPPORTED_PROTOCOL",
        "NO_PROTOCOLS_AVAILABLE",
        "VERSION_TOO_LOW",
        "VERSION_TOO_HIGH",
    }
)
_CIPHER_MISMATCH: Final = frozenset(
    {
        "NO_SHARED_CIPHER",
        "NO_CIPHERS_AVAILABLE",
        "NO_SUITABLE_SIGNATURE_ALGORITHM",
        "TLSV1_ALERT_INSUFFICIENT_SECURITY",
        "SSLV3_ALERT_INSUFFICIENT_SECURITY",
    }
)
_OUR_CERT_REJECTED: Final = {
    "TLSV1_ALERT_UNKNOWN_CA": "it does not trust the CA that issued our certificate",
    "SSLV3_ALERT_BAD_CERTIFICATE": "bad certificate",
    "SSLV3_ALERT_CERTIFICATE_UNKNOWN": "certificate unknown",
    "SSLV3_ALERT_CERTIFICATE_EXPIRED": "our certificate has expired",
    "SSLV3_ALERT_CERTIFICATE_REVOKED": "our certificate has been revoked",
    "SSLV3_ALERT_UNSUPPORTED_CERTIFICATE": "unsupported certificate",
    "TLSV1_ALERT_ACCESS_DENIED": "access denied",
}


def describe_ssl_error(
    exc: BaseException,
    *,
    peer: str,
    server: bool = False,
    has_certificate: bool = False,
    profile: str = DEFAULT_PROFILE,
    server_name: str | None = None,
) -> str:
    """A message for a failed TLS handshake (or an alert at the first read).

    ``server`` is True on the SCP side (the peer is then a client);
    ``has_certificate`` whether we presented one; ``profile`` our profile name;
    ``server_name`` the name the certificate was checked against, if any.
    """
    them = "client" if server else "server"
    option = PROFILES[profile].option if profile in PROFILES else profile
    if isinstance(exc, ssl.SSLCertVerificationError):
        code = exc.verify_code
        detail = exc.verify_message or "certificate verify failed"
        if code in _UNTRUSTED:
            return (
                f"{them} certificate not trusted ({detail}): add the CA that issued it with "
                "+cf FILE or +cd DIR" + ("" if server else ", or skip the check with -ic")
            )
        if code == _EXPIRED:
            return f"{them} certificate has expired ({detail}): {peer} must renew it"
        if code == _NOT_YET_VALID:
            return f"{them} certificate is not yet valid ({detail}): check both clocks"
        if code in _HOST_MISMATCH:
            name = f" '{server_name}'" if server_name else ""
            return (
                f"server certificate does not match the host name{name} ({detail}); "
                "checked because of --check-hostname"
            )
        if code == _REVOKED:
            return f"{them} certificate has been revoked (CRL)"
        if code in (_NO_CRL, _CRL_EXPIRED):
            return (
                f"cannot check the {them} certificate for revocation ({detail}): give the "
                "issuer's current CRL with +crl FILE, or drop +crv/+cra"
            )
        return f"{them} certificate rejected: {detail}"
    if isinstance(exc, ssl.SSLError):
        reason = exc.reason or ""
        if reason in _NOT_TLS:
            if server:
                return f"the client {peer} did not start TLS (a plain DICOM client?)"
            return (
                f"{peer} does not answer with TLS (a plain DICOM port?): "
                "send without +tls/+tla, or use the peer's TLS port"
            )
        if reason == "TLSV13_ALERT_CERTIFICATE_REQUIRED" or reason in (
            "PEER_DID_NOT_RETURN_A_CERTIFICATE",
        ):
            if server:
                return "the client sent no certificate (accept that with -vc or -ic)"
            return "the server requires a client certificate: use +tls KEY CERT instead of +tla"
        if reason in _OUR_CERT_REJECTED:
            return f"the {them} rejected our certificate ({_OUR_CERT_REJECTED[reason]})"
        if reason in _PROTOCOL_MISMATCH:
            return (
                f"no TLS version in common with the {them} ({reason.lower()}): "
                f"profile {option} allows {_versions(profile)}"
            )
        if reason in _CIPHER_MISMATCH:
            return (
                f"no cipher suite in common with the {them} ({reason.lower()}): "
                f"try another profile than {option} (+ph lists them) or add one with +cs"
            )
        if reason == "SSLV3_ALERT_HANDSHAKE_FAILURE" and not server:
            if not has_certificate:
                return (
                    "the server refused the TLS handshake (handshake failure): it probably "
                    "requires a client certificate (use +tls KEY CERT instead of +tla), or "
                    f"has no cipher suite in common with profile {option}"
                )
            return (
                "the server refused the TLS handshake (handshake failure): no cipher suite "
                f"in common with profile {option}? (+ph lists the profiles)"
            )
        if isinstance(exc, ssl.SSLEOFError) or reason == "UNEXPECTED_EOF_WHILE_READING":
            return _closed_during_handshake(them)
        return reason.lower() or str(exc)
    if isinstance(exc, (ConnectionResetError, BrokenPipeError, EOFError)):
        return _closed_during_handshake(them)
    return str(exc) or type(exc).__name__


def _closed_during_handshake(them: str) -> str:
    return (
        f"the {them} closed the connection during the handshake: it may not use TLS on this "
        "port (a plain DICOM port?), or refused our TLS version, cipher suites or certificate "
        "(see its log)"
    )


def _versions(profile: str) -> str:
    p = PROFILES.get(profile)
    return "TLS 1.2 and 1.3" if p is None or p.tls13 else "TLS 1.2 only"
