"""TLS contexts from :class:`~storescu.net.tls.options.TlsOptions`: client, server, seeding.

Theory of operation
-------------------
:func:`client_context` and :func:`server_context` turn the options into an
:class:`ssl.SSLContext` (a :class:`StorescuSSLContext`, which remembers what the
error messages need): the verification mode, the profile
(:func:`~storescu.net.tls.profiles.apply_profile`), the random seed, then our key
and certificate, the trusted CAs and the CRLs, read by
:mod:`storescu.net.tls.files`. Every problem found here (a missing file, a wrong
password, a profile OpenSSL cannot do) raises
:class:`~storescu.kernel.errors.TlsError` with a message that names the file or
option to change, before any connection is made.

* DCMTK never checks the server's host name; neither do we unless asked
  (``check_hostname``), in which case Python sends the checked name as SNI.
* ``+crl`` implies ``+crv``, as in DCMTK: OpenSSL then checks the peer's
  certificate (``VERIFY_CRL_CHECK_LEAF``), with ``+cra`` the whole chain.
* The seed files (``+rs``, ``+ws``/``+wf``) only add to OpenSSL's random
  generator, which seeds itself from the operating system.
"""

from __future__ import annotations

import logging
import os
import ssl

from storescu.kernel.errors import TlsError
from storescu.net.tls.files import (
    load_ca_dir,
    load_ca_file,
    load_crl,
    load_dh_params,
    load_key_and_certificate,
)
from storescu.net.tls.options import TlsOptions
from storescu.net.tls.profiles import DEFAULT_PROFILE, PROFILES, apply_profile

log = logging.getLogger("storescu")

__all__ = ["StorescuSSLContext", "client_context", "read_seed", "server_context", "write_seed"]


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
        load_dh_params(ctx, options.dhparam_file, options.der)
    return ctx


def _configure(ctx: StorescuSSLContext, options: TlsOptions, *, server: bool) -> None:
    profile = PROFILES.get(options.profile)
    if profile is None:
        raise TlsError(f"unknown TLS profile {options.profile!r} (use +ph to list them)")
    ctx.profile_name = profile.name
    apply_profile(ctx, profile, options.cipher_suites)
    if options.seed_file is not None:
        read_seed(options.seed_file)
    if not options.anonymous:
        if options.key_file is None or options.cert_file is None:
            raise TlsError("+tls needs both a private key file and a certificate file")
        load_key_and_certificate(ctx, options)
        ctx.has_certificate = True
    for path in options.ca_files:
        load_ca_file(ctx, path, options.der)
    for path in options.ca_dirs:
        load_ca_dir(ctx, path, options.der)
    crl_check = options.crl_check
    for path in options.crl_files:
        load_crl(ctx, path, options.der)
        if crl_check == "none":
            crl_check = "leaf"  # +crl implies +crv, as in DCMTK
    if crl_check == "leaf":
        ctx.verify_flags |= ssl.VERIFY_CRL_CHECK_LEAF
    elif crl_check == "all":
        ctx.verify_flags |= ssl.VERIFY_CRL_CHECK_CHAIN


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
