"""What to change in the datasets sent: :class:`RewriteOptions`, ``-s`` overrides, UID checks.

Theory of operation
-------------------
The options are checked when the command line is read (or when the record is
made in Python): a bad value stops the run before anything is sent. Nothing
here touches a dataset: :class:`storescu.dataset.rewrite.Rewriter` applies
the options, with the counters of :mod:`storescu.dataset.identity` for
``+II``. The module imports no pydicom at load time; parsing ``-s`` imports
pydicom's data dictionary.

Beyond DCMTK, from dcm4che's storescu: ``-s TAG=VALUE`` sets or adds an
attribute in every dataset sent, and ``--uid-suffix`` appends to the Study,
Series and SOP Instance UIDs (see :func:`parse_override`). Unlike dcm4che,
values are checked against the VR and VM of the data dictionary when the
options are parsed, a path names the item of each sequence (``[0]`` by
default), and a UID that the suffix would make longer than 64 characters or
otherwise invalid stops that file instead of going out invalid.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from storescu.kernel.errors import UsageError

__all__ = [
    "DEFAULT_UID_ROOT",
    "MAX_UID_LENGTH",
    "MIN_UNIQUE_DIGITS",
    "Override",
    "RewriteOptions",
    "is_valid_uid",
    "normalize_uid_root",
    "parse_override",
    "validate_uid_suffix",
]

#: pydicom's UID root (``pydicom.uid.PYDICOM_ROOT_UID``), the default of ``--uid-root``.
DEFAULT_UID_ROOT: Final = "1.2.826.0.1.3680043.8.498."
#: PS3.5 9.1: a UID has at most 64 characters.
MAX_UID_LENGTH: Final = 64
#: Random digits an invented UID keeps at least (about 66 bits).
MIN_UNIQUE_DIGITS: Final = 20

_UID: Final = re.compile(r"(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*")  # PS3.5 9.1
_COMPONENT: Final = re.compile(
    r"(?P<tag>\(\s*[0-9A-Fa-f]{4}\s*,\s*[0-9A-Fa-f]{4}\s*\)|[0-9A-Fa-f]{8}|[A-Za-z][A-Za-z0-9]*)"
    r"(?:\[(?P<index>[0-9]+)\])?"
)
_INTEGER: Final = re.compile(r"[+-]?[0-9]+")

_SOP_CLASS_UID: Final = 0x00080016

#: VRs whose value cannot come from a command line (bulk or unknown content).
_BINARY_VRS: Final = frozenset({"OB", "OD", "OF", "OL", "OV", "OW", "UN"})
#: Single-valued text: a backslash is an ordinary character (PS3.5 6.2).
_ONE_TEXT_VRS: Final = frozenset({"LT", "ST", "UT", "UR"})
_INT_VRS: Final = frozenset({"SL", "SS", "SV", "UL", "US", "UV"})
_FLOAT_VRS: Final = frozenset({"FD", "FL"})
#: Maximum value length in characters, where pydicom's validators do not check it.
_MAX_CHARS: Final = {"AS": 4, "DA": 18, "DT": 54, "TM": 28, "UC": 0xFFFFFFFE, "UR": 0xFFFFFFFE}


# ------------------------------------------------------------------ UIDs and roots


def is_valid_uid(text: str) -> bool:
    """Tell whether `text` is a valid UID (PS3.5 9.1).

    At most 64 characters; components of digits separated by single dots;
    no component with a leading zero (``0`` alone is allowed).
    """
    return len(text) <= MAX_UID_LENGTH and _UID.fullmatch(text) is not None


def normalize_uid_root(root: str) -> str:
    """Check a ``--uid-root`` and return it ending with a dot.

    Raises
    ------
    UsageError
        It is not a valid UID, or leaves fewer than :data:`MIN_UNIQUE_DIGITS`
        characters for the unique part.
    """
    body = root[:-1] if root.endswith(".") else root
    if not body or not is_valid_uid(body):
        raise UsageError(
            "a UID root is digits separated by dots, without leading zeros (e.g. 1.2.3)"
        )
    if len(body) + 1 + MIN_UNIQUE_DIGITS > MAX_UID_LENGTH:
        longest = MAX_UID_LENGTH - MIN_UNIQUE_DIGITS - 1
        raise UsageError(f"a UID root may have at most {longest} characters")
    return body + "."


def validate_uid_suffix(suffix: str) -> str:
    """Check a ``--uid-suffix`` and return it.

    It is appended to UIDs as it is (dcm4che), so it is digits and dots, does
    not end with a dot, and every component it starts after a dot is valid.
    Whether the result is a valid UID is checked for each dataset.

    Raises
    ------
    UsageError
        The suffix cannot end a valid UID.
    """
    if not suffix or any(ch not in "0123456789." for ch in suffix):
        raise UsageError("a UID suffix is digits and dots, e.g. .1 or 9")
    if suffix.endswith(".") or ".." in suffix:
        raise UsageError("a UID suffix must not end with a dot or contain '..'")
    if any(c != "0" and c.startswith("0") for c in suffix.split(".")[1:]):
        raise UsageError("a UID component must not start with 0")
    if len(suffix) > MAX_UID_LENGTH - 2:
        raise UsageError(f"a UID suffix has at most {MAX_UID_LENGTH - 2} characters")
    return suffix


# ------------------------------------------------------------------------ overrides


@dataclass(frozen=True, slots=True)
class Override:
    """One ``-s TAG=VALUE``, checked against the data dictionary.

    Attributes
    ----------
    text : str
        As given.
    path : tuple of (int, int)
        The sequences to go through: (sequence tag, item index) each.
    tag : int
        The attribute set, in the last item of `path` (or the dataset).
    vr : str
        Its VR, from the data dictionary.
    values : tuple
        The values (str, int or float); empty for a zero-length value.
    """

    text: str
    path: tuple[tuple[int, int], ...]
    tag: int
    vr: str
    values: tuple[str | int | float, ...]

    @property
    def name(self) -> str:
        """The attribute as a path for messages, e.g. ``RequestAttributesSequence[0].ScheduledProcedureStepID``."""  # noqa: E501
        steps = [f"{_tag_name(tag)}[{index}]" for tag, index in self.path]
        return ".".join([*steps, _tag_name(self.tag)])


def _tag_name(tag: int) -> str:
    from pydicom.datadict import keyword_for_tag

    return keyword_for_tag(tag) or f"({tag >> 16:04X},{tag & 0xFFFF:04X})"


def _parse_tag(text: str) -> int:
    """A tag from a keyword, ``(gggg,eeee)`` or ``ggggeeee``; UsageError if unknown."""
    from pydicom.datadict import tag_for_keyword

    text = text.strip()
    if text.startswith("("):
        group, _, elem = text[1:-1].partition(",")
        return int(group.strip(), 16) << 16 | int(elem.strip(), 16)
    if len(text) == 8 and all(ch in "0123456789abcdefABCDEF" for ch in text):
        return int(text, 16)
    tag = tag_for_keyword(text)
    if tag is None:
        raise UsageError(f"unknown attribute keyword '{text}'")
    return int(tag)


def _dictionary_entry(tag: int) -> tuple[str, str]:
    """(VR, VM) of a public tag; UsageError when the dictionary does not know it."""
    from pydicom.datadict import get_entry

    try:
        vr, vm = get_entry(tag)[:2]
    except KeyError:
        raise UsageError(
            f"({tag >> 16:04X},{tag & 0xFFFF:04X}) is not in the data dictionary"
        ) from None
    return str(vr), str(vm)


def _check_settable(tag: int) -> None:
    """Refuse tags that cannot be set in a dataset being sent."""
    group, elem = tag >> 16, tag & 0xFFFF
    where = f"({group:04X},{elem:04X})"
    if group in (0x0000, 0x0002):
        what = "command" if group == 0 else "file meta information"
        raise UsageError(f"{where} is {what}, not part of the dataset sent")
    if group in (0xFFFE, 0xFFFC) or elem == 0x0000:
        raise UsageError(f"{where} is an encoding element, not an attribute")
    if group & 1:
        raise UsageError(
            f"{where} is private: its VR depends on its private creator and is not known"
        )
    if tag == _SOP_CLASS_UID:
        raise UsageError(
            "the SOP Class UID chooses the presentation context and cannot be changed while sending"
        )


def _vm_allows(vm: str, count: int) -> bool:
    """Whether `count` values fit the dictionary VM: ``1``, ``1-3``, ``1-n``, ``2-2n``..."""
    low, _, high = vm.partition("-")
    if not high:
        return count == int(low)
    if high == "n":
        return count >= int(low)
    if high.endswith("n"):  # "2-2n": a multiple of 2
        step = int(high[:-1])
        return count >= int(low) and count % step == 0
    return int(low) <= count <= int(high)


def _convert_value(vr: str, text: str) -> str | int | float:
    """Convert and check one value against its VR (PS3.5 6.2); UsageError if invalid."""
    from pydicom import config
    from pydicom.valuerep import validate_value

    value: str | int | float = text
    if vr in _INT_VRS:
        if not _INTEGER.fullmatch(text.strip()):
            raise UsageError(f"'{text}' is not an integer (VR {vr})")
        value = int(text)
    elif vr in _FLOAT_VRS:
        try:
            value = float(text)
        except ValueError:
            raise UsageError(f"'{text}' is not a number (VR {vr})") from None
    elif vr == "AT":
        value = _parse_tag(text)
    elif vr == "UI":
        if not is_valid_uid(text):
            raise UsageError(
                f"'{text}' is not a valid UID (digits and dots, no leading zeros, "
                f"at most {MAX_UID_LENGTH} characters)"
            )
        return text
    else:
        allowed = "\t\n\f\r\x1b" if vr in _ONE_TEXT_VRS else "\x1b"
        if any(ord(ch) < 0x20 and ch not in allowed for ch in text):
            raise UsageError(f"control characters are not allowed in VR {vr}")
        if len(text) > _MAX_CHARS.get(vr, len(text)):
            raise UsageError(f"'{text}' is longer than VR {vr} allows")
    try:
        validate_value(vr, value, config.RAISE)
    except (ValueError, TypeError) as exc:
        reason = str(exc).split(" Please see", 1)[0].rstrip(".")
        raise UsageError(reason) from None
    return value


def parse_override(text: str) -> Override:
    """Parse and check one ``-s TAG=VALUE`` (the dcm4che ``-s`` option, made stricter).

    TAG is a keyword (``PatientName``), ``(gggg,eeee)`` or ``ggggeeee``, or a
    path into sequence items such as ``00400275[0].00400009`` (Scheduled
    Procedure Step ID in the first Request Attributes Sequence item; ``[0]``
    may be left out). Sequences and items on the path are created when
    missing (item ``[n]`` only as the next item). VALUE holds the values,
    separated by backslashes (PS3.5 6.4), except for LT, ST, UT and UR, which
    have one value. An empty VALUE sets a zero-length value; for a sequence
    it sets an empty sequence.

    The data dictionary is pydicom's plus the files of ``DCMDICTPATH``
    (:mod:`storescu.dataset.dictionary`), as DCMTK's is.

    Raises
    ------
    UsageError
        Unknown or unsettable tag (private, file meta, SOP Class UID, binary
        VRs), a value that does not fit the VR or VM of the data dictionary.
    """
    from storescu.dataset.dictionary import ensure_loaded

    ensure_loaded()  # DCMDICTPATH's dictionaries: newer public tags can be named too
    target, sep, raw = text.partition("=")
    if not sep or not target.strip():
        raise UsageError("expected TAG=VALUE, e.g. PatientName=ANON")
    components = target.split(".")
    path: list[tuple[int, int]] = []
    tag, vr, vm = 0, "", ""
    for position, component in enumerate(components):
        match = _COMPONENT.fullmatch(component.strip())
        if match is None:
            raise UsageError(f"'{component}' is not a keyword, (gggg,eeee) or ggggeeee")
        tag = _parse_tag(match["tag"])
        _check_settable(tag)
        vr, vm = _dictionary_entry(tag)
        index = match["index"]
        if position < len(components) - 1:
            if vr != "SQ":
                raise UsageError(f"{_tag_name(tag)} is not a sequence (VR {vr})")
            path.append((tag, int(index or 0)))
        elif index is not None:
            raise UsageError("an item index belongs to a sequence of the path, not to the end")
    if " or " in vr or vr in _BINARY_VRS:
        raise UsageError(f"{_tag_name(tag)} has VR {vr}, which cannot be set from text")
    if vr == "SQ":
        if raw:
            raise UsageError(f"{_tag_name(tag)} is a sequence: only an empty value (=) is allowed")
        return Override(text, tuple(path), tag, vr, ())
    if not raw:
        return Override(text, tuple(path), tag, vr, ())
    parts = [raw] if vr in _ONE_TEXT_VRS else raw.split("\\")
    if not _vm_allows(vm, len(parts)):
        raise UsageError(f"{_tag_name(tag)} takes {vm} value(s) (VM), not {len(parts)}")
    return Override(text, tuple(path), tag, vr, tuple(_convert_value(vr, p) for p in parts))


# ------------------------------------------------------------------------- options


@dataclass(frozen=True, slots=True)
class RewriteOptions:
    """What to change in every dataset sent (frozen, checked when made).

    Parameters
    ----------
    invent : bool
        ``+II``: invent identifying information (see ``storescu.dataset.identity``);
        implied by ``+IR``, ``+IS`` and ``+IP``.
    images_per_series, series_per_study, studies_per_patient : int
        ``+IR``, ``+IS``, ``+IP`` (DCMTK's defaults 100, 50, 25).
    fix_uid_padding : bool
        ``-up``: trim spaces around every UI value.
    overrides : tuple of Override
        ``-s``, applied in order after everything else; see :func:`parse_override`.
    uid_suffix : str, optional
        ``--uid-suffix``: appended to the Study, Series and SOP Instance UIDs.
    uid_root : str
        ``--uid-root``: the root of invented UIDs.

    Raises
    ------
    UsageError
        A count below 1, a bad root or suffix, or a root and suffix leaving
        too little room for unique digits.
    """

    invent: bool = False
    images_per_series: int = 100
    series_per_study: int = 50
    studies_per_patient: int = 25
    fix_uid_padding: bool = False
    overrides: tuple[Override, ...] = ()
    uid_suffix: str | None = None
    uid_root: str = DEFAULT_UID_ROOT

    def __post_init__(self) -> None:
        for name in ("images_per_series", "series_per_study", "studies_per_patient"):
            if getattr(self, name) < 1:
                raise UsageError(f"{name} must be at least 1")
        object.__setattr__(self, "uid_root", normalize_uid_root(self.uid_root))
        if self.uid_suffix is not None:
            validate_uid_suffix(self.uid_suffix)
        if self.invent and self.unique_digits < MIN_UNIQUE_DIGITS:
            raise UsageError(
                f"the UID root and suffix leave fewer than {MIN_UNIQUE_DIGITS} "
                "characters for invented UIDs"
            )

    @property
    def active(self) -> bool:
        """True when anything is to be changed."""
        return bool(
            self.invent or self.fix_uid_padding or self.overrides or self.uid_suffix is not None
        )

    @property
    def unique_digits(self) -> int:
        """How many random digits an invented UID gets after the root."""
        return MAX_UID_LENGTH - len(self.uid_root) - len(self.uid_suffix or "")
