"""Input files: what they are, read without pydicom (PS3.10 7.1 meta, truncation).

Theory of operation
-------------------
:func:`inspect_file` reads the first few KiB of a file once and parses the
PS3.10 7.1 file meta information itself with :mod:`struct` (it is always
explicit VR little endian), giving the SOP Class/Instance UIDs, the transfer
syntax and the offset where the dataset starts. It then walks the top-level
elements of the dataset using their declared lengths, seeking over values, to
report truncated files (pydicom 3.0.2 silently reads short values). None of
this imports pydicom: scripts call ``storescu`` once per file and importing
pydicom costs about 0.3 s. The sender reads its inputs ahead to plan the
proposal without that walk (``check_truncation=False``) and does it with
:func:`verify_file` just before each file is sent -- for the next file while
the peer stores the current one -- which also reads a small file once.

The walker's building blocks (:class:`_Window`, :func:`_skip_undefined`, the
VR sets) are shared with :mod:`storescu.dataset.splice`. This module is the
bottom of the dataset layer's file handling: :mod:`storescu.dataset.readers`,
:mod:`storescu.dataset.transcode` and :mod:`storescu.dataset.sources` build
on it, and it imports none of them.

Every length read from a file is untrusted: it is checked against the file
size and a fixed bound before it is used to read or allocate anything.
"""

from __future__ import annotations

import os
import stat
import struct
from collections.abc import Callable
from typing import Final

from storescu.dataset.elements import skip_plain
from storescu.kernel.constants import (
    DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN,
    EXPLICIT_VR_BIG_ENDIAN,
    EXPLICIT_VR_LITTLE_ENDIAN,
    IMPLICIT_VR_LITTLE_ENDIAN,
    UNCOMPRESSED_SYNTAXES,
    transfer_syntax_name,
)
from storescu.kernel.errors import FileAccessError, InvalidFileError, UsageError
from storescu.kernel.records import dataclass, field

__all__ = [
    "CONVERTIBLE_SYNTAXES",
    "OPEN_FLAGS",
    "FileInfo",
    "can_convert",
    "inspect_file",
    "verify_file",
]

#: Syntaxes :func:`storescu.dataset.sources.open_dataset` converts between: the
#: three uncompressed ones and deflated explicit VR little endian (PS3.5 A.5),
#: which is only zlib on top.
CONVERTIBLE_SYNTAXES: Final = UNCOMPRESSED_SYNTAXES | {DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN}

_PREAMBLE_LEN: Final = 128
_META_START: Final = _PREAMBLE_LEN + 4  # after the preamble and b"DICM" (PS3.10 7.1)
_MAX_META: Final = 64 * 1024  # bound on the whole group 0002
_MAX_UID_LEN: Final = 256  # a UID is at most 64 characters (PS3.5 9.1); be lenient
_MAX_DEPTH: Final = 128  # undefined-length sequences nested deeper are refused
_WHOLE_FILE: Final = 64 * 1024  # files up to this size are read in one call
_CHUNK: Final = 16 * 1024
_UNDEFINED: Final = 0xFFFFFFFF
_MAX_INFLATE_PROBE: Final = 1024 * 1024  # inflated bytes scanned for UIDs (deflated files)

# PS3.5 7.1.2: explicit VRs followed by 2 reserved bytes and a 32-bit length.
_LONG_VRS: Final = frozenset(
    {b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"SV", b"UC", b"UN", b"UR", b"UT", b"UV"}
)
_SHORT_VRS: Final = frozenset(
    {b"AE", b"AS", b"AT", b"CS", b"DA", b"DS", b"DT", b"FD", b"FL", b"IS", b"LO", b"LT"}
    | {b"PN", b"SH", b"SL", b"SS", b"ST", b"TM", b"UI", b"UL", b"US"}
)
_ALL_VRS: Final = _LONG_VRS | _SHORT_VRS

_EXPL_LE: Final = struct.Struct("<HH2sH")
_IMPL_LE: Final = struct.Struct("<HHI")
_IMPL_BE: Final = struct.Struct(">HHI")
_U16_LE: Final = struct.Struct("<H")
_U16_BE: Final = struct.Struct(">H")
_U32_LE: Final = struct.Struct("<I")
_U32_BE: Final = struct.Struct(">I")

