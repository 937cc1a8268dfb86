"""Dataset rewriting while sending: invented identities, UID fixes, attribute overrides.

Theory of operation
-------------------
Nothing here runs unless a rewriting option is given: without one the sender
streams each file's dataset bytes untouched and never imports this module's
pydicom parts (this module and the two it builds on import no pydicom at load
time, so the command line can validate ``-s`` without slowing down runs that
lack it).

:class:`RewriteOptions` (:mod:`storescu.dataset.rewriteopts`) is the frozen,
validated request; :class:`Rewriter` holds the state of one run (DCMTK's
counters, :class:`Inventor`, which go on across files and across ``--repeat``)
and, for each C-STORE, turns an input into a dataset reader and the SOP
Instance UID to name in the C-STORE-RQ:

* when every change is a top-level attribute (``+II``, ``--uid-suffix``,
  ``-s`` without a sequence path) and the file goes out in its own transfer
  syntax (the usual case), :mod:`storescu.dataset.splice` replaces those elements in
  the file's bytes and sends everything else as it is, decoding nothing;
* otherwise the file is parsed by :func:`storescu.dataset.transcode.read_deferred`
  (values above 64 KiB stay in the file), changed, and encoded by
  :func:`storescu.dataset.transcode.encode_parts` in the *negotiated* transfer
  syntax; large values are streamed from the file when sent, byte-swapped on
  the way if the byte order changes. Pixel data is never decoded: an
  encapsulated pixel data element goes out as it is.

Either way the changes are made in this order: ``-up`` (UIDs padded with
spaces), ``+II``/``+IR``/``+IS``/``+IP`` (invented identity),
``--uid-suffix``, then each ``-s`` in command-line order, so an explicit
``-s`` always wins.

The invented identity (``+II``, DCMTK's rules and where this program differs
from them) is :mod:`storescu.dataset.identity`'s; ``-s`` and ``--uid-suffix``
are parsed and checked by :mod:`storescu.dataset.rewriteopts`. The public names
of both are re-exported here (``storescu.rewrite`` is this module).

``-up`` (DCMTK: "silently correct space-padded UIDs") trims spaces around
every UI value of the dataset, at any depth. DCMTK trims one trailing space
from the SOP Class and Instance UIDs it puts in the C-STORE-RQ and sends the
dataset unchanged; this program always names the trimmed UIDs in the command,
so ``-up`` here fixes the dataset too (and, being a rewrite, takes the slower
path).
"""

from __future__ import annotations

import copy
import logging
import warnings
from typing import TYPE_CHECKING, Any, Final

from storescu.dataset.identity import (
    _INSTANCE_NUMBER,
    _SERIES_INSTANCE_UID,
    _SOP_INSTANCE_UID,
    _STUDY_INSTANCE_UID,
    Identity,
    Inventor,
)
from storescu.dataset.rewriteopts import (
    DEFAULT_UID_ROOT,
    MAX_UID_LENGTH,
    Override,
    RewriteOptions,
    _tag_name,
    is_valid_uid,
    normalize_uid_root,
    parse_override,
    validate_uid_suffix,
)
from storescu.kernel.constants import DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN
from storescu.kernel.errors import RewriteError, StorescuError

if TYPE_CHECKING:
    from pydicom.dataset import Dataset

    from storescu.dataset.inspection import FileInfo
    from storescu.dataset.readers import DatasetReader

__all__ = [
    "DEFAULT_UID_ROOT",
    "Identity",
    "Inventor",
    "Override",
    "RewriteOptions",
    "Rewriter",
    "is_valid_uid",
    "normalize_uid_root",
    "parse_override",
    "validate_uid_suffix",
]

log = logging.getLogger("storescu")

_SPECIFIC_CHARACTER_SET: Final = 0x00080005
_SUFFIXED: Final = (
    (_STUDY_INSTANCE_UID, "StudyInstanceUID"),
    (_SERIES_INSTANCE_UID, "SeriesInstanceUID"),
    (_SOP_INSTANCE_UID, "SOPInstanceUID"),
)

#: Text whose bytes depend on Specific Character Set (PS3.5 6.1.2.3).
_CHARSET_VRS: Final = frozenset({"LO", "LT", "PN", "SH", "ST", "UC", "UT"})


# ------------------------------------------------------------------------- rewriter


