"""Readers of the dataset bytes of one C-STORE: from the file, or from memory.

Theory of operation
-------------------
The association sends a dataset by asking its reader to fill the send buffer
(:meth:`DatasetReader.readinto`), so a dataset streamed unchanged goes from
the file into that buffer without a copy in between
(:class:`FileDatasetReader`), and one encoded in memory is copied once
(:class:`MemoryDatasetReader`). :class:`storescu.dataset.transcode.PartsReader`
streams a re-encoded dataset whose large values are left in the file.
:func:`storescu.dataset.sources.open_dataset` chooses the reader. No pydicom
here.
"""

from __future__ import annotations

import io
import os
import stat
from types import TracebackType
from typing import Final

from storescu.dataset.inspection import OPEN_FLAGS, FileInfo
from storescu.kernel.errors import FileAccessError, InvalidFileError

__all__ = ["DatasetReader", "FileDatasetReader", "MemoryDatasetReader"]

_CHUNK: Final = 16 * 1024  # read()'s step


class DatasetReader:
    """Source of the dataset bytes of one C-STORE, read like a raw binary stream.

    Attributes
    ----------
    length : int
        Exact number of bytes :meth:`readinto` produces in total.
    """

    length: int

    def readinto(self, buf: memoryview | bytearray) -> int:
        """Fill `buf` with the next bytes; return how many, 0 at the end."""
        raise NotImplementedError

    def close(self) -> None:
        """Release the file; idempotent."""

    def read(self, n: int = -1) -> bytes:
        """Return up to `n` bytes (all remaining when `n` < 0); for tests and small data."""
        out = bytearray()
        chunk = bytearray(_CHUNK)
        view = memoryview(chunk)
        while n < 0 or len(out) < n:
            want = _CHUNK if n < 0 else min(_CHUNK, n - len(out))
            got = self.readinto(view[:want])
            if not got:
                break
            out += view[:got]
        return bytes(out)

    def __enter__(self) -> DatasetReader:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class FileDatasetReader(DatasetReader):
    """Zero-copy reader: the dataset bytes go from the file into the caller's buffer.

    Parameters
    ----------
    info : FileInfo
        The inspected file; reading starts at ``info.dataset_offset``.

    Raises
    ------
    FileAccessError
        The file cannot be opened any more.
    """

    def __init__(self, info: FileInfo) -> None:
        self.path = info.path
        self.length = info.dataset_length
        self._remaining = self.length
        self._pos = info.dataset_offset
        self._fp: io.FileIO | None = None
        try:
            # Never blocks on a FIFO swapped in since inspection (issue 14.7).
            fd = os.open(info.path, OPEN_FLAGS)
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                os.close(fd)
                raise FileAccessError(info.path, "not a regular file")
            self._fp = open(fd, "rb", buffering=0)  # noqa: SIM115 - closed by close()
            self._fp.seek(info.dataset_offset)
        except OSError as exc:
            self.close()
            raise FileAccessError(info.path, f"cannot access file: {exc.strerror or exc}") from exc

    def readinto(self, buf: memoryview | bytearray) -> int:
        """Read straight into `buf`; raise InvalidFileError if the file shrank meanwhile."""
        if self._remaining <= 0 or self._fp is None:
            return 0
        view = buf if isinstance(buf, memoryview) else memoryview(buf)
        if len(view) > self._remaining:
            view = view[: self._remaining]
        try:
            got = self._fp.readinto(view) or 0
        except OSError as exc:
            raise FileAccessError(self.path, f"cannot read file: {exc.strerror or exc}") from exc
        if got == 0 and len(view):
            raise InvalidFileError(self.path, f"truncated at offset {self._pos}")
        self._remaining -= got
        self._pos += got
        return int(got)

    def close(self) -> None:
        if self._fp is not None:
            self._fp.close()
            self._fp = None


class MemoryDatasetReader(DatasetReader):
    """Reader over dataset bytes held in memory (a transcoded dataset).

    Parameters
    ----------
    data : bytes
        The encoded dataset.
    """

    def __init__(self, data: bytes | bytearray | memoryview) -> None:
        self._data = memoryview(data)
        self.length = len(data)
        self._pos = 0

    def readinto(self, buf: memoryview | bytearray) -> int:
        """Copy the next bytes into `buf`."""
        n = min(len(buf), self.length - self._pos)
        if n <= 0:
            return 0
        buf[:n] = self._data[self._pos : self._pos + n]
        self._pos += n
        return n

    def close(self) -> None:
        self._pos = self.length