#: A dataset whose encoding contradicts one of these labels is relabelled: the
#: two differ only in VR encoding, so the bytes can be sent under the right one.
_RELABELLED: Final = frozenset({IMPLICIT_VR_LITTLE_ENDIAN, EXPLICIT_VR_LITTLE_ENDIAN})
_READ_MODES: Final = ("auto", "fileformat", "dataset")


# ----------------------------------------------------------------------- FileInfo


@dataclass(frozen=True, slots=True)
class FileInfo:
    """What :func:`inspect_file` found out about one input file.

    Attributes
    ----------
    path : str
        The file, as given.
    sop_class_uid, sop_instance_uid : str
        From the meta header, else from the dataset; trailing NUL/space removed.
    transfer_syntax : str
        Transfer syntax of the dataset part of the file.
    dataset_offset : int
        Byte offset where the dataset starts (0 for a bare dataset).
    file_size : int
        Size of the file when it was inspected.
    has_meta : bool
        True when the file has PS3.10 file meta information.
    checked : bool
        False when :func:`inspect_file` left the truncation check to
        :func:`verify_file` (``check_truncation=False``).
    """

    path: str
    sop_class_uid: str
    sop_instance_uid: str
    transfer_syntax: str
    dataset_offset: int
    file_size: int
    has_meta: bool
    #: How it was inspected, not what the file is: left out of comparisons.
    checked: bool = field(default=True, compare=False)

    @property
    def dataset_length(self) -> int:
        """Number of dataset bytes: ``file_size - dataset_offset``."""
        return self.file_size - self.dataset_offset


class _Bad(Exception):
    """Internal: the file is invalid; becomes an InvalidFileError with the path."""


class _Window:
    """Bounded random access to a file through one small buffer.

    ``view(pos, n)`` makes bytes ``[pos, pos + n)`` available in ``self.buf`` and
    returns their index. Callers check ``pos + n`` against the file size and keep
    ``n`` small (a header, a UID, at most the 64 KiB meta group). Hot loops test
    the buffer bounds inline and call ``view`` only when they run past them.
    """

    __slots__ = ("base", "buf", "fd")

    def __init__(self, fd: int | None, buf: bytes, base: int = 0) -> None:
        self.fd = fd
        self.buf = buf
        self.base = base

    def view(self, pos: int, n: int) -> int:
        i = pos - self.base
        if i >= 0 and i + n <= len(self.buf):
            return i
        if self.fd is None:
            raise _Bad(f"truncated at offset {pos}")
        # After a long jump (over a value) the next element is probably far
        # too: read a little. Sequential headers get a whole chunk.
        near = pos - self.base - len(self.buf) < _CHUNK
        data = _pread(self.fd, max(n, _CHUNK if near else 256), pos)
        if len(data) < n:  # the file shrank since it was measured
            raise _Bad(f"truncated at offset {pos}")
        self.buf, self.base = data, pos
        return 0


def _pread(fd: int, n: int, pos: int) -> bytes:
    """Read up to `n` bytes at `pos`; fewer only at end of file."""
    parts: list[bytes] = []
    got = 0
    while got < n:
        if _HAVE_PREAD:
            data = os.pread(fd, n - got, pos + got)
        else:  # Windows has no pread
            os.lseek(fd, pos + got, os.SEEK_SET)
            data = os.read(fd, n - got)
        if not data:
            break
        if not parts and len(data) == n:
            return data
        parts.append(data)
        got += len(data)
    return b"".join(parts)


_HAVE_PREAD: Final = hasattr(os, "pread")


# --------------------------------------------------------------------- inspection