class Rewriter:
    """Applies :class:`RewriteOptions` to each dataset of one run.

    Parameters
    ----------
    options : RewriteOptions
        What to change.
    inventor : Inventor, optional
        The identity counters (made from `options` when ``+II`` is on).
    """

    def __init__(self, options: RewriteOptions, inventor: Inventor | None = None) -> None:
        self.options = options
        self.inventor = inventor or (Inventor(options) if options.invent else None)
        self._last: tuple[int, Identity] | None = None
        # Only top-level changes: files going out in their own syntax are
        # spliced (storescu.dataset.splice) instead of decoded and re-encoded.
        self.spliceable = not options.fix_uid_padding and all(not o.path for o in options.overrides)
        # The largest tag that may change: splicing walks the file no further.
        self._until = max(
            [_SPECIFIC_CHARACTER_SET]
            + ([_INSTANCE_NUMBER] if options.invent else [])
            + ([_SOP_INSTANCE_UID, _SERIES_INSTANCE_UID] if options.uid_suffix else [])
            + [o.tag for o in options.overrides]
        )

    # ------------------------------------------------------------- per C-STORE

    def open(
        self,
        info: FileInfo,
        dataset: Dataset | None,
        target_ts: str,
        send: int = 0,
        *,
        deflate_level: int = 6,
        old_vrs: bool = False,
    ) -> tuple[DatasetReader, str]:
        """Rewrite one input and encode it in `target_ts` for one C-STORE.

        Parameters
        ----------
        info : FileInfo
            The inspected file (or the identity of an in-memory dataset).
        dataset : pydicom.dataset.Dataset, optional
            An in-memory input (it is copied, never changed).
        target_ts : str
            The transfer syntax of the presentation context.
        send : int
            Numbers the send; a retry of a send (same number, not 0) gets the
            same invented identity, so a resent instance keeps its UIDs.
        deflate_level : int
            zlib level for a deflated `target_ts` (``+cl``).
        old_vrs : bool
            ``-u``: write post-1993 VRs as OB (never spliced then).

        Returns
        -------
        (DatasetReader, str)
            The reader of the encoded dataset and the SOP Instance UID to put
            in the C-STORE-RQ.

        Raises
        ------
        ConversionError
            The dataset cannot be encoded in `target_ts` (checked before
            anything else, so the counters do not move for it).
        RewriteError
            The dataset cannot be rewritten as asked.
        FileAccessError, InvalidFileError
            The file cannot be read (any more).
        """
        from storescu.dataset import transcode
        from storescu.dataset.inspection import can_convert
        from storescu.dataset.readers import MemoryDatasetReader
        from storescu.kernel.constants import transfer_syntax_name
        from storescu.kernel.errors import ConversionError

        own_ts = info.transfer_syntax
        if own_ts != target_ts and not can_convert(own_ts, target_ts):
            raise ConversionError(
                f"cannot convert from '{transfer_syntax_name(own_ts)}' "
                f"to '{transfer_syntax_name(target_ts)}'"
            )
        if (
            dataset is None
            and self.spliceable
            and not old_vrs
            and own_ts == target_ts
            and own_ts != DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN
        ):
            return self._open_spliced(info, send)
        if dataset is not None:
            ds = copy.deepcopy(dataset)
            self.apply(ds, send)
            instance = _sop_instance_of(ds, info.sop_instance_uid)
            meta = getattr(ds, "file_meta", None)
            if meta is not None and "MediaStorageSOPInstanceUID" in meta:
                meta.MediaStorageSOPInstanceUID = instance  # PS3.10 7.1: follows the dataset
            data = transcode.encode_dataset(
                ds, target_ts, deflate_level=deflate_level, old_vrs=old_vrs
            )
            return MemoryDatasetReader(data), instance
        ds, info = transcode.read_deferred(info)
        self.apply(ds, send)
        parts = transcode.encode_parts(
            ds,
            info.transfer_syntax,
            target_ts,
            info.path,
            deflate_level=deflate_level,
            old_vrs=old_vrs,
        )
        return transcode.PartsReader(parts), _sop_instance_of(ds, info.sop_instance_uid)

    def _open_spliced(self, info: FileInfo, send: int) -> tuple[DatasetReader, str]:
        """Top-level changes only, in the file's own syntax: splice, decode nothing."""
        from storescu.dataset import splice, transcode

        layout = splice.read_layout(info, self._until)
        changes: dict[int, tuple[str, tuple[str | int | float, ...]]] = {}
        identity = self._identity(send)
        if identity is not None:
            for tag, vr, value in identity.elements():
                changes[tag] = (vr, (value,))
        suffix = self.options.uid_suffix
        if suffix is not None:
            for tag, keyword in _SUFFIXED:
                old = str(changes[tag][1][0]) if tag in changes else layout.text(tag)
                if old is not None:  # as dcm4che: nothing to append to
                    changes[tag] = ("UI", (_suffixed(keyword, old, suffix),))
        for override in self.options.overrides:
            changes[override.tag] = (override.vr, override.values)
            log.debug("Set %s to %r", override.name, override.values)
        if _SPECIFIC_CHARACTER_SET in changes:
            charset = [str(v) for v in changes[_SPECIFIC_CHARACTER_SET][1]]
        else:
            text = layout.text(_SPECIFIC_CHARACTER_SET) or ""
            charset = [t.strip() for t in text.split("\\")] if text else []
        encoded = {
            tag: splice.encode_element(tag, vr, values, layout.implicit, layout.little, charset)
            for tag, (vr, values) in changes.items()
        }
        instance = str(changes[_SOP_INSTANCE_UID][1][0]) if _SOP_INSTANCE_UID in changes else ""
        reader = transcode.PartsReader(splice.splice(layout, encoded))
        return reader, instance.strip("\x00 ") or layout.info.sop_instance_uid

    def _identity(self, send: int) -> Identity | None:
        """The invented identity for this send (a retry gets the same one), logged."""
        if self.inventor is None:
            return None
        if send and self._last is not None and self._last[0] == send:
            identity = self._last[1]  # a retry: the same instance again
        else:
            identity = self.inventor.next()
            self._last = (send, identity)
        identity.log()
        return identity

    def apply(self, ds: Dataset, send: int = 0) -> None:
        """Change `ds` in place: ``-up``, invented identity, ``--uid-suffix``, ``-s``.

        `send` is as for :meth:`open` (0: always a new identity).

        Raises
        ------
        RewriteError
            Something asked cannot be done on this dataset.
        """
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pydicom's value warnings: checked here instead
            try:
                self._apply(ds, send)
            except StorescuError:
                raise
            except Exception as exc:  # pydicom raises many types on broken data
                raise RewriteError(f"cannot rewrite the dataset: {exc}") from exc

    def _apply(self, ds: Dataset, send: int) -> None:
        opts = self.options
        if opts.fix_uid_padding:
            fixed = _fix_uid_padding(ds, 0)
            if fixed:
                log.debug("Removed the space padding of %d UID value(s)", fixed)
        identity = self._identity(send)
        if identity is not None:
            for tag, vr, value in identity.elements():
                _put(ds, tag, vr, value)
        if opts.uid_suffix is not None:
            self._append_suffix(ds, opts.uid_suffix)
        for override in opts.overrides:
            _apply_override(ds, override)
        if opts.overrides:
            _check_encodable(ds, opts.overrides)

    def _append_suffix(self, ds: Dataset, suffix: str) -> None:
        for tag, keyword in _SUFFIXED:
            if tag not in ds:
                continue  # as dcm4che: nothing to append to
            old = str(ds[tag].value or "").strip("\x00 ")
            _put(ds, tag, "UI", _suffixed(keyword, old, suffix))


