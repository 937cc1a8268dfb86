"""``storescu-scp`` / ``python -m storescu.scp``: the SCP's command line.

argv -> :class:`~storescu.scp.server.StoreSCP` -> exit code. The TLS options
have DCMTK storescp's spellings (PS3.15 Annex B profiles, see
:mod:`storescu.net.tls`); they are a table of rows, like the sender's.
"""

from __future__ import annotations

import argparse
import logging
import os
import ssl
import sys
from collections.abc import Sequence
from typing import Any, Final

from storescu.kernel.errors import TlsError
from storescu.net.tls import DEFAULT_PROFILE, PROFILES, TlsOptions, server_context
from storescu.scp.commitment import CommitmentConfig
from storescu.scp.server import StoreSCP

log = logging.getLogger("storescu.scp")


def build_parser() -> argparse.ArgumentParser:
    """The SCP's argument parser (the man page and completions are generated from it)."""
    parser = argparse.ArgumentParser(
        prog="storescu-scp",
        description="A small Storage SCP (the storescu project's test and demo receiver).",
        prefix_chars="-+",
        allow_abbrev=False,
    )
    parser.add_argument("port", type=int, help="TCP port to listen on (0: any free port)")
    parser.add_argument(
        "--bind", default="127.0.0.1", metavar="ADDR", help="address to bind (default 127.0.0.1)"
    )
    parser.add_argument("-aet", "--aetitle", default="STORESCP", help="our AE title")
    parser.add_argument("-od", "--output-directory", metavar="DIR", help="write files here")
    parser.add_argument("--ignore", action="store_true", help="receive and discard data")
    parser.add_argument(
        "--status", default="0000", metavar="HEX", help="status to answer, hex (default 0000)"
    )
    parser.add_argument(
        "--error-comment", metavar="TEXT", help="Error Comment sent with a non-success status"
    )
    parser.add_argument(
        "-pdu", "--max-pdu", type=int, default=16384, metavar="BYTES", help="max receive PDU"
    )
    parser.add_argument(
        "--max-ops-performed",
        type=int,
        default=16,
        metavar="N",
        help="largest asynchronous operations window granted (PS3.7 D.3.3.3; default 16)",
    )
    parser.add_argument("--port-file", metavar="FILE", help="write the bound port to FILE")
    parser.add_argument("--exit-after", type=int, metavar="N", help="exit after N associations")
    parser.add_argument("-v", "--verbose", action="store_true", help="log associations")
    parser.add_argument("-d", "--debug", action="store_true", help="debug logging")
    commit = parser.add_argument_group("storage commitment (PS3.4 Annex J)")
    commit.add_argument(
        "--commit",
        choices=("same", "new"),
        help="be a Storage Commitment SCP: report on the same association or on a new one",
    )
    commit.add_argument(
        "--commit-delay", type=float, default=0.0, metavar="S", help="seconds before the report"
    )
    commit.add_argument(
        "--commit-report-to",
        metavar="HOST:PORT",
        help="--commit new: where to send the report (called AE: the requester's, or -rca)",
    )
    commit.add_argument(
        "-rca", "--commit-report-aet", metavar="AET", help="called AE title of the call-back"
    )
    commit.add_argument(
        "--commit-fail",
        action="append",
        default=[],
        metavar="UID",
        help="report this SOP Instance UID as failed (0x0110); repeatable",
    )
    _add_tls_arguments(parser)
    return parser


def _parse(argv: Sequence[str]) -> argparse.Namespace:
    return build_parser().parse_args(argv)


def _commitment(args: argparse.Namespace) -> CommitmentConfig | None:
    """The --commit options as a config (ValueError with a message when inconsistent)."""
    if args.commit is None:
        return None
    report_to = None
    if args.commit_report_to:
        host, _, port = args.commit_report_to.rpartition(":")
        if not host or not port.isdigit():
            raise ValueError(f"--commit-report-to {args.commit_report_to!r}: HOST:PORT expected")
        report_to = (host, int(port))
    return CommitmentConfig(
        mode=args.commit,
        delay=max(args.commit_delay, 0.0),
        report_to=report_to,
        report_aet=args.commit_report_aet,
        fail=frozenset(args.commit_fail),
    )