def inspect_file(path: str, *, read_mode: str = "auto", check_truncation: bool = True) -> FileInfo:
    """Find SOP Class/Instance UID, transfer syntax and dataset offset of a file.

    The file meta information (PS3.10 7.1) is parsed without pydicom; group
    0002 is walked element by element while the group number is 0002, so a
    wrong (0002,0000) group length does no harm. A meta header encoded in
    implicit VR (a known writer bug) is accepted.

    The SOP UIDs are taken from (0008,0016)/(0008,0018) in the dataset, as
    DCMTK does; the meta header's copies are used only when the dataset lacks
    them (and for deflated datasets, which are not inflated just for this). When the transfer
    syntax is missing (no meta, or a meta without (0002,0010)) it is inferred
    from the first dataset element (PS3.5 7.1): a valid VR after the tag means
    explicit VR, the byte order is the one giving the smaller group number
    (the first element of a storable dataset is at most (0008,0016)), and
    otherwise implicit VR little endian. A dataset that is implicit VR although
    the meta says explicit VR little endian (or the reverse) is reported with
    the syntax its bytes are in.

    Parameters
    ----------
    path : str
        The file to inspect.
    read_mode : {"auto", "fileformat", "dataset"}
        ``"auto"`` (DCMTK ``+f``): a file with meta header or a bare dataset.
        ``"fileformat"`` (``+fo``): the meta header is required.
        ``"dataset"`` (``-f``): a bare dataset is expected; a file that has a
        meta header anyway is read like ``"auto"`` does.
    check_truncation : bool
        Walk the top-level elements of the dataset (seeking over values) and
        report a declared length running past the end of the file. This is
        O(number of top-level elements) and costs some microseconds; it is
        skipped for deflated datasets. Without it the walk stops at the SOP
        Instance UID and ``checked`` is False: :func:`verify_file` does the
        rest when the file is about to be sent.

    Returns
    -------
    FileInfo

    Raises
    ------
    FileAccessError
        The path is missing, unreadable, a directory or not a regular file.
    InvalidFileError
        The file is empty, not DICOM, truncated, lacks a SOP UID or a meta
        header in ``"fileformat"`` mode.
    UsageError
        `read_mode` is not one of the above.
    """
    return _inspect_path(path, read_mode, check_truncation)[0]


def inspect_whole(path: str, *, read_mode: str = "auto") -> tuple[FileInfo, bytes | None]:
    """:func:`inspect_file` with the truncation check, and the file when it is small.

    For a run that sends each input as soon as it is inspected: the file is
    opened and read once (a file of at most 64 KiB in one read, returned for
    sending), where :func:`inspect_file` then :func:`verify_file` would open,
    measure and read it twice.

    Raises
    ------
    FileAccessError, InvalidFileError, UsageError
        As :func:`inspect_file`.
    """
    return _inspect_path(path, read_mode, True)


def _inspect_path(path: str, read_mode: str, check: bool) -> tuple[FileInfo, bytes | None]:
    """Open `path`, inspect it (:func:`_inspect`), close it; errors name the file."""
    if read_mode not in _READ_MODES:
        raise UsageError(f"invalid read mode {read_mode!r}, expected one of {_READ_MODES}")
    fd = _open_input(path)
    try:
        return _inspect(fd, path, read_mode, check)
    except _Bad as exc:
        raise InvalidFileError(path, str(exc)) from None
    except (OSError, ValueError, struct.error, RecursionError, IndexError) as exc:
        raise FileAccessError(path, f"cannot read file: {exc}") from exc
    finally:
        os.close(fd)


def _open_input(path: str) -> int:
    """A descriptor of `path` opened with :data:`_OPEN_FLAGS` (never blocks on a FIFO)."""
    try:
        return os.open(path, _OPEN_FLAGS)
    except IsADirectoryError:
        raise FileAccessError(path, "is a directory") from None
    except OSError as exc:
        raise FileAccessError(path, f"cannot access file: {exc.strerror or exc}") from exc


# O_BINARY matters on Windows only; os.open is a little cheaper than open().
# O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer,
# forever, before any timeout applies (issue 14.7); it returns at once and
# fstat then says "not a regular file". On a regular file it changes nothing
# (POSIX: O_NONBLOCK does not apply to regular files). O_NOCTTY: a terminal
# device named as an input must not become our controlling terminal.
OPEN_FLAGS: Final = (
    os.O_RDONLY
    | getattr(os, "O_BINARY", 0)
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_NOCTTY", 0)
)
_OPEN_FLAGS: Final = OPEN_FLAGS


