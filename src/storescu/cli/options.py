"""What a command line asks for: :class:`Options` to run with, or an :class:`InfoRequest`.

:func:`storescu.cli.parser.parse_args` builds them from argv; ``main`` and the
modules that turn options into library objects (:mod:`storescu.cli.syntaxopts`,
:mod:`storescu.cli.tlsopts`, :mod:`storescu.cli.verify`,
:mod:`storescu.cli.sending`) read them. The fields are the ``dest`` of the rows
of :data:`storescu.cli.table.OPTION_TABLE`, the operands, the words after
``@file`` expansion, and the key and certificate of ``+tls KEY CERT``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final, Literal, TypeAlias

from storescu.kernel.constants import (
    DEFAULT_CALLED_AET,
    DEFAULT_CALLING_AET,
    DEFAULT_MAX_PDU,
)

if TYPE_CHECKING:
    from storescu.dataset.rewriteopts import Override

__all__ = ["InfoRequest", "Options", "ParseResult"]


class Options:
    """Everything the command line asked for, validated.

    Built by :func:`~storescu.cli.parser.parse_args`.

    Frozen. A plain class, not a dataclass: a dataclass of a hundred fields
    compiles its generated methods at every start (about 5 ms of the ~40 ms
    a one-file run may take); these are compiled once, into the bytecode cache.
    :meth:`fields` and :meth:`replace` stand in for :mod:`dataclasses`' own.
    """

    peer: str
    port: int
    files: tuple[str, ...]
    log_level: str = "warn"
    log_config: str | None = None
    show_contexts: bool = False
    calling_aet: str = DEFAULT_CALLING_AET
    called_aet: str = DEFAULT_CALLED_AET
    propose: str = "uncompr"
    required_only: bool = False
    combine: bool = False
    # Transfer syntaxes (kernel.syntaxes, dataset.conversion, run.asconfig).
    config_file: tuple[str, str] | None = None  # -xf FILE PROFILE
    compression_level: int | None = None  # +cl
    new_vrs: bool = True  # +u / -u
    decompress: str = "lossless"  # +dls / +dly / -dn
    decompress_limit: int | None = None  # MiB
    propose_file_syntaxes: bool = True  # +fs / -fs
    propose_file_classes: bool = True  # +fc / -fc
    compress: str | None = None  # --compress CODEC (run.compressing)
    verify_compression: bool = True  # --no-verify-compression: False
    max_pdu: int = DEFAULT_MAX_PDU
    max_send_pdu: int | None = None
    max_ops_invoked: int = 1
    max_ops_performed: int = 1
    repeat: int = 1
    priority: str = "medium"  # --priority
    abort: bool = False
    halt: bool = True
    read_mode: str = "auto"
    connect_timeout: float | None = None
    socket_timeout: float | None = 60.0
    acse_timeout: float | None = 30.0
    dimse_timeout: float | None = None
    # TLS (PS3.15 Annex B); storescu.net.tls.TlsOptions has the meaning of each.
    tls: str = "off"  # "off" (-tls), "auth" (+tls KEY CERT), "anonymous" (+tla)
    tls_key_file: str | None = None
    tls_cert_file: str | None = None
    tls_password: str | None = None  # None: +ps (ask on a terminal)
    tls_der: bool = False
    tls_ca_files: tuple[str, ...] = ()
    tls_ca_dirs: tuple[str, ...] = ()
    tls_crl_files: tuple[str, ...] = ()
    tls_crl: str = "none"  # "leaf" (+crv), "all" (+cra)
    tls_profile: str = "8996"
    tls_cipher_suites: tuple[str, ...] = ()
    tls_dhparam: str | None = None
    tls_seed_file: str | None = None
    tls_write_seed_file: str | None = None
    tls_verify_peer: str = "require"
    tls_sni: str | None = None
    tls_check_hostname: bool = False
    args_expanded: tuple[str, ...] = ()
    print_arguments: bool = False
    ip_version: str = "ipv4"
    user: str | None = None
    password: str | None = None
    empty_password: bool = False
    kerberos_file: str | None = None
    saml_file: str | None = None
    jwt_file: str | None = None
    positive_response: bool = False
    retries: int = 0
    retry_delay: float = 1.0
    resend_unknown: bool = False
    parallel: int = 1  # -P: associations at once (storescu.run.parallel)
    echo: bool = False
    probe: bool = False
    # Storage Commitment (storescu.run.commitment).
    commit: bool = False
    commit_check: str | None = None
    commit_port: int | None = None
    commit_timeout: float = 60.0
    commit_batch: int = 500
    # A Dask cluster (storescu.run.cluster): scheduler address or local:N.
    dask: str | None = None
    dask_partition: int = 1000
    dask_associations: int | None = None
    # Dataset rewriting; storescu.dataset.rewrite.RewriteOptions has the meaning of each.
    invent_instance: bool = False
    invent_series: int | None = None
    invent_study: int | None = None
    invent_patient: int | None = None
    uid_padding: bool = False
    overrides: tuple[Override, ...] = ()
    uid_suffix: str | None = None
    uid_root: str | None = None
    # Inputs, report, resuming, progress (storescu.run.inputs, storescu.run.report).
    scan_directories: bool = False
    scan_pattern: str | None = None
    recurse: bool = False
    rename: bool = False
    file_list: str | None = None
    skip_sent: tuple[str, ...] = ()
    report: str | None = None
    progress: str = "auto"  # "on" (--progress), "off" (--no-progress)

    def __init__(self, peer: str, port: int, files: tuple[str, ...], **values: Any) -> None:
        unknown = set(values) - _FIELDS
        if unknown:
            raise TypeError(f"unknown Options field(s): {', '.join(sorted(unknown))}")
        store = object.__setattr__
        store(self, "peer", peer)
        store(self, "port", port)
        store(self, "files", files)
        for name, value in values.items():
            store(self, name, value)  # the others keep the class defaults

    @classmethod
    def fields(cls) -> tuple[str, ...]:
        """The field names, in declaration order."""
        return _FIELD_ORDER

    def replace(self, **changes: Any) -> Options:
        """A copy with `changes` (as :func:`dataclasses.replace`)."""
        values = {name: getattr(self, name) for name in _FIELD_ORDER}
        values.update(changes)
        peer, port, files = values.pop("peer"), values.pop("port"), values.pop("files")
        return Options(peer, port, files, **values)

    def _key(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in _FIELD_ORDER)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Options):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in _FIELD_ORDER)
        return f"Options({shown})"

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"cannot assign to field {name!r}: Options is frozen")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"cannot delete field {name!r}: Options is frozen")


# Under ``from __future__ import annotations`` these are the names, in order.
_FIELD_ORDER: Final[tuple[str, ...]] = tuple(Options.__annotations__)
_FIELDS: Final = frozenset(_FIELD_ORDER)


class InfoRequest:
    """``--help``, ``--version``, ``--completion``, ``+ph`` or ``+cc`` (or no arguments).

    Print ``text``, exit 0. For ``completion``, ``text`` names the shell and
    :func:`storescu.cli.main.main` prints that shell's script.
    """

    __slots__ = ("kind", "text")

    def __init__(
        self, kind: Literal["help", "version", "completion", "profiles", "ciphers"], text: str
    ) -> None:
        self.kind = kind
        self.text = text

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, InfoRequest):
            return NotImplemented
        return (self.kind, self.text) == (other.kind, other.text)

    def __hash__(self) -> int:
        return hash((self.kind, self.text))

    def __repr__(self) -> str:
        return f"InfoRequest(kind={self.kind!r}, text=<{len(self.text)} characters>)"


ParseResult: TypeAlias = Options | InfoRequest