def _suffixed(keyword: str, old: str, suffix: str) -> str:
    """``old + suffix``, checked (PS3.5 9.1) and logged; RewriteError if not a valid UID."""
    new = old + suffix
    if not is_valid_uid(new):
        why = "longer than 64 characters" if len(new) > MAX_UID_LENGTH else "not valid"
        raise RewriteError(f"{keyword} {old} with the UID suffix {suffix} is {why}: {new}")
    log.info("  %s=%s (UID suffix)", keyword, new)
    return new


def _sop_instance_of(ds: Dataset, default: str) -> str:
    """The SOP Instance UID the rewritten dataset carries (the C-STORE-RQ names it)."""
    if _SOP_INSTANCE_UID not in ds:
        return default
    return str(ds[_SOP_INSTANCE_UID].value or "").strip("\x00 ") or default


def _put(ds: Dataset, tag: int, vr: str, value: Any) -> None:
    from pydicom.dataelem import DataElement

    ds[tag] = DataElement(tag, vr, value)


def _raw_vr(ds: Dataset, tag: int, item: Any) -> str | None:
    """The VR of a raw element without converting it; None if unknown (private implicit)."""
    from pydicom.datadict import dictionary_VR

    vr = item.VR
    if vr is not None and vr != "UN":
        return str(vr)
    if tag >> 16 & 1:
        return None
    try:
        return str(dictionary_VR(tag))
    except KeyError:
        return None