def _inspect(fd: int, path: str, read_mode: str, check: bool) -> tuple[FileInfo, bytes | None]:
    """The file's FileInfo, and its bytes when it was read whole (at most 64 KiB)."""
    st = os.fstat(fd)
    if stat.S_ISDIR(st.st_mode):
        raise FileAccessError(path, "is a directory")
    if not stat.S_ISREG(st.st_mode):
        raise FileAccessError(path, "not a regular file")
    size = st.st_size
    if size == 0:
        raise _Bad("empty file")
    win = _Window(fd, _pread(fd, size if size <= _WHOLE_FILE else _CHUNK, 0))
    head = win.buf

    sop_class = sop_inst = ts = None
    has_meta = False
    offset = 0
    if head[_PREAMBLE_LEN:_META_START] == b"DICM":
        has_meta = True
        offset, sop_class, sop_inst, ts = _parse_meta(win, _META_START, size)
    elif read_mode == "fileformat":
        raise _Bad("meta header missing")
    elif head[0:2] == b"\x02\x00":
        # Meta group without preamble and prefix (non-conformant, seen in the wild);
        # it must not be sent as part of the dataset.
        has_meta = True
        offset, sop_class, sop_inst, ts = _parse_meta(win, 0, size)

    if offset >= size:
        raise _Bad("no dataset after the meta header" if has_meta else "not a DICOM file")
    implicit, little = _first_element_encoding(win, offset, size, has_meta, ts)
    if ts is None or (ts in _RELABELLED and implicit != (ts == IMPLICIT_VR_LITTLE_ENDIAN)):
        ts = IMPLICIT_VR_LITTLE_ENDIAN if implicit else _explicit_syntax(little)

    need_uids = not (sop_class and sop_inst)
    checked = True
    if ts == DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN:
        if need_uids:  # PS3.5 A.5: raw deflate of an explicit VR LE dataset
            import zlib  # deflated files only: not imported at every start

            try:
                inflater = zlib.decompressobj(-zlib.MAX_WBITS)
                raw = _pread(fd, _MAX_INFLATE_PROBE, offset)
                data = inflater.decompress(raw, _MAX_INFLATE_PROBE)
            except zlib.error as exc:  # reported as an unreadable file, as before
                raise ValueError(str(exc)) from exc
            found = _walk(_Window(None, data), 0, len(data), False, True, True, False)
            sop_class, sop_inst = sop_class or found[0], sop_inst or found[1]
    else:
        # Encapsulated syntaxes are explicit VR little endian (PS3.5 A.4); a
        # private syntax is assumed to be too, and is not checked for truncation.
        known = _checkable(ts)
        checked = check or not known
        found = _walk(win, offset, size, implicit, little, True, check and known)
        # The dataset's own (0008,0016)/(0008,0018) win over the meta header's
        # copies, as in DCMTK: the C-STORE-RQ must name what the dataset says,
        # or receivers answer A900 (dataset does not match SOP class).
        sop_class, sop_inst = found[0] or sop_class, found[1] or sop_inst

    if not sop_class:
        raise _Bad("missing SOP Class UID")
    if not sop_inst:
        raise _Bad("missing SOP Instance UID")
    _check_ascii(sop_class, "SOP Class UID", _Bad)
    _check_ascii(sop_inst, "SOP Instance UID", _Bad)
    info = FileInfo(path, sop_class, sop_inst, ts, offset, size, has_meta, checked)
    return info, (head if len(head) == size else None)


def _checkable(ts: str) -> bool:
    """True when the dataset's elements can be walked for the truncation check."""
    return ts in UNCOMPRESSED_SYNTAXES or (
        ts.startswith("1.2.840.10008.1.2.") and ts != DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN
    )


