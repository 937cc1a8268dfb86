"""Inputs: the files that operands, ``+sd`` scans, ``--file-list`` and DICOMDIRs name.

Theory of operation
-------------------
Two lazy stages feed :class:`~storescu.run.sender.Sender`, so that a run over a
million files holds one input at a time, never a dataset:

1. :class:`InputWalker` yields one :class:`Entry` per input without opening
   any file: the operands in order, then the paths of ``--file-list`` (read
   line by line, ``-`` for stdin). A directory is scanned with ``+sd`` —
   recursively with ``+r``, keeping only file names that match ``+sp`` (a
   case-sensitive ``fnmatch`` pattern, as DCMTK's ``fnmatch(3)``) — and
   ignored with DCMTK's warning without it. Like DCMTK, hidden files are
   included and symbolic links followed; unlike DCMTK, which takes
   ``readdir`` order (arbitrary), names are sorted in each directory so runs
   are reproducible (and resumable), and a link back to an ancestor directory
   is skipped instead of looping.
2. :class:`ItemStream` turns entries into the sender's inputs, inspecting each
   file (:func:`storescu.dataset.inspection.inspect_file`: the meta header and the first
   elements, not the dataset; the sender checks the rest for truncation just
   before sending, :func:`storescu.dataset.inspection.verify_file`) only when the sender
   asks for it. A DICOMDIR
   given as an input (by name, or by its SOP class) is replaced by the files
   it references (:mod:`storescu.dataset.dicomdir`); one found by a directory scan is
   left out, since the scan finds the files itself. With ``--skip-sent``,
   files a previous report records as stored become *skipped-already-sent*
   without being opened.

Both are iterators with explicit state instead of generators: an exception
inside a generator ends it, and an interrupted run must still account for
every input it did not reach. After :meth:`ItemStream.stop_inspecting` the
rest is produced without opening files, which keeps that accounting fast.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Iterator
from enum import Enum
from fnmatch import fnmatchcase
from typing import IO, TYPE_CHECKING, Final

from storescu.dataset import inspection
from storescu.dataset.dicomdir import (
    MEDIA_STORAGE_DIRECTORY,
    DicomdirError,
    is_dicomdir_name,
    referenced_files,
)
from storescu.kernel.constants import SOP_CLASS_NAMES, VERIFICATION_SOP_CLASS
from storescu.kernel.errors import SourceError
from storescu.kernel.records import dataclass, field
from storescu.run.items import _Item, preset_item
from storescu.run.results import FileResult, Outcome

if TYPE_CHECKING:
    from storescu.run.report import SentIndex

__all__ = [
    "Entry",
    "FileListReader",
    "InputOptions",
    "InputWalker",
    "ItemStream",
    "Origin",
    "open_inputs",
]

log = logging.getLogger("storescu")

#: DCMTK's warning for a directory operand without ``+sd`` (storescu.cc).
IGNORED_DIRECTORY = "ignoring directory because option --scan-directories is not set"


@dataclass(frozen=True)
class InputOptions:
    """How directory operands are expanded (DCMTK ``+sd``, ``+sp``, ``+r``).

    Parameters
    ----------
    scan_directories : bool
        ``+sd``: send the files inside directory operands.
    pattern : str, optional
        ``+sp``: only file names matching this ``fnmatch`` pattern (case-sensitive).
    recurse : bool
        ``+r``: descend into subdirectories.
    """

    scan_directories: bool = False
    pattern: str | None = None
    recurse: bool = False


class Origin(Enum):
    """Where an input came from."""

    ARGUMENT = "argument"
    FILE_LIST = "file-list"
    SCAN = "scan"
    DICOMDIR = "dicomdir"


@dataclass(frozen=True, slots=True)
class Entry:
    """One input before inspection.

    ``error`` marks an input known to be unusable (it counts as an invalid
    file); ``ignored`` one left out with a warning that is still reported (a
    directory without ``+sd``); ``duplicate_of`` a second name, met by a scan,
    of the file with that name (same device and inode).
    """

    path: str
    origin: Origin
    error: str | None = None
    ignored: str | None = None
    duplicate_of: str | None = None


#: The longest ``--file-list`` line taken, in bytes: Linux's PATH_MAX.
MAX_LIST_LINE: Final = 4096


class FileListReader:
    """``--file-list``: one path per line of a binary stream; blank lines are skipped.

    Lines are decoded like ``argv`` (:func:`os.fsdecode`), so any file name a
    shell could pass works; a trailing ``\\r`` (CRLF files) is removed.

    At most one line is held, of at most :data:`MAX_LIST_LINE` bytes (issue
    14.6: ``/dev/zero`` has no newline). A longer line, or one with a NUL
    byte (no path has one: the list is not text), ends the list: the error,
    naming the list and the line, is logged and kept in :attr:`error`, and
    nothing more is read from it.
    """

    def __init__(self, stream: IO[bytes], name: str = "-") -> None:
        self._stream = stream
        self.name = name
        self.line_number = 0
        #: Why the list was not read to its end, or None.
        self.error: str | None = None

    def __iter__(self) -> FileListReader:
        return self

    def __next__(self) -> str:
        while self.error is None:
            # +2: room for the line end ("\r\n") after a path of the largest size.
            line = self._stream.readline(MAX_LIST_LINE + 2)
            if not line:
                break
            self.line_number += 1
            nul = line.find(b"\0")
            if nul >= 0:
                self._fail(f"not text: NUL byte at column {nul + 1}")
                break
            line = line.removesuffix(b"\n").removesuffix(b"\r")
            if len(line) > MAX_LIST_LINE:
                self._fail(f"line longer than {MAX_LIST_LINE} bytes")
                break
            if line.strip():
                return os.fsdecode(line)
        raise StopIteration

    def _fail(self, why: str) -> None:
        self.error = (
            f"file list '{self.name}': line {self.line_number}: {why}; the rest of it is not read"
        )
        log.error("%s", self.error)


_FILE = ""  # a listing row for a regular file; other strings say why it cannot be read


@dataclass(slots=True)
class _Listing:
    """One directory being walked: its rows (path, kind, is a link), sorted by name.

    ``via_link``: the directory was reached through a symbolic link.
    """

    rows: list[tuple[str, str | None, bool]]
    ancestors: frozenset[tuple[int, int]]
    via_link: bool = False
    index: int = 0


class InputWalker:
    """The inputs of a run, as :class:`Entry` rows, without opening any file.

    Parameters
    ----------
    paths : iterable of str
        The operands, in order.
    options : InputOptions
        Directory scanning.
    file_list : iterable of str, optional
        More paths after the operands (``--file-list``; see :class:`FileListReader`).
    """

    def __init__(
        self,
        paths: Iterable[str],
        options: InputOptions | None = None,
        file_list: Iterable[str] | None = None,
    ) -> None:
        self.options = options or InputOptions()
        self._sources: list[tuple[Iterator[str], Origin]] = [(iter(paths), Origin.ARGUMENT)]
        if file_list is not None:
            self._sources.append((iter(file_list), Origin.FILE_LIST))
        self._stack: list[_Listing] = []
        #: The directory operands scanned so far: (as given, real path).
        self._roots: list[tuple[str, str]] = []
        #: (device, inode) -> first name, for the files that may have a second
        #: name: reached through a link, or hard-linked. Plain files are not
        #: kept, so memory does not grow with the tree.
        self._seen: dict[tuple[int, int], str] = {}

    def __iter__(self) -> InputWalker:
        return self

    def __next__(self) -> Entry:
        while True:
            if self._stack:
                entry = self._next_scanned()
                if entry is not None:
                    return entry
                continue
            if not self._sources:
                raise StopIteration
            paths, origin = self._sources[0]
            path = next(paths, None)
            if path is None:
                self._sources.pop(0)
                continue
            if not os.path.isdir(path):
                return Entry(path, origin)
            if not self.options.scan_directories:
                return Entry(path, origin, ignored=IGNORED_DIRECTORY)
            self._roots.append((path, os.path.realpath(path)))
            entry = self._enter(path, frozenset())
            if entry is not None:
                return entry

    def _next_scanned(self) -> Entry | None:
        listing = self._stack[-1]
        if listing.index >= len(listing.rows):
            self._stack.pop()
            return None
        path, kind, link = listing.rows[listing.index]
        listing.index += 1
        via_link = listing.via_link or link
        if kind is None:  # a subdirectory
            if not self.options.recurse:
                return None
            return self._enter(path, listing.ancestors, via_link)
        if kind:
            return Entry(path, Origin.SCAN, error=kind)
        return Entry(path, Origin.SCAN, duplicate_of=self._first_name(path, via_link))

    def _first_name(self, path: str, via_link: bool) -> str | None:
        """The name this scan gives the same file (device and inode) first, or None.

        A symbolic link loop or a link to a sibling directory (``+sd +r``)
        shows one file under several names (issue 14.11): each real file is
        sent once. A name reached through a link whose real path the scan
        walks anyway is a duplicate of that real name, wherever it comes in
        the walk; other linked or hard-linked names are kept, and the first
        one met wins.
        """
        try:
            st = os.stat(path)
        except OSError:
            return None  # inspecting it will say why
        key = (st.st_dev, st.st_ino)
        first = self._seen.get(key)
        if first is not None:
            return first
        if via_link:
            real = self._walked_name(path)
            if real is not None and real != path:
                return real
            self._seen[key] = path
        elif st.st_nlink > 1:
            self._seen[key] = path
        return None

    def _walked_name(self, path: str) -> str | None:
        """The name the scan gives ``path``'s real file without links, if it walks it."""
        real = os.path.realpath(path)
        pattern = self.options.pattern
        for given, root in self._roots:
            rel = os.path.relpath(real, root)
            parts = rel.split(os.sep)
            if rel == os.curdir or parts[0] == os.pardir:
                continue
            if len(parts) > 1 and not self.options.recurse:
                continue
            if pattern is not None and not fnmatchcase(parts[-1], pattern):
                continue
            return rel if given == os.curdir else os.path.join(given, rel)
        return None

    def _enter(
        self, directory: str, ancestors: frozenset[tuple[int, int]], via_link: bool = False
    ) -> Entry | None:
        """Push the listing of `directory`; an Entry only when it cannot be read."""
        try:
            st = os.stat(directory)
            key = (st.st_dev, st.st_ino)
            if key in ancestors:
                log.warning("skipping %s: a link to a directory it is inside of", directory)
                return None
            with os.scandir(directory) as scan:
                found = sorted(scan, key=lambda e: e.name)
        except OSError as exc:
            return Entry(directory, Origin.SCAN, error=f"cannot read directory: {exc.strerror}")
        pattern = self.options.pattern
        rows: list[tuple[str, str | None, bool]] = []
        for item in found:
            # DCMTK gives names in "." without the "./" prefix.
            path = item.name if directory == os.curdir else item.path
            link = item.is_symlink()
            if _is_dir(item):
                rows.append((path, None, link))
            elif pattern is None or fnmatchcase(item.name, pattern):
                rows.append((path, _kind(item), link))
        self._stack.append(_Listing(rows, ancestors | {key}, via_link))
        return None


