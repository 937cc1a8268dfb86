"""The command line's TLS options -> :class:`storescu.net.tls.TlsOptions` (and a context).

Kept apart from ``main`` so that ``ssl`` is imported only when TLS is asked for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from storescu.cli.options import Options

if TYPE_CHECKING:
    import ssl

    from storescu.net.tls import CrlMode, TlsOptions, VerifyMode


def tls_options(options: Options) -> TlsOptions | None:
    """The TLS settings of a parsed command line; None for plain TCP (``-tls``)."""
    if options.tls == "off":
        return None
    from storescu.net.tls import TlsOptions

    return TlsOptions(
        key_file=options.tls_key_file if options.tls == "auth" else None,
        cert_file=options.tls_cert_file if options.tls == "auth" else None,
        password=options.tls_password,
        der=options.tls_der,
        ca_files=options.tls_ca_files,
        ca_dirs=options.tls_ca_dirs,
        crl_files=options.tls_crl_files,
        crl_check=cast("CrlMode", options.tls_crl),
        profile=options.tls_profile,
        cipher_suites=options.tls_cipher_suites,
        dhparam_file=options.tls_dhparam,
        seed_file=options.tls_seed_file,
        write_seed_file=options.tls_write_seed_file,
        verify_peer=cast("VerifyMode", options.tls_verify_peer),
        sni=options.tls_sni,
        check_hostname=options.tls_check_hostname,
    )


def client_tls(options: Options) -> tuple[ssl.SSLContext | None, TlsOptions | None]:
    """Build the client context the options ask for (raises ``TlsError``)."""
    settings = tls_options(options)
    if settings is None:
        return None, None
    from storescu.net.tls import client_context

    return client_context(settings), settings


def finish_tls(settings: TlsOptions | None) -> None:
    """After the run: ``+ws`` / ``+wf`` write a fresh seed file."""
    if settings is not None and settings.write_seed_file is not None:
        from storescu.net.tls import write_seed

        write_seed(settings.write_seed_file)