def can_convert(source_ts: str, target_ts: str) -> bool:
    """Tell whether a dataset in `source_ts` can be opened in `target_ts`.

    That is, whether :func:`storescu.dataset.sources.open_dataset` can produce
    it (:mod:`storescu.dataset.transcode` converts).

    Parameters
    ----------
    source_ts, target_ts : str
        Transfer syntax UIDs.

    Returns
    -------
    bool
        True when they are equal, or both are in :data:`CONVERTIBLE_SYNTAXES`.
    """
    return source_ts == target_ts or (
        source_ts in CONVERTIBLE_SYNTAXES and target_ts in CONVERTIBLE_SYNTAXES
    )


def verify_file(info: FileInfo, *, read_mode: str = "auto") -> tuple[FileInfo, bytes | None]:
    """Finish an inspection made with ``check_truncation=False``, just before sending.

    Inspecting every input of a window before its association (to plan the
    proposal) needs only the UIDs and the syntax; the truncation check walks
    every top-level element. Doing it here, for the next file while the peer
    stores the previous one, takes it off the critical path, and the file is
    read once: a file of at most 64 KiB is returned whole, for sending.

    Parameters
    ----------
    info : FileInfo
        From :func:`inspect_file`.
    read_mode : str
        As for :func:`inspect_file`, used when the file changed since.

    Returns
    -------
    (FileInfo, bytes or None)
        The checked FileInfo (inspected anew when the file's size changed since)
        and the whole file when it is small, else None.

    Raises
    ------
    FileAccessError, InvalidFileError
        As :func:`inspect_file`; "truncated at offset N" for a value running
        past the end of the file.
    """
    path = info.path
    fd = _open_input(path)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):  # replaced since it was inspected
            raise FileAccessError(path, "not a regular file")
        size = st.st_size
        if size != info.file_size:
            # Changed since it was inspected: inspect it again, completely.
            info = _inspect(fd, path, read_mode, True)[0]
            size = info.file_size
        elif info.checked and size > _WHOLE_FILE:
            return info, None
        whole = _pread(fd, size, 0) if size <= _WHOLE_FILE else None
        if whole is not None and len(whole) != size:  # shrank just now
            raise _Bad(f"truncated at offset {len(whole)}")
        if not info.checked:
            ts = info.transfer_syntax
            offset = info.dataset_offset
            implicit = ts == IMPLICIT_VR_LITTLE_ENDIAN
            little = ts != EXPLICIT_VR_BIG_ENDIAN
            win = _Window(fd, whole) if whole is not None else _Window(fd, b"", offset)
            _walk(win, offset, size, implicit, little, False, True)
            info = FileInfo(
                path,
                info.sop_class_uid,
                info.sop_instance_uid,
                ts,
                offset,
                size,
                info.has_meta,
                True,
            )
        return info, whole
    except _Bad as exc:
        raise InvalidFileError(path, str(exc)) from None
    except (OSError, ValueError, struct.error, RecursionError, IndexError) as exc:
        raise FileAccessError(path, f"cannot read file: {exc}") from exc
    finally:
        os.close(fd)


def _check_ascii(uid: str, what: str, error: Callable[[str], Exception]) -> None:
    """A UID that cannot go into a C-STORE-RQ (ASCII, PS3.7 E.1) makes the input invalid.

    Found by the fault suite: a non-ASCII byte in a UID used to escape as a
    UnicodeEncodeError while encoding the command set, ending the whole run.
    """
    if not uid.isascii():
        raise error(f"{what} is not ASCII: {uid!r}")


def _explicit_syntax(little: bool) -> str:
    return EXPLICIT_VR_LITTLE_ENDIAN if little else EXPLICIT_VR_BIG_ENDIAN


def _uid(value: bytes) -> str | None:
    """Decode a UI value; PS3.5 6.2 pads with NUL, some writers with spaces."""
    text = value.decode("latin-1").strip("\x00 ")
    return text or None


