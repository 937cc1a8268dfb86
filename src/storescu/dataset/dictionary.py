"""DCMTK-format data dictionaries (``DCMDICTPATH``), added to pydicom's.

DCMTK reads its data dictionaries from the files listed in ``DCMDICTPATH``
(separated by ``:``). We start from pydicom's built-in dictionary (current
DICOM) and add what those files know beyond it: private tags of many vendors
and tags newer than the installed pydicom. Then private or newer tags print
with names and can be named in attribute overrides.

A DCMTK dictionary line is ``(gggg,eeee) VR Keyword VM Version``, tab
separated; private tags are written ``(gggg,"creator",ee)``; ranges such as
``(6000-60FF,3000)`` are repeating groups (pydicom knows the standard ones, so
they are skipped). Lines starting with ``#`` are comments.

Loading imports pydicom, so it happens only when something needs names
(:func:`ensure_loaded` is idempotent and cheap after the first call).
"""

from __future__ import annotations

import logging
import os
import re
import threading
from dataclasses import dataclass
from typing import Final

log = logging.getLogger("storescu")

_LINE: Final = re.compile(
    r"^\((?P<group>[0-9A-Fa-f]{4}),"
    r'(?:"(?P<creator>[^"]*)",(?P<private_elem>[0-9A-Fa-f]{2}|[0-9A-Fa-f]{4})|'
    r"(?P<elem>[0-9A-Fa-f]{4}))\)$"
)

# DCMTK's internal VR names that are not DICOM VRs (dcvr.cc).
_VR_ALIASES: Final = {
    "ox": "OB or OW",
    "xs": "US or SS",
    "lt": "US or SS or OW",
    "up": "UL",
    "px": "OB or OW",
}
_DICOM_VRS: Final = frozenset(
    {"AE", "AS", "AT", "CS", "DA", "DS", "DT", "FD", "FL", "IS", "LO", "LT", "OB", "OD", "OF"}
    | {"OL", "OV", "OW", "PN", "SH", "SL", "SQ", "SS", "ST", "SV", "TM", "UC", "UI", "UL"}
    | {"UN", "UR", "US", "UT", "UV"}
)


@dataclass(frozen=True, slots=True)
class Entry:
    """One dictionary entry."""

    tag: int
    vr: str
    keyword: str
    vm: str
    private_creator: str | None = None


class DictionaryError(ValueError):
    """A dictionary file cannot be read."""


def parse_dictionary(text: str, source: str = "<dictionary>") -> list[Entry]:
    """Parse a DCMTK dictionary file's text; skip ranges and unknown VRs.

    Tags with ranges (``6000-60FF``, ``0009-o-FFFF``: repeating or
    odd/even groups) are skipped: pydicom knows the standard repeaters.

    Raises
    ------
    DictionaryError
        A non-comment line has fewer than four fields.
    """
    entries: list[Entry] = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        fields = line.split("\t") if "\t" in line else line.split()
        fields = [f.strip() for f in fields if f.strip()]
        if len(fields) < 4:
            raise DictionaryError(f"{source}:{number}: expected tag, VR, keyword, VM")
        match = _LINE.match(fields[0])
        if match is None:
            continue  # a range or a notation we do not use
        vr = _VR_ALIASES.get(fields[1], fields[1])
        if vr == "na" or not all(part in _DICOM_VRS for part in vr.split(" or ")):
            continue
        group = int(match["group"], 16)
        if match["creator"] is not None:
            tag = (group << 16) | (int(match["private_elem"], 16) & 0xFF)
            entries.append(Entry(tag, vr, fields[2], fields[3], match["creator"]))
        else:
            tag = (group << 16) | int(match["elem"], 16)
            entries.append(Entry(tag, vr, fields[2], fields[3]))
    return entries


def register(entries: list[Entry]) -> int:
    """Add entries to pydicom's dictionaries; return how many were new.

    Public entries pydicom already knows are kept as pydicom has them (its
    dictionary is current); private entries are added per private creator.
    """
    from pydicom import datadict

    public: dict[int, tuple[str, str, str, str, str]] = {}
    private: dict[str, dict[int, tuple[str, str, str, str]]] = {}
    for entry in entries:
        if entry.private_creator is not None:
            # pydicom ignores the element's high byte for private tags ("xx").
            private.setdefault(entry.private_creator, {})[entry.tag] = (
                entry.vr,
                entry.vm,
                entry.keyword,
                "",
            )
        elif not datadict.dictionary_has_tag(entry.tag) and entry.tag >> 16 & 1 == 0:
            public[entry.tag] = (entry.vr, entry.vm, entry.keyword, "", entry.keyword)
    if public:
        datadict.add_dict_entries(public)
    for creator, items in private.items():
        datadict.add_private_dict_entries(creator, items)
    return len(public) + sum(len(items) for items in private.values())


_lock = threading.Lock()
_loaded: dict[str, int] | None = None


def ensure_loaded(environ: dict[str, str] | None = None) -> dict[str, int]:
    """Load the files in ``DCMDICTPATH`` once; return entries added per file.

    Unreadable or malformed files are reported as warnings and skipped (the
    built-in dictionary still works), unlike DCMTK, which has no built-in one.
    """
    global _loaded
    with _lock:
        if _loaded is not None:
            return _loaded
        env = os.environ if environ is None else environ
        loaded: dict[str, int] = {}
        for path in (env.get("DCMDICTPATH") or "").split(os.pathsep):
            if not path:
                continue
            try:
                with open(path, encoding="latin-1") as handle:
                    entries = parse_dictionary(handle.read(), path)
            except (OSError, DictionaryError) as exc:
                log.warning("DCMDICTPATH: cannot load data dictionary %s: %s", path, exc)
                continue
            loaded[path] = register(entries)
            log.debug("DCMDICTPATH: loaded %s (%d new entries)", path, loaded[path])
        _loaded = loaded
        return loaded
