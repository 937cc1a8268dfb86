"""``--echo`` and ``--probe``: verify a peer and list what it accepts.

Results are data, so they go to stdout; messages stay on stderr.
"""

from __future__ import annotations

import logging
import socket
import time
from typing import TextIO

from storescu.cli.exitcodes import ExitCode
from storescu.cli.options import Options
from storescu.kernel.constants import (
    EXPLICIT_VR_BIG_ENDIAN,
    EXPLICIT_VR_LITTLE_ENDIAN,
    IMPLICIT_VR_LITTLE_ENDIAN,
    STORAGE_SOP_CLASSES,
    sop_class_name,
    transfer_syntax_name,
)
from storescu.kernel.errors import StorescuError, UsageError
from storescu.net.client import AssociationSettings
from storescu.protocol.pdu import UserIdentity

log = logging.getLogger("storescu")

_FAMILIES = {"ipv4": socket.AF_INET, "ipv6": socket.AF_INET6, "auto": socket.AF_UNSPEC}


def address_family(options: Options) -> int:
    """``-i4`` / ``-i6`` / ``-i0`` as a socket address family."""
    return _FAMILIES[options.ip_version]


def _read(path: str, what: str) -> bytes:
    try:
        with open(path, "rb") as handle:
            data = handle.read(0xFFFF + 1)
    except OSError as exc:
        raise UsageError(f"cannot read {what} file {path!r}: {exc.strerror or exc}") from exc
    if len(data) > 0xFFFF:
        # PS3.7 D.3.3.7.1: the primary field has a 16-bit length.
        raise UsageError(f"{what} file {path!r} is larger than 65535 bytes")
    return data


def user_identity(options: Options) -> UserIdentity | None:
    """Build the user identity sub-item (``-usr -pwd -epw -kt --saml --jwt -rsp``).

    Identity types (PS3.7 Table D.3-14): 1 username, 2 username and passcode,
    3 Kerberos service ticket, 4 SAML assertion, 5 JSON Web Token.
    """
    positive = options.positive_response
    chosen = [
        name
        for name, value in (
            ("-usr", options.user),
            ("-kt", options.kerberos_file),
            ("--saml", options.saml_file),
            ("--jwt", options.jwt_file),
        )
        if value is not None
    ]
    if len(chosen) > 1:
        raise UsageError(f"options {' and '.join(chosen)} cannot be combined (one identity)")
    if (options.password is not None or options.empty_password) and options.user is None:
        raise UsageError("-pwd and -epw need -usr")
    if options.user is not None:
        user = options.user.encode("utf-8")
        if options.password is not None:
            return UserIdentity(2, positive, user, options.password.encode("utf-8"))
        if options.empty_password:
            return UserIdentity(2, positive, user, b"")
        return UserIdentity(1, positive, user)
    if options.kerberos_file is not None:
        return UserIdentity(3, positive, _read(options.kerberos_file, "Kerberos ticket"))
    if options.saml_file is not None:
        return UserIdentity(4, positive, _read(options.saml_file, "SAML assertion"))
    if options.jwt_file is not None:
        return UserIdentity(5, positive, _read(options.jwt_file, "JSON web token"))
    if positive:
        raise UsageError("-rsp needs a user identity (-usr, -kt, --saml or --jwt)")
    return None


def run_echo(options: Options, settings: AssociationSettings, out: TextIO) -> int:
    """C-ECHO the peer; print the status and round-trip time to ``out``."""
    from storescu.api import echo

    started = time.perf_counter()
    try:
        status = echo(options.peer, options.port, settings, address_family(options))
    except StorescuError as exc:
        log.critical("Echo failed: %s", exc)
        return int(ExitCode.FAILURE)
    elapsed = (time.perf_counter() - started) * 1000
    print(
        f"C-ECHO {options.peer}:{options.port} ({options.called_aet}): "
        f"{status.text} (0x{status.code:04X}) in {elapsed:.1f} ms",
        file=out,
    )
    return int(ExitCode.SUCCESS if status.is_success else ExitCode.FAILURE)


def run_probe(options: Options, settings: AssociationSettings, out: TextIO) -> int:
    """Print which SOP classes the peer accepts in which syntaxes (no data sent)."""
    from storescu.run.items import inspect_inputs
    from storescu.run.probe import probe

    syntaxes = [EXPLICIT_VR_LITTLE_ENDIAN, EXPLICIT_VR_BIG_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN]
    if options.files:
        items = inspect_inputs(options.files, options.read_mode)
        classes = [item.info.sop_class_uid for item in items if item.info is not None]
        for item in items:
            if item.info is None:
                log.warning("Bad DICOM file: %s: %s", item.path, item.error)
            elif item.info.transfer_syntax not in syntaxes:
                syntaxes.append(item.info.transfer_syntax)
        if not classes:
            log.critical("no valid input files to probe for")
            return int(ExitCode.FAILURE)
    else:
        classes = [uid for uid, _ in STORAGE_SOP_CLASSES]
    try:
        results = probe(
            options.peer, options.port, classes, syntaxes, settings, address_family(options)
        )
    except StorescuError as exc:
        log.critical("Probe failed: %s", exc)
        return int(ExitCode.FAILURE)
    current = None
    for result in results:
        if result.sop_class_uid != current:
            current = result.sop_class_uid
            print(f"{sop_class_name(current)} ({current})", file=out)
        verdict = "accepted" if result.accepted else f"rejected: {result.reason}"
        print(f"  {transfer_syntax_name(result.transfer_syntax):<45} {verdict}", file=out)
    accepted = sum(1 for r in results if r.accepted)
    print(f"{accepted} of {len(results)} (SOP class, transfer syntax) pairs accepted", file=out)
    return int(ExitCode.SUCCESS)
