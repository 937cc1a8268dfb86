"""The package's exception tree.

Local and remote protocol errors are kept apart (as h11 does): a
:class:`RemoteProtocolError` means the peer broke PS3.8 and carries the A-ABORT
source/reason we answer with; a :class:`LocalProtocolError` means this program
asked the core for something the state machine forbids (a bug, not a peer fault).

A non-success C-STORE status is *not* an exception: it is data in a result.
"""

from __future__ import annotations


class StorescuError(Exception):
    """Root of every exception raised by this package."""


class UsageError(StorescuError):
    """Bad command line or API arguments; nothing was sent."""


# --------------------------------------------------------------------- protocol


class ProtocolError(StorescuError):
    """A violation of the DICOM Upper Layer or DIMSE protocol."""


class LocalProtocolError(ProtocolError):
    """This side tried an action its current state does not allow (PS3.8 9.2)."""


class RemoteProtocolError(ProtocolError):
    """The peer sent something PS3.8/PS3.7 forbids.

    Parameters
    ----------
    message : str
        What was wrong, for people.
    abort_source : int
        A-ABORT source to send back (PS3.8 9.3.8): 2 = service provider.
    abort_reason : int
        A-ABORT reason: 0 not specified, 1 unrecognized PDU, 2 unexpected PDU,
        4 unrecognized PDU parameter, 5 unexpected PDU parameter, 6 invalid PDU
        parameter value.
    """

    def __init__(self, message: str, abort_source: int = 2, abort_reason: int = 0) -> None:
        super().__init__(message)
        self.abort_source = abort_source
        self.abort_reason = abort_reason


# ------------------------------------------------------------------ association


class AssociationError(StorescuError):
    """The association could not be established or ended abnormally."""


class AssociationRejected(AssociationError):
    """The peer answered A-ASSOCIATE-RJ (PS3.8 9.3.4)."""

    def __init__(self, message: str, result: int, source: int, reason: int) -> None:
        super().__init__(message)
        self.result = result
        self.source = source
        self.reason = reason

    @property
    def transient(self) -> bool:
        """True when the rejection is rejected-transient (result 2)."""
        return self.result == 2


class AssociationAborted(AssociationError):
    """The association ended with an A-ABORT or an A-P-ABORT.

    ``source``/``reason`` are those of the A-ABORT PDU when the peer sent one;
    ``source`` is ``None`` for a provider abort (connection lost, protocol error).
    """

    def __init__(self, message: str, source: int | None = None, reason: int | None = None) -> None:
        super().__init__(message)
        self.source = source
        self.reason = reason


class NegotiationError(AssociationError):
    """No presentation context usable for what must be sent.

    ``answers`` holds the peer's presentation context answers (by context
    ID) when the association was accepted but nothing usable was in it.
    """

    answers: dict[int, object] | None = None


# -------------------------------------------------------------------- transport


class TransportError(StorescuError):
    """The TCP (or TLS) connection failed: refused, reset, closed."""


class TlsError(TransportError):
    """TLS could not be set up or failed: bad key or certificate, handshake refused.

    Raised both before connecting (configuration: unreadable key, wrong password,
    unavailable profile) and while connecting (the handshake, or an alert at the
    first read under TLS 1.3). The message says what happened and what to change.
    """


class TimeoutError_(TransportError):
    """A configured timeout (connect, socket, ACSE or DIMSE) expired."""

    def __init__(self, message: str, kind: str) -> None:
        super().__init__(message)
        self.kind = kind


# ----------------------------------------------------------------------- inputs


class SourceError(StorescuError):
    """An input file cannot be used; ``reason`` says why in a few words."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class InvalidFileError(SourceError):
    """The file is not a usable DICOM instance (empty, not DICOM, truncated...)."""


class FileAccessError(SourceError):
    """The path cannot be opened or read (missing, permissions, a directory)."""


class ConversionError(StorescuError):
    """A dataset cannot be re-encoded in the negotiated transfer syntax."""


class ReportError(StorescuError):
    """The report cannot be written, or a report to resume from cannot be read.

    Defined here (and re-exported by :mod:`storescu.run.report`) so that catching
    it does not import the report writer, with json and csv, on every run.
    """


class RewriteError(StorescuError):
    """A dataset cannot be rewritten as asked (``-s``, ``--uid-suffix``...); it is not sent.

    Raised per file: the options themselves were checked when they were parsed
    (a bad option is a :class:`UsageError`), but whether, say, a UID plus the
    suffix still fits in 64 characters depends on each dataset.
    """
