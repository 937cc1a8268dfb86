"""What DCMTK's TLS options ask for, as one frozen record: :class:`TlsOptions`.

Theory of operation
-------------------
:class:`TlsOptions` holds what DCMTK's TLS options say (``+tls``/``+tla``, password,
PEM/DER, trusted CAs, CRLs, profile, extra cipher suites, seed files, peer
verification, SNI) and nothing else: it reads no file and checks nothing.
:func:`~storescu.net.tls.context.client_context` and
:func:`~storescu.net.tls.context.server_context` check it and turn it into an
:class:`ssl.SSLContext`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from storescu.net.tls.profiles import DEFAULT_PROFILE

__all__ = ["CrlMode", "TlsOptions", "VerifyMode"]

VerifyMode = Literal["require", "verify", "ignore"]
CrlMode = Literal["none", "leaf", "all"]


@dataclass(frozen=True)
class TlsOptions:
    """What DCMTK's TLS options ask for (a context: :func:`~storescu.net.tls.client_context`).

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
