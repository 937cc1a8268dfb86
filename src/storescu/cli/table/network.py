"""Network options: whom to reach and how the association is set up.

Two runs of rows, because ``--help`` lists the transfer syntax options
(:mod:`storescu.cli.table.syntaxes`) between them, as DCMTK does:

* :data:`PEER_ROWS`: IP version and AE titles;
* :data:`ASSOCIATION_ROWS`: user identity negotiation (PS3.7 D.3.3.7), then the
  timeouts and PDU sizes that open DCMTK's "other network options".
"""

from __future__ import annotations

from typing import Final

from storescu.cli.spec import NETWORK_GROUP, OptionSpec, in_group
from storescu.kernel.constants import (
    DEFAULT_CALLED_AET,
    DEFAULT_CALLING_AET,
    DEFAULT_MAX_PDU,
    MAX_MAX_PDU,
    MIN_MAX_PDU,
)

_O = OptionSpec

PEER_ROWS: Final[tuple[OptionSpec, ...]] = (
    *in_group(
        NETWORK_GROUP,
        "IP protocol version",
        _O("-i4", "--ipv4", "connect over IPv4 only (default)", "ip_version", "ipv4"),
        _O("-i6", "--ipv6", "connect over IPv6 only", "ip_version", "ipv6"),
        _O("-i0", "--ip-auto", "use what the host name resolves to", "ip_version", "auto"),
    ),
    *in_group(
        NETWORK_GROUP,
        "application entity titles",
        _O(
            "-aet",
            "--aetitle",
            f"our calling AE title (default: {DEFAULT_CALLING_AET})",
            "calling_aet",
            args=("AETITLE",),
            arg_help="AETITLE: 1..16 characters",
            kind="aetitle",
        ),
        _O(
            "-aec",
            "--call",
            f"the peer's called AE title (default: {DEFAULT_CALLED_AET})",
            "called_aet",
            args=("AETITLE",),
            arg_help="AETITLE: 1..16 characters",
            kind="aetitle",
        ),
    ),
)

ASSOCIATION_ROWS: Final[tuple[OptionSpec, ...]] = (
    *in_group(
        NETWORK_GROUP,
        "user identity negotiation",
        _O(
            "-usr",
            "--user",
            "authenticate as NAME",
            "user",
            args=("NAME",),
            arg_help="NAME: string",
        ),
        _O(
            "-pwd",
            "--password",
            "with PASSWORD",
            "password",
            args=("PASSWORD",),
            arg_help="PASSWORD: string (only with -usr)",
        ),
        _O("-epw", "--empty-password", "send an empty password (with -usr)", "empty_password"),
        _O(
            "-kt",
            "--kerberos",
            "send the Kerberos ticket in FILE",
            "kerberos_file",
            args=("FILE",),
            arg_help="FILE: file name",
        ),
        _O(
            None,
            "--saml",
            "send the SAML assertion in FILE",
            "saml_file",
            args=("FILE",),
            arg_help="FILE: file name",
        ),
        _O(
            None,
            "--jwt",
            "send the JSON web token in FILE",
            "jwt_file",
            args=("FILE",),
            arg_help="FILE: file name",
        ),
        _O(
            "-rsp",
            "--pos-response",
            "require the peer to confirm the identity",
            "positive_response",
        ),
    ),
    *in_group(
        NETWORK_GROUP,
        "other network options",
        _O(
            "-to",
            "--timeout",
            "give up connecting after SECONDS",
            "connect_timeout",
            args=("SECONDS",),
            arg_help="SECONDS: number > 0 (default: none)",
            kind="timeout",
        ),
        _O(
            "-ts",
            "--socket-timeout",
            "limit on each socket read and write",
            "socket_timeout",
            args=("SECONDS",),
            arg_help="SECONDS: 0 or -1 = none (default: 60)",
            kind="socket-timeout",
        ),
        _O(
            "-ta",
            "--acse-timeout",
            "wait for association replies",
            "acse_timeout",
            args=("SECONDS",),
            arg_help="SECONDS: number > 0 (default: 30)",
            kind="timeout",
        ),
        _O(
            "-td",
            "--dimse-timeout",
            "wait for each C-STORE response",
            "dimse_timeout",
            args=("SECONDS",),
            arg_help="SECONDS: number > 0 (default: none)",
            kind="timeout",
        ),
        _O(
            "-pdu",
            "--max-pdu",
            f"largest PDU we receive (default: {DEFAULT_MAX_PDU})",
            "max_pdu",
            args=("BYTES",),
            arg_help=f"BYTES: integer {MIN_MAX_PDU}..{MAX_MAX_PDU}",
            kind="int",
            minimum=MIN_MAX_PDU,
            maximum=MAX_MAX_PDU,
        ),
        _O(
            None,
            "--max-send-pdu",
            "cap the PDUs we send at BYTES",
            "max_send_pdu",
            args=("BYTES",),
            arg_help=f"BYTES: integer {MIN_MAX_PDU}..{MAX_MAX_PDU}",
            kind="int",
            minimum=MIN_MAX_PDU,
            maximum=MAX_MAX_PDU,
        ),
        _O(
            None,
            "--max-ops-invoked",
            "up to N C-STOREs under way (default: 1)",
            "max_ops_invoked",
            args=("N",),
            arg_help="N: integer 0..65535 (0 = 128)",
            kind="int",
            minimum=0,
            maximum=0xFFFF,
        ),
        _O(
            None,
            "--max-ops-performed",
            "proposed with the window (default: 1)",
            "max_ops_performed",
            args=("N",),
            arg_help="N: integer 0..65535",
            kind="int",
            minimum=0,
            maximum=0xFFFF,
        ),
    ),
)