def _parse_meta(
    win: _Window, pos: int, size: int
) -> tuple[int, str | None, str | None, str | None]:
    """Walk group 0002 (explicit VR LE, PS3.10 7.1); return (end, class, instance, syntax)."""
    limit = pos + _MAX_META
    sop_class = sop_inst = ts = None
    unpack = _EXPL_LE.unpack_from
    buf, base = win.buf, win.base
    while size - pos >= 8:
        i = pos - base
        if i + 12 > len(buf):
            i = win.view(pos, min(12, size - pos))
            buf, base = win.buf, win.base
        group, elem, vr, length = unpack(buf, i)
        if group != 0x0002:
            break
        header = 8
        if vr in _LONG_VRS:
            if size - pos < 12:
                raise _Bad(f"truncated at offset {pos}")
            length = _U32_LE.unpack_from(buf, i + 8)[0]
            header = 12
        elif vr not in _SHORT_VRS and not b"AA" <= vr <= b"ZZ":
            # Meta written in implicit VR (a writer bug): a 32-bit length follows the tag.
            length = _U32_LE.unpack_from(buf, i + 4)[0]
        end = pos + header + length
        if end > size:
            raise _Bad(f"truncated at offset {pos}")
        if end > limit:
            raise _Bad(f"meta header larger than {_MAX_META} bytes")
        if elem in (0x0002, 0x0003, 0x0010):
            j = pos + header - base
            if j + length > len(buf):
                j = win.view(pos + header, length)
                buf, base = win.buf, win.base
            value = _uid(buf[j : j + length])
            if elem == 0x0002:
                sop_class = value
            elif elem == 0x0003:
                sop_inst = value
            else:
                ts = value
        pos = end
    if 0 < size - pos < 8:
        raise _Bad(f"truncated at offset {pos}")
    return pos, sop_class, sop_inst, ts


def _first_element_encoding(
    win: _Window, pos: int, size: int, has_meta: bool, ts: str | None
) -> tuple[bool, bool]:
    """Return (implicit VR, little endian) of the dataset from its first element.

    When `ts` is known only implicit-vs-explicit is looked at (writer bugs
    mislabel implicit VR LE data as explicit VR LE and the reverse; pydicom
    copes, so do we). Otherwise (PS3.5 7.1) the VR bytes
    decide explicit vs implicit and the smaller group number the byte order.
    """
    if size - pos < 8:
        raise _Bad(f"truncated at offset {pos}" if has_meta else "not a DICOM file")
    i = win.view(pos, 8)
    b = win.buf[i : i + 8]
    explicit = b[4:6] in _ALL_VRS
    if ts is not None:
        if ts == IMPLICIT_VR_LITTLE_ENDIAN:
            return not explicit, True  # explicit data mislabelled implicit: read it as such
        if not explicit and b[0:2] != b"\xfe\xff" and ts != DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN:
            if ts == EXPLICIT_VR_LITTLE_ENDIAN:
                return True, True
            if ts.startswith("1.2.840.10008.1.2."):
                raise _Bad(f"dataset is not encoded in {transfer_syntax_name(ts)}")
        return False, ts != EXPLICIT_VR_BIG_ENDIAN
    group_le = b[0] | b[1] << 8
    group_be = b[0] << 8 | b[1]
    little = group_le <= group_be or not explicit  # implicit VR big endian is no syntax
    if has_meta:
        return not explicit, little
    # Without a meta header this tells a dataset from any other file. Elements
    # are in ascending tag order (PS3.5 7.1) and (0008,0016) is required, so a
    # storable dataset starts at group 0004..0008 (0002 would be a meta group,
    # 0000 a command), and its first element fits in the file.
    group = group_le if little else group_be
    e = "<" if little else ">"
    if explicit and b[4:6] in _LONG_VRS:
        j = win.view(pos, 12) if size - pos >= 12 else None
        header = 12
        length = struct.unpack_from(e + "I", win.buf, j + 8)[0] if j is not None else 0
    else:
        header = 8
        length = struct.unpack_from(e + ("H" if explicit else "I"), b, 6 if explicit else 4)[0]
    if not 0x0004 <= group <= 0x0008 or (length != _UNDEFINED and pos + header + length > size):
        raise _Bad("not a DICOM file")
    return not explicit, little


