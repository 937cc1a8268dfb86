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

The package is the public face; its modules, downwards (each imports only those
below it):

* :mod:`~storescu.net.tls.context`: :func:`client_context`, :func:`server_context`,
  the seed files (:func:`read_seed`, :func:`write_seed`).
* :mod:`~storescu.net.tls.files`: key, certificate, CA, CRL and DH parameter files
  (PEM or DER, the password prompt).
* :mod:`~storescu.net.tls.options`: :class:`TlsOptions`.
* :mod:`~storescu.net.tls.ssl_errors`: :func:`describe_ssl_error`.
* :mod:`~storescu.net.tls.profiles`: :data:`PROFILES` and :data:`CIPHER_SUITES`,
  TLS versions and cipher lists onto a context, the ``+ph`` / ``+cc`` listings.

Each module's header says how its part maps onto :mod:`ssl` (the README lists it
option by option). Importing this package imports :mod:`ssl`: the command line
and the transport import it only when TLS is asked for.
"""

from __future__ import annotations

from storescu.net.tls.context import (
    StorescuSSLContext,
    client_context,
    read_seed,
    server_context,
    write_seed,
)
from storescu.net.tls.files import der_key_label
from storescu.net.tls.options import CrlMode as CrlMode
from storescu.net.tls.options import TlsOptions
from storescu.net.tls.options import VerifyMode as VerifyMode
from storescu.net.tls.profiles import (
    CIPHER_SUITES,
    DEFAULT_PROFILE,
    PROFILES,
    Profile,
    available_cipher_suites,
    ciphers_text,
    profiles_text,
)
from storescu.net.tls.ssl_errors import describe_ssl_error

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