def _is_dir(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()
    except OSError:
        return False


def _kind(entry: os.DirEntry[str]) -> str:
    """``_FILE`` for a regular file (links followed), else why it cannot be sent."""
    try:
        if entry.is_file():
            return _FILE
        if entry.is_symlink():
            return "cannot access file: broken symbolic link"
    except OSError as exc:
        return f"cannot access file: {exc.strerror}"
    return "not a regular file"  # a FIFO would block the reader: never opened


@dataclass
class ItemStream:
    """The sender's inputs from :class:`Entry` rows, inspected one at a time.

    Parameters
    ----------
    entries : iterable of Entry
        Usually an :class:`InputWalker`.
    read_mode : str
        ``"auto"``, ``"fileformat"`` or ``"dataset"``
        (see :func:`storescu.dataset.inspection.inspect_file`).
    sent : SentIndex, optional
        ``--skip-sent``: files recorded as stored by a previous run.
    """

    entries: Iterable[Entry]
    read_mode: str = "auto"
    sent: SentIndex | None = None
    _iterator: Iterator[Entry] = field(init=False, repr=False)
    _expanded: list[Entry] = field(default_factory=list, init=False, repr=False)
    _next_expanded: int = field(default=0, init=False, repr=False)
    _pending: Entry | None = field(default=None, init=False, repr=False)
    _inspect: bool = field(default=True, init=False, repr=False)
    #: Bytes of small files that may be read whole at inspection and kept for
    #: sending (inspection.inspect_whole: one open and read instead of two), and
    #: how many are kept now; the run sets the budget and resets the count for
    #: each window of inputs it reads ahead (Sender._run).
    keep_budget: int = field(default=0, init=False, repr=False)
    kept: int = field(default=0, init=False, repr=False)

    def __post_init__(self) -> None:
        self._iterator = iter(self.entries)

    def __iter__(self) -> ItemStream:
        return self

    def __next__(self) -> _Item:
        while True:
            entry = self._pending
            if entry is None:
                entry = self._pending = self._take()
            item = self._item(entry)
            self._pending = None
            if item is not None:
                return item

    def stop_inspecting(self) -> None:
        """Produce the rest without opening files (the run will not send them)."""
        self._inspect = False

    def _take(self) -> Entry:
        if self._next_expanded < len(self._expanded):
            self._next_expanded += 1
            return self._expanded[self._next_expanded - 1]
        return next(self._iterator)

    def _item(self, entry: Entry) -> _Item | None:
        path = entry.path
        if entry.ignored is not None:
            log.warning("%s: %s", entry.ignored, path)
            return preset_item(FileResult(path, Outcome.IGNORED_DIRECTORY, error=entry.ignored))
        if entry.error is not None:
            return _Item(path, error=entry.error)
        if entry.duplicate_of is not None:
            why = f"the same file as {entry.duplicate_of} (a link): not sent twice"
            log.warning("skipping %s: %s", path, why)
            return preset_item(FileResult(path, Outcome.SKIPPED_DUPLICATE, error=why))
        if is_dicomdir_name(path):
            return self._dicomdir(entry)
        if self.sent is not None:
            previous = self.sent.lookup(path)
            if previous is not None:
                return preset_item(previous)
        if not self._inspect:
            return _Item(path)
        data = None
        whole = self.kept < self.keep_budget
        try:
            if whole:
                info, data = inspection.inspect_whole(path, read_mode=self.read_mode)
                self.kept += len(data) if data is not None else 0
            else:
                # The truncation check waits until the file is about to be sent
                # (Sender._prepare): read ahead for planning, UIDs and syntax suffice.
                info = inspection.inspect_file(
                    path, read_mode=self.read_mode, check_truncation=False
                )
        except SourceError as exc:
            return _Item(path, error=exc.reason)
        if info.sop_class_uid == MEDIA_STORAGE_DIRECTORY:
            return self._dicomdir(entry)
        if not _is_storage_class(info.sop_class_uid):
            # DCMTK's warning (RELIABILITY row 7): said when the file is checked,
            # before its association; the peer will most likely refuse it.
            log.warning("unknown storage SOP class in file: %s: %s", path, info.sop_class_uid)
        item = _Item(path, info)
        if whole:
            item.data, item.verified = data, True
        return item

    def _dicomdir(self, entry: Entry) -> _Item | None:
        """Queue the files a DICOMDIR references; the DICOMDIR itself is never sent."""
        if entry.origin is Origin.SCAN:
            log.warning(
                "not sending DICOMDIR %s found by the directory scan "
                "(give it as an argument to send the files it references)",
                entry.path,
            )
            return None
        if entry.origin is Origin.DICOMDIR:
            return _Item(entry.path, error="a DICOMDIR referenced by a DICOMDIR (not followed)")
        try:
            references = referenced_files(entry.path)
        except DicomdirError as exc:
            return _Item(entry.path, error=str(exc))
        if not references:
            return _Item(entry.path, error="the DICOMDIR references no files")
        log.info("DICOMDIR %s references %d file(s)", entry.path, len(references))
        self._expanded = [Entry(r.path, Origin.DICOMDIR, error=r.error) for r in references]
        self._next_expanded = 0
        return None


_STORAGE_ROOT = "1.2.840.10008.5.1.4.1.1."


def _is_storage_class(uid: str) -> bool:
    """True for a storage SOP class (PS3.4 Annex B's root, the built-in list, pydicom's)."""
    if uid.startswith(_STORAGE_ROOT) or (uid in SOP_CLASS_NAMES and uid != VERIFICATION_SOP_CLASS):
        return True
    from pydicom._uid_dict import UID_dictionary  # only for the unusual classes

    entry = UID_dictionary.get(uid)
    return entry is not None and entry[1] == "SOP Class" and "Storage" in entry[0]


def open_inputs(
    paths: Iterable[str],
    *,
    read_mode: str = "auto",
    options: InputOptions | None = None,
    file_list: Iterable[str] | None = None,
    sent: SentIndex | None = None,
) -> ItemStream:
    """The lazy input stream of a run: see the module docstring.

    Parameters
    ----------
    paths : iterable of str
        Files, directories and DICOMDIRs, in order.
    read_mode : str
        How files are read (DCMTK ``+f``/``+fo``/``-f``).
    options : InputOptions, optional
        Directory scanning (default: directories are ignored with a warning).
    file_list : iterable of str, optional
        More paths after `paths`.
    sent : SentIndex, optional
        Skip what a previous report records as stored.
    """
    return ItemStream(InputWalker(paths, options, file_list), read_mode, sent)