#: DCMTK storescp's TLS options, one row each: (spellings, argparse keywords).
#: Same spellings, and the last option of a group wins, as in DCMTK.
_TLS_ARGUMENTS: Final[tuple[tuple[tuple[str, ...], dict[str, Any]], ...]] = (
    (
        ("-tls", "--disable-tls"),
        dict(dest="tls", action="store_const", const=None, help="plain TCP"),
    ),
    (("+tls", "--enable-tls"), dict(dest="tls", nargs=2, metavar=("KEY", "CERT"), help="TLS")),
    (
        ("+ps", "--std-passwd"),
        dict(
            dest="password",
            action="store_const",
            const=None,
            help="ask for the key's password on the terminal (default)",
        ),
    ),
    (("+pw", "--use-passwd"), dict(dest="password", metavar="PASSWORD", help="key password")),
    (
        ("-pw", "--null-passwd"),
        dict(dest="password", action="store_const", const="", help="empty key password"),
    ),
    (
        ("-pem", "--pem-keys"),
        dict(dest="der", action="store_false", default=False, help="PEM (default)"),
    ),
    (("-der", "--der-keys"), dict(dest="der", action="store_true", help="DER files")),
    (
        ("+cf", "--add-cert-file"),
        dict(
            dest="ca_files",
            action="append",
            default=[],
            metavar="FILE",
            help="trust this CA certificate",
        ),
    ),
    (
        ("+cd", "--add-cert-dir"),
        dict(
            dest="ca_dirs",
            action="append",
            default=[],
            metavar="DIR",
            help="trust the certificates of this hashed directory",
        ),
    ),
    (
        ("+crl", "--add-crl-file"),
        dict(
            dest="crl_files",
            action="append",
            default=[],
            metavar="FILE",
            help="revocation list (implies +crv)",
        ),
    ),
    (
        ("+crv", "--enable-crl-vfy"),
        dict(
            dest="crl_check",
            action="store_const",
            const="leaf",
            default="none",
            help="check the client certificate against CRLs",
        ),
    ),
    (
        ("+cra", "--enable-crl-all"),
        dict(
            dest="crl_check",
            action="store_const",
            const="all",
            help="check the whole chain against CRLs",
        ),
    ),
    (
        ("+cs", "--cipher"),
        dict(
            dest="cipher_suites",
            action="append",
            default=[],
            metavar="NAME",
            help="also accept this TLS <= 1.2 cipher suite",
        ),
    ),
    (("+dp", "--dhparam"), dict(dest="dhparam", metavar="FILE", help="DH parameters (DHE suites)")),
    (
        ("+rs", "--seed"),
        dict(dest="seed", metavar="FILE", help="mix FILE into the random generator"),
    ),
    (
        ("-rc", "--require-peer-cert"),
        dict(
            dest="verify_peer",
            action="store_const",
            const="require",
            default="require",
            help="clients need a trusted certificate (default)",
        ),
    ),
    (
        ("-vc", "--verify-peer-cert"),
        dict(
            dest="verify_peer",
            action="store_const",
            const="verify",
            help="verify a client certificate if there is one",
        ),
    ),
    (
        ("-ic", "--ignore-peer-cert"),
        dict(
            dest="verify_peer",
            action="store_const",
            const="ignore",
            help="do not ask for client certificates",
        ),
    ),
)


def _add_tls_arguments(parser: argparse.ArgumentParser) -> None:
    """DCMTK storescp's TLS options: the rows above, then one per TLS profile."""
    group = parser.add_argument_group("transport layer security (TLS), as DCMTK storescp")
    for flags, keywords in _TLS_ARGUMENTS:
        group.add_argument(*flags, **keywords)
    for profile in PROFILES.values():
        group.add_argument(
            profile.option,
            f"--profile-{profile.name}",
            dest="profile",
            action="store_const",
            const=profile.name,
            help=profile.title,
        )


def _tls_context(args: argparse.Namespace) -> ssl.SSLContext | None:
    """The server context the TLS options ask for (None without +tls)."""
    if not args.tls:
        return None
    key, cert = args.tls
    options = TlsOptions(
        key_file=key,
        cert_file=cert,
        password=args.password,
        der=bool(args.der),
        ca_files=tuple(args.ca_files),
        ca_dirs=tuple(args.ca_dirs),
        crl_files=tuple(args.crl_files),
        crl_check=args.crl_check,
        profile=args.profile or DEFAULT_PROFILE,
        cipher_suites=tuple(args.cipher_suites),
        dhparam_file=args.dhparam,
        seed_file=args.seed,
        verify_peer=args.verify_peer,
    )
    return server_context(options)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the SCP from the command line; returns the exit code."""
    args = _parse(sys.argv[1:] if argv is None else argv)
    level = logging.DEBUG if args.debug else logging.INFO if args.verbose else logging.WARNING
    logging.basicConfig(level=level, format="%(levelname).1s: %(message)s", stream=sys.stderr)
    try:
        status = int(args.status, 16)
    except ValueError:
        print(f"storescu-scp: invalid --status {args.status!r} (hex expected)", file=sys.stderr)
        return 1
    output = None if args.ignore else args.output_directory
    try:
        commitment = _commitment(args)
    except ValueError as exc:
        print(f"storescu-scp: {exc}", file=sys.stderr)
        return 1
    try:
        tls = _tls_context(args)
    except TlsError as exc:
        print(f"storescu-scp: {exc}", file=sys.stderr)
        return 1
    try:
        scp = StoreSCP(
            port=args.port,
            host=args.bind,
            ae_title=args.aetitle,
            output_dir=output,
            status=status,
            error_comment=args.error_comment,
            max_pdu=args.max_pdu,
            max_ops_performed=max(1, args.max_ops_performed),
            exit_after=args.exit_after,
            tls=tls,
            commitment=commitment,
        )
    except OSError as exc:
        print(f"storescu-scp: cannot listen on {args.bind}:{args.port}: {exc}", file=sys.stderr)
        return 1
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as handle:
            handle.write(f"{scp.port}\n")
        os.replace(tmp, args.port_file)
    log.info(
        "listening on %s:%d as %s%s", args.bind, scp.port, args.aetitle, " (TLS)" if tls else ""
    )
    try:
        scp.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        scp.stop()
    return 0


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())


if __name__ == "__main__":
    run()