def _walk(
    win: _Window,
    pos: int,
    end: int,
    implicit: bool,
    little: bool,
    want_uids: bool,
    check: bool,
) -> tuple[str | None, str | None]:
    """Walk top-level elements from `pos`; return SOP class/instance UIDs if wanted.

    With `check`, every element is visited (plain ones by :func:`.elements.skip_plain`)
    and a value running past `end` raises "truncated"; otherwise the walk stops after
    (0008,0018). Undefined-length values are walked by :func:`_skip_undefined`. The hot
    loop of the fast path: one unpack per element, the tag as one 32-bit number, buffer
    bounds tested inline, constants in locals, rare cases out of the way.
    """
    unpack = struct.Struct(("<" if little else ">") + ("II" if implicit else "I2sHI")).unpack_from
    hlen = 8 if implicit else 12  # bytes unpacked per element
    # The tag as one 32-bit number in the file's byte order (group in the low half if LE).
    class_tag, inst_tag = 0x0008 | 0x0016 << 16, 0x0008 | 0x0018 << 16
    pixel_tag = 0x7FE0 | 0x0010 << 16
    delimiter = b"\xfe\xff\xdd\xe0\x00\x00\x00\x00"  # (FFFE,E0DD), length 0
    if not little:
        class_tag, inst_tag, pixel_tag = 0x00080016, 0x00080018, 0x7FE00010
        delimiter = b"\xff\xfe\xe0\xdd\x00\x00\x00\x00"
    undefined, long_vrs, short_vrs = _UNDEFINED, _LONG_VRS, _SHORT_VRS
    buf, base, blen = win.buf, win.base, len(win.buf)
    sop_class = sop_inst = None
    vr, length = b"", 0
    lane = (unpack, implicit, short_vrs, long_vrs, (class_tag, inst_tag) if want_uids else ())
    fast = check  # the truncation check visits every element: plain ones in the fast lane
    while pos < end:
        if fast and base <= pos and base + blen >= end:
            fast, stop = False, skip_plain(lane, buf, base, pos, end)  # then the loop below
            if stop != pos:
                pos = stop
                continue
        i = pos - base
        if i + hlen > blen:
            left = end - pos
            if left < 8:
                raise _Bad(f"truncated at offset {pos}")
            if left >= hlen:
                i = win.view(pos, hlen)
                buf, base = win.buf, win.base
            else:  # a short last element: zero-pad so the 12-byte unpack works
                j = win.view(pos, left)
                buf, base, i = win.buf[j : j + left] + bytes(hlen - left), pos, 0
            blen = len(buf)
        if implicit:
            tag, length = unpack(buf, i)
            nxt = pos + 8 + length
        else:
            tag, vr, length, long_length = unpack(buf, i)
            if vr in short_vrs:
                nxt = pos + 8 + length
            elif vr in long_vrs:
                # With fewer than 12 bytes left, long_length is padding and the
                # check below reports the truncation.
                length = long_length
                nxt = pos + 12 + length
            else:
                length, header = _odd_header(buf, i, pos, tag, vr, little)
                nxt = pos + header + length
        if length == undefined:
            if (tag & 0xFFFF if little else tag >> 16) == 0xFFFE:
                raise _Bad(f"unexpected item at offset {pos}")
            header = 8 if implicit or vr not in long_vrs else 12
            if tag == pixel_tag and end - pos >= header + 8:
                # Encapsulated pixel data (PS3.5 A.4) is usually last: when the
                # file ends with its delimiter, do not visit every fragment.
                j = win.view(end - 8, 8)
                if win.buf[j : j + 8] == delimiter:
                    pos = end
                    break
            inner_implicit = implicit or vr == b"UN"  # PS3.5 6.2.2: UN SQ is implicit LE
            pos = _skip_undefined(win, pos + header, end, inner_implicit, little or inner_implicit)
            buf, base = win.buf, win.base
            blen = len(buf)
            continue
        if nxt > end:
            raise _Bad(f"truncated at offset {pos}")
        if want_uids and tag in (class_tag, inst_tag):
            if length > _MAX_UID_LEN:
                raise _Bad(f"invalid UID length {length} at offset {pos}")
            j = win.view(nxt - length, length)
            buf, base = win.buf, win.base
            blen = len(buf)
            if tag == class_tag:
                sop_class = _uid(buf[j : j + length])
            else:
                sop_inst = _uid(buf[j : j + length])
        pos = nxt
        fast = check
        if not check:
            group, elem = (tag & 0xFFFF, tag >> 16) if little else (tag >> 16, tag & 0xFFFF)
            if not want_uids or group > 0x0008 or (group == 0x0008 and elem >= 0x0018):
                break
    return sop_class, sop_inst


