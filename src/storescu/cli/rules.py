"""The rules between options: what may not be combined, and what needs what.

Each check takes the occurrences in command-line order and the converted
values by destination (the last occurrence's, as in DCMTK), and raises a
:class:`~storescu.kernel.errors.UsageError` in DCMTK's wording (``option +cl
only allowed with -xd or -xf``). :func:`check_tls` also turns ``+tls KEY CERT``
into its fields, since whether TLS is on is what its rules ask.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from storescu.cli.scanner import Occurrence
from storescu.cli.spec import TLS_GROUP
from storescu.kernel.errors import UsageError

__all__ = [
    "check_cluster",
    "check_commitment",
    "check_conflicts",
    "check_scanning",
    "check_syntaxes",
    "check_tls",
]

_TLS_NEEDS_AUTH: Final = frozenset({"--std-passwd", "--use-passwd", "--null-passwd"})


def check_conflicts(occurrences: Sequence[Occurrence]) -> None:
    """The rows' own ``conflicts``: ``-ll`` not with ``-v``, and the like."""
    for occ in occurrences:
        for other in occurrences:
            if other.spec.long in occ.spec.conflicts:
                raise UsageError(f"option {occ.spelling} not allowed with {other.spelling}")


def check_syntaxes(occurrences: Sequence[Occurrence], values: dict[str, Any]) -> None:
    """DCMTK: ``-xf`` not with another ``-x?``, ``-R``, ``+C``; ``+cl`` needs ``-xd`` or ``-xf``."""
    if "config_file" in values:
        for occ in occurrences:
            long = occ.spec.long
            if long in ("--required", "--combine") or (
                occ.spec.dest == "propose" and long != "--propose-uncompr"
            ):
                raise UsageError(f"option -xf not allowed with {occ.spelling}")
    if "verify_compression" in values and "compress" not in values:
        raise UsageError("option --no-verify-compression only allowed with --compress")
    if "compression_level" in values and not (
        values.get("propose") == "deflated"
        or "config_file" in values
        or values.get("compress") == "deflate"
    ):
        raise UsageError("option +cl only allowed with -xd or -xf")  # DCMTK's words


def check_scanning(occurrences: Sequence[Occurrence], values: dict[str, Any]) -> None:
    """DCMTK: ``+sp`` and ``+r`` only with ``+sd``."""
    if values.get("scan_directories"):
        return
    for occ in reversed(occurrences):  # the last of +r/-r wins
        if (occ.spec.long == "--recurse" and values.get("recurse")) or (
            occ.spec.long == "--scan-pattern"
        ):
            raise UsageError(f"option {occ.spelling} only allowed with +sd (--scan-directories)")


def check_commitment(occurrences: Sequence[Occurrence], values: dict[str, Any]) -> None:
    """``--commit-port/-timeout/-batch`` need ``--commit`` or ``--commit-check``."""
    if values.get("commit_check") is not None:
        if values.get("commit"):
            raise UsageError("option --commit not allowed with --commit-check")
        for occ in occurrences:
            if occ.spec.long in ("--echo", "--probe", "--file-list", "--skip-sent", "--report"):
                raise UsageError(f"option {occ.spelling} not allowed with --commit-check")
        return
    if values.get("commit"):
        if values.get("echo") or values.get("probe"):
            raise UsageError("option --commit not allowed with --echo or --probe")
        return
    for occ in occurrences:
        if occ.spec.long.startswith("--commit-"):
            raise UsageError(f"option {occ.spelling} only allowed with --commit or --commit-check")


def check_tls(occurrences: Sequence[Occurrence], values: dict[str, Any]) -> None:
    """DCMTK's TLS option dependencies; turn ``+tls KEY CERT`` into its fields.

    Parameters
    ----------
    occurrences
        The options given, in order.
    values
        The converted values by destination; updated in place (``tls``,
        ``tls_key_file``, ``tls_cert_file``; ``+ws`` becomes the ``+rs`` file).

    Raises
    ------
    UsageError
        A TLS option without ``+tls``/``+tla``, a password option without
        ``+tls``, ``+ws``/``+wf`` without ``+rs``, ``+cs`` with ``+pz`` or
        ``+pm``, or ``--check-hostname`` with ``-ic``.
    """
    mode = values.get("tls", "off")
    if isinstance(mode, tuple):
        values["tls"] = "auth"
        values["tls_key_file"], values["tls_cert_file"] = mode
    tls_long = "+tls or +tla"
    for occ in occurrences:
        spec = occ.spec
        if spec.group != TLS_GROUP or spec.long in ("--disable-tls", "--enable-tls"):
            continue
        if spec.long == "--anonymous-tls":
            continue
        if spec.long in _TLS_NEEDS_AUTH and values.get("tls") != "auth":
            raise UsageError(f"option {occ.spelling} only allowed with +tls")
        if values.get("tls", "off") == "off":
            raise UsageError(f"option {occ.spelling} only allowed with {tls_long}")
        if spec.long in ("--write-seed", "--write-seed-file") and "tls_seed_file" not in values:
            raise UsageError(f"option {occ.spelling} only allowed with +rs")
    if values.get("tls_write_seed_file") is True:  # +ws: back into the +rs file
        values["tls_write_seed_file"] = values["tls_seed_file"]
    if values.get("tls_cipher_suites") and values.get("tls_profile") in ("bcp195-ex", "8996-mod"):
        profile = "+pz" if values["tls_profile"] == "bcp195-ex" else "+pm"
        raise UsageError(f"option +cs not allowed with {profile}")
    if values.get("tls_check_hostname") and values.get("tls_verify_peer") == "ignore":
        raise UsageError("option --check-hostname not allowed with -ic")


#: Options that do not go with ``--dask``, and why.
_NOT_ON_A_CLUSTER: Final = {
    "invent_instance": "invented UIDs are numbered in input order by one process",
    "invent_series": "invented UIDs are numbered in input order by one process",
    "invent_study": "invented UIDs are numbered in input order by one process",
    "invent_patient": "invented UIDs are numbered in input order by one process",
    "echo": "--echo sends no files",
    "probe": "--probe sends no files",
}


def check_cluster(occurrences: Sequence[Occurrence], values: dict[str, Any]) -> None:
    """``--dask``: its address, what needs it, and what does not go with it."""
    address = values.get("dask")
    if address is None:
        for occ in occurrences:
            if occ.spec.long in ("--dask-partition", "--dask-associations"):
                raise UsageError(f"option {occ.spelling} only allowed with --dask")
        return
    if address.startswith("local:"):
        count = address.partition(":")[2]
        if not (count.isdigit() and 1 <= int(count) <= 256):
            raise UsageError(f"invalid value for --dask: '{address}' (local:N, N: 1..256)")
    elif not address:
        raise UsageError("invalid value for --dask: '' (a scheduler address or local:N)")
    for occ in occurrences:
        dest = occ.spec.dest
        if dest in _NOT_ON_A_CLUSTER and values.get(dest) not in (None, False, "off"):
            raise UsageError(
                f"option {occ.spelling} not allowed with --dask ({_NOT_ON_A_CLUSTER[dest]})"
            )
    bound = values.get("dask_associations")
    parallel = values.get("parallel", 1)
    if bound is not None and bound < parallel:
        raise UsageError(f"--dask-associations {bound} is less than -P {parallel}")
