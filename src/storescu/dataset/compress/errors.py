"""Why a dataset is not sent compressed: raised before any byte, or from the stream."""

from __future__ import annotations

from storescu.kernel.errors import ConversionError

__all__ = ["NotCompressed", "VerificationFailed"]


class NotCompressed(ConversionError):
    """This dataset goes uncompressed; raised by ``open_compressed`` before any byte is produced.

    Parameters
    ----------
    reason : str
        Short, for ``-v`` output and the report (e.g. "float pixel data").
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class VerificationFailed(ConversionError):
    """A later frame of a streamed object failed after earlier bytes were given out.

    Raised from ``CompressedReader.readinto``: the message cannot be completed,
    so the caller aborts the association and sends the file again
    uncompressed.

    Parameters
    ----------
    reason : str
        Short, for ``-v`` output and the report.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