def _odd_header(buf: bytes, i: int, pos: int, tag: int, vr: bytes, little: bool) -> tuple[int, int]:
    """(length, header size) of an explicit VR element whose VR is not a known one."""
    group = tag & 0xFFFF if little else tag >> 16
    if group == 0xFFFE:  # item tags carry no VR (PS3.5 7.5); stray delimiters are skipped
        return (_U32_LE if little else _U32_BE).unpack_from(buf, i + 4)[0], 8
    if b"AA" <= vr <= b"ZZ":  # an unknown VR: a 16-bit length, as pydicom assumes
        return (_U16_LE if little else _U16_BE).unpack_from(buf, i + 6)[0], 8
    raise _Bad(f"invalid VR at offset {pos}")


def _skip_undefined(win: _Window, pos: int, end: int, implicit: bool, little: bool) -> int:
    """Skip the value of an undefined-length element; return the offset after it.

    `pos` is just after the element header. The value is a series of items
    ended by a sequence delimitation item (PS3.5 7.5.2, A.4); items of undefined
    length hold datasets ended by an item delimitation item. Iterative, with a
    depth bound, so deep nesting cannot exhaust the stack.
    """
    # Each frame: (inside an item dataset?, implicit VR, little endian).
    frames: list[tuple[bool, bool, bool]] = [(False, implicit, little)]
    while frames:
        in_item, implicit, little = frames[-1]
        if end - pos < 8:
            raise _Bad(f"truncated at offset {pos}")
        i = win.view(pos, 12 if end - pos >= 12 else 8)
        buf = win.buf
        group, elem, length = (_IMPL_LE if little else _IMPL_BE).unpack_from(buf, i)
        if group == 0xFFFE:
            if elem == 0xE0DD and not in_item:  # end of the sequence
                frames.pop()
                pos += 8
                continue
            if elem == 0xE00D and in_item:  # end of the item
                frames.pop()
                pos += 8
                continue
            if elem == 0xE000 and not in_item:
                pos += 8
                if length == _UNDEFINED:
                    frames.append((True, implicit, little))
                elif pos + length > end:
                    raise _Bad(f"truncated at offset {pos - 8}")
                else:
                    pos += length
                continue
            raise _Bad(f"invalid item at offset {pos}")
        if not in_item:
            raise _Bad(f"invalid item at offset {pos}")
        header = 8
        vr = b""
        if not implicit:
            vr = buf[i + 4 : i + 6]
            if vr in _LONG_VRS:
                if end - pos < 12:
                    raise _Bad(f"truncated at offset {pos}")
                length = (_U32_LE if little else _U32_BE).unpack_from(buf, i + 8)[0]
                header = 12
            elif vr in _SHORT_VRS or b"AA" <= vr <= b"ZZ":
                length = buf[i + 6] | buf[i + 7] << 8 if little else buf[i + 6] << 8 | buf[i + 7]
            else:
                # Some writers switch to implicit VR inside sequences; pydicom
                # reads that, so accept it: the 32-bit length is already
                # unpacked, and what it contains is implicit VR too.
                vr = b"UN"
        if length == _UNDEFINED:
            if len(frames) >= 2 * _MAX_DEPTH:  # a sequence frame and an item frame per level
                raise _Bad(f"sequences nested deeper than {_MAX_DEPTH} levels")
            inner_implicit = implicit or vr == b"UN"
            frames.append((False, inner_implicit, little or inner_implicit))
            pos += header
            continue
        if pos + header + length > end:
            raise _Bad(f"truncated at offset {pos}")
        pos += header + length
    return pos
