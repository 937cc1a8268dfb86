"""DICOMDIR input: the files a DICOMDIR references, confined to its folder.

A DICOMDIR (PS3.10 8.6, Media Storage Directory Storage) names its files
with Referenced File IDs (0004,1500): path components relative to the folder
holding the DICOMDIR, uppercase on conforming media. The DICOMDIR itself is
never sent; the files it references are, in the order of its records.

A Referenced File ID comes from a file, so it is untrusted: an ID that is
absolute, has an empty, ``.`` or ``..`` component, a path separator, a colon
(a Windows drive) or a NUL,
or resolves (through symbolic links too) outside the DICOMDIR's folder is
rejected and reported, never opened. On a case-sensitive file system a
component that does not exist as written is looked up case-insensitively (and
without the trailing period that ``dcmmkdir +m`` removes), so media copied
with lowercase names still work.
"""

from __future__ import annotations

import os
import stat
import warnings
from collections.abc import Sequence
from typing import Final

from storescu.kernel.records import dataclass

#: Media Storage Directory Storage (PS3.4 Annex F), the SOP class of a DICOMDIR.
MEDIA_STORAGE_DIRECTORY: Final = "1.2.840.10008.1.3.10"

__all__ = [
    "MEDIA_STORAGE_DIRECTORY",
    "DicomdirError",
    "Reference",
    "is_dicomdir_name",
    "referenced_files",
    "resolve_file_id",
]


class DicomdirError(Exception):
    """The DICOMDIR cannot be read, or a Referenced File ID cannot be used."""


@dataclass(frozen=True, slots=True)
class Reference:
    """One file a DICOMDIR references.

    ``path`` is the resolved file, or, when ``error`` says why the ID was
    rejected, ``DICOMDIR-PATH:ID`` (the ID with DICOM's ``\\`` separators),
    which names no file.
    """

    path: str
    error: str | None = None


def is_dicomdir_name(path: str) -> bool:
    """True when the file name is ``DICOMDIR`` (any case), as on DICOM media."""
    return os.path.basename(path).upper() == "DICOMDIR"


def referenced_files(dicomdir: str) -> list[Reference]:
    """The files `dicomdir` references, in record order, each once.

    Raises
    ------
    DicomdirError
        The file cannot be read or has no Directory Record Sequence.
    """
    folder = os.path.dirname(dicomdir) or os.curdir
    resolver = _Resolver(folder)
    found: list[Reference] = []
    seen: set[str] = set()
    for file_id in _file_ids(dicomdir):
        try:
            path = resolver.resolve(file_id)
        except DicomdirError as exc:
            shown = "\\".join(file_id)
            found.append(Reference(f"{dicomdir}:{shown}", str(exc)))
            continue
        if path not in seen:
            seen.add(path)
            found.append(Reference(path))
    return found


def resolve_file_id(folder: str, file_id: Sequence[str]) -> str:
    """The path of `file_id` inside `folder`; see the module docstring for the rules.

    Raises
    ------
    DicomdirError
        The ID is unsafe or points outside `folder`.
    """
    return _Resolver(folder).resolve(file_id)


def _file_ids(dicomdir: str) -> list[tuple[str, ...]]:
    try:
        # A FIFO named DICOMDIR would block pydicom's open (issue 14.7): stat
        # first, which never blocks.
        if not stat.S_ISREG(os.stat(dicomdir).st_mode):
            raise DicomdirError("not a regular file")
        with warnings.catch_warnings():  # odd values are judged here, not printed
            warnings.simplefilter("ignore")
            return _read_file_ids(dicomdir)
    except DicomdirError:
        raise
    except Exception as exc:  # an untrusted file: any parse failure means unreadable
        raise DicomdirError(f"cannot read DICOMDIR: {exc}") from exc


def _read_file_ids(dicomdir: str) -> list[tuple[str, ...]]:
    # pydicom only here: reading a DICOMDIR is rare and it is a whole dataset.
    from pydicom import dcmread

    ds = dcmread(dicomdir, stop_before_pixels=True)
    records = ds.get("DirectoryRecordSequence")
    if records is None:
        raise DicomdirError("not a DICOMDIR: no Directory Record Sequence (0004,1220)")
    ids = []
    for record in records:
        value = record.get("ReferencedFileID")
        if not value:
            continue  # patient, study, series records reference no file
        ids.append((value,) if isinstance(value, str) else tuple(str(v) for v in value))
    return ids


class _Resolver:
    """Resolves IDs under one folder, caching directory listings for case folding."""

    def __init__(self, folder: str) -> None:
        self.folder = folder
        self.root = os.path.realpath(folder)
        self._listings: dict[str, dict[str, str]] = {}

    def resolve(self, file_id: Sequence[str]) -> str:
        if not file_id:
            raise DicomdirError("empty Referenced File ID")
        shown = "\\".join(file_id)
        for component in file_id:
            # "/" and "\\" would split it, ":" names a Windows drive or stream.
            if component in ("", ".", "..") or any(c in component for c in "/\\:\0"):
                raise DicomdirError(f"unsafe Referenced File ID {shown!r}: component {component!r}")
        path = self.folder
        for component in file_id:
            path = self._child(path, component)
        real = os.path.realpath(path)
        if os.path.commonpath([self.root, real]) != self.root:
            raise DicomdirError(f"Referenced File ID {shown!r} leads outside the DICOMDIR's folder")
        return path

    def _child(self, parent: str, name: str) -> str:
        exact = os.path.join(parent, name)
        if os.path.lexists(exact):
            return exact
        listing = self._listings.get(parent)
        if listing is None:
            listing = {}
            try:
                names = os.listdir(parent)
            except OSError:
                names = []
            for actual in sorted(names):
                listing.setdefault(actual.rstrip(".").upper(), actual)
            self._listings[parent] = listing
        folded = listing.get(name.rstrip(".").upper())
        return os.path.join(parent, folded) if folded is not None else exact
