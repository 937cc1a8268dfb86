"""Encoded datasets made of pieces: bytes in memory and spans of the source file.

:func:`storescu.dataset.transcode.encode_parts` leaves large values in the file
as :class:`FileSpan` pieces between the encoded bytes; :class:`PartsReader`
streams them at send time, byte-swapping on the way when the byte order
changes (PS3.5 7.3), so a 1 GB pixel data element is never held in memory.
"""

from __future__ import annotations

import array
import io
from dataclasses import dataclass
from typing import Final, TypeAlias

from storescu.dataset.readers import DatasetReader
from storescu.kernel.errors import FileAccessError, InvalidFileError

__all__ = ["FileSpan", "Part", "PartsReader"]


@dataclass(frozen=True, slots=True)
class FileSpan:
    """Bytes ``[offset, offset + length)`` of a file, to be sent as part of a dataset.

    Attributes
    ----------
    path : str
        The file.
    offset, length : int
        Where the bytes are.
    swap : int
        0 to send them as they are, else the word size (2, 4 or 8) whose byte
        order is reversed on the way (PS3.5 7.3).
    """

    path: str
    offset: int
    length: int
    swap: int = 0


#: A piece of an encoded dataset: bytes in memory, or a span of the source file.
Part: TypeAlias = bytes | FileSpan


_SWAP_CODES: Final = {array.array(c).itemsize: c for c in "HIQ"}


class PartsReader(DatasetReader):
    """Streams an encoded dataset made of :data:`Part` pieces.

    Bytes parts are copied; file spans are read into the caller's buffer at
    send time (from one open file), byte-swapped in place when asked.

    Parameters
    ----------
    parts : list of Part
        In order. Every :class:`FileSpan` must name the same file.
    """

    def __init__(self, parts: list[Part]) -> None:
        self._parts = parts
        self.length = sum(len(p) if isinstance(p, bytes) else p.length for p in parts)
        self._index = 0
        self._pos = 0  # within the current part
        self._fp: io.FileIO | None = None

    def readinto(self, buf: memoryview | bytearray) -> int:
        """Fill `buf` from the parts; return the number of bytes, 0 at the end."""
        view = buf if isinstance(buf, memoryview) else memoryview(buf)
        done = 0
        while done < len(view) and self._index < len(self._parts):
            part = self._parts[self._index]
            if isinstance(part, bytes):
                n = min(len(view) - done, len(part) - self._pos)
                view[done : done + n] = part[self._pos : self._pos + n]
            else:
                n = self._read_span(part, view[done:])
                if n == 0:  # a partial swapped word does not fit: send what we have
                    break
            done += n
            self._pos += n
            if self._pos >= (len(part) if isinstance(part, bytes) else part.length):
                self._index += 1
                self._pos = 0
        return done

    def _read_span(self, span: FileSpan, view: memoryview) -> int:
        left = span.length - self._pos
        n = min(len(view), left)
        unit = span.swap
        if unit > 1 and n < left:
            n -= n % unit  # swap whole words only; the rest comes with the next call
            if n == 0:
                return 0
        if self._fp is None:
            try:
                self._fp = open(span.path, "rb", buffering=0)  # noqa: SIM115 - closed by close()
            except OSError as exc:
                raise FileAccessError(span.path, f"cannot access file: {exc.strerror}") from exc
        offset = span.offset + self._pos
        try:
            self._fp.seek(offset)
            got = 0
            while got < n:
                r = self._fp.readinto(view[got:n])
                if not r:
                    raise InvalidFileError(span.path, f"truncated at offset {offset + got}")
                got += r
        except OSError as exc:
            raise FileAccessError(span.path, f"cannot read file: {exc.strerror or exc}") from exc
        if unit > 1:
            whole = n - n % unit
            words = array.array(_SWAP_CODES[unit])
            words.frombytes(view[:whole])
            words.byteswap()
            view[:whole] = memoryview(words).cast("B")
        return n

    def close(self) -> None:
        """Close the file; idempotent."""
        if self._fp is not None:
            self._fp.close()
            self._fp = None
        self._index = len(self._parts)