def _strip_uid(value: bytes) -> bytes:
    return b"\\".join(v.strip(b" \x00") for v in value.split(b"\\"))


def _fix_uid_padding(ds: Dataset, depth: int) -> int:
    """``-up``: trim spaces (and stray NULs) around every UI value; return how many changed.

    Raw values are fixed as bytes, so nothing else is decoded; sequences are
    walked (pydicom parses them on access).
    """
    from pydicom.dataelem import RawDataElement

    if depth > 64:
        raise RewriteError("sequences nested too deeply")
    fixed = 0
    for tag in list(ds.keys()):
        item = ds.get_item(tag, keep_deferred=True)
        if isinstance(item, RawDataElement):
            vr = _raw_vr(ds, tag, item)
            if vr == "UI" and item.value:
                value = _strip_uid(item.value)
                if value != item.value:
                    ds[tag] = item._replace(value=value, length=len(value))
                    fixed += 1
                continue
            if vr != "SQ":
                continue
            item = ds[tag]  # parse the sequence (a deferred one is read first)
        if item.VR == "UI" and isinstance(item.value, str):
            value_text = "\\".join(v.strip(" \x00") for v in item.value.split("\\"))
            if value_text != item.value:
                item.value = value_text
                fixed += 1
        elif item.VR == "UI" and item.VM > 1:
            values = [str(v).strip(" \x00") for v in item.value]
            if values != [str(v) for v in item.value]:
                item.value = values
                fixed += 1
        elif item.VR == "SQ":
            for child in item.value:
                fixed += _fix_uid_padding(child, depth + 1)
    return fixed


def _apply_override(ds: Dataset, override: Override) -> None:
    """Set one ``-s`` attribute, creating sequences and items on its path if needed."""
    from pydicom.dataelem import DataElement
    from pydicom.dataset import Dataset
    from pydicom.sequence import Sequence

    current = ds
    for seq_tag, index in override.path:
        name = _tag_name(seq_tag)
        if seq_tag not in current:
            if index != 0:
                raise RewriteError(f"-s {override.text}: no {name}, so no item [{index}]")
            current[seq_tag] = DataElement(seq_tag, "SQ", Sequence([Dataset()]))
        element = current[seq_tag]
        if element.VR != "SQ":
            raise RewriteError(f"-s {override.text}: {name} is not a sequence in this dataset")
        items = element.value
        if index == len(items):
            items.append(Dataset())
        elif index > len(items):
            raise RewriteError(
                f"-s {override.text}: {name} has {len(items)} item(s), so no item [{index}]"
            )
        current = items[index]
    if override.vr == "SQ":
        value: Any = Sequence()
    elif not override.values:
        value = None
    elif len(override.values) == 1:
        value = override.values[0]
    else:
        value = list(override.values)
    _put(current, override.tag, override.vr, value)
    log.debug("Set %s to %r", override.name, value)


def _check_encodable(ds: Dataset, overrides: tuple[Override, ...]) -> None:
    """Text outside ASCII must fit the dataset's Specific Character Set (PS3.5 6.1)."""
    from pydicom.charset import convert_encodings, encode_string

    for override in overrides:
        texts = [v for v in override.values if isinstance(v, str) and not v.isascii()]
        if not texts:
            continue
        if override.vr not in _CHARSET_VRS:
            raise RewriteError(f"-s {override.text}: VR {override.vr} allows ASCII only")
        charset = ds.get(_SPECIFIC_CHARACTER_SET)
        terms = [] if charset is None or not charset.value else charset.value
        terms = [terms] if isinstance(terms, str) else [str(t) for t in terms]
        if not terms or terms == ["ISO_IR 6"]:
            raise RewriteError(
                f"-s {override.text}: the dataset has no Specific Character Set for "
                "non-ASCII text; add one, e.g. -s SpecificCharacterSet=ISO_IR 192"
            )
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            for text in texts:
                try:
                    encode_string(text, convert_encodings(terms))
                except Exception:
                    names = "\\".join(terms)
                    raise RewriteError(
                        f"-s {override.text}: cannot be encoded in {names}"
                    ) from None
