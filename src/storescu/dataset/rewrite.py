"""Dataset rewriting while sending: invented identities, UID fixes, attribute overrides.

Theory of operation
-------------------
Nothing here runs unless a rewriting option is given: without one the sender
streams each file's dataset bytes untouched and never imports this module's
pydicom parts (this module itself imports no pydicom at load time, so the
command line can validate ``-s`` without slowing down runs that lack it).

:class:`RewriteOptions` is the frozen, validated request; :class:`Rewriter`
holds the state of one run (DCMTK's counters, which go on across files and
across ``--repeat``) and, for each C-STORE, turns an input into a dataset
reader and the SOP Instance UID to name in the C-STORE-RQ:

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

Invented identities (``+II``) follow DCMTK storescu's
``replaceSOPInstanceInformation`` (dcmnet/apps/storescu.cc; unchanged from
the 2010 sources to the 2024 ones):
four counters (patient, study, series, image) start at 0; before each send,
an image counter that reached the ``+IR`` count starts a new series, a series
counter that reached ``+IS`` a new study, a study counter that reached ``+IP``
a new patient. ``+II`` alone therefore also replaces PatientName, PatientID,
the Study and Series Instance UIDs, StudyID and SeriesNumber, with the default
counts 100 / 50 / 25. Values: PatientName ``OFFIS^TEST_PN_<seconds><patient>``,
PatientID ``PID_<seconds><patient>``, StudyID ``SID_<seconds><study>``,
SeriesNumber the series counter, InstanceNumber the image counter (both from
0, as DCMTK), where ``<seconds>`` is the time (seconds since 1970) when the
value was made. Deliberate differences, each for a reason:

* Invented UIDs are the UID root (``--uid-root``, default pydicom's
  ``1.2.826.0.1.3680043.8.498.``) followed by random decimal digits (a UUID4,
  PS3.5 B.2 style), at most 64 characters with room left for ``--uid-suffix``.
  DCMTK uses its own site root, the counter, host id, process id and time.
* AccessionNumber is written too (``<seconds><study>``). DCMTK computes it
  and never stores it, so every invented study kept the original accession
  number, which PACS use to merge studies.
* StudyID and AccessionNumber count the studies of the whole run. DCMTK uses
  the study counter, which restarts with each patient, so two patients could
  get the same accession number within one second.
* SeriesNumber restarts at 0 in each study. DCMTK leaves the first series of
  every study after the first with the number the counter had before it was
  reset (the ``+IS`` count).
* StudyID and AccessionNumber are SH, at most 16 characters (PS3.5 6.2): the
  leading digits of ``<seconds>`` are dropped when needed. DCMTK writes 17
  characters and more from the 100th study on.
* Missing attributes are added. DCMTK only replaces attributes the dataset
  already has, and logs an error for each missing one.

``-up`` (DCMTK: "silently correct space-padded UIDs") trims spaces around
every UI value of the dataset, at any depth. DCMTK trims one trailing space
from the SOP Class and Instance UIDs it puts in the C-STORE-RQ and sends the
dataset unchanged; this program always names the trimmed UIDs in the command,
so ``-up`` here fixes the dataset too (and, being a rewrite, takes the slower
path).

Beyond DCMTK, from dcm4che's storescu: ``-s TAG=VALUE`` sets or adds an
attribute in every dataset sent, and ``--uid-suffix`` appends to the Study,
Series and SOP Instance UIDs (see :func:`parse_override`). Unlike dcm4che,
values are checked against the VR and VM of the data dictionary when the
options are parsed, a path names the item of each sequence (``[0]`` by
default), and a UID that the suffix would make longer than 64 characters or
otherwise invalid stops that file instead of going out invalid.
"""

from __future__ import annotations

import copy
import logging
import re
import time
import uuid
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from storescu.kernel.constants import DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN
from storescu.kernel.errors import RewriteError, StorescuError, UsageError

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

#: pydicom's UID root (``pydicom.uid.PYDICOM_ROOT_UID``), the default of ``--uid-root``.
DEFAULT_UID_ROOT: Final = "1.2.826.0.1.3680043.8.498."
#: PS3.5 9.1: a UID has at most 64 characters.
MAX_UID_LENGTH: Final = 64
#: Random digits an invented UID keeps at least (about 66 bits).
MIN_UNIQUE_DIGITS: Final = 20

# DCMTK storescu's prefixes (storescu.cc: patientNamePrefix, patientIDPrefix,
# studyIDPrefix; accessionNumberPrefix is empty).
PATIENT_NAME_PREFIX: Final = "OFFIS^TEST_PN_"
PATIENT_ID_PREFIX: Final = "PID_"
STUDY_ID_PREFIX: Final = "SID_"
ACCESSION_NUMBER_PREFIX: Final = ""

_UID: Final = re.compile(r"(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*")  # PS3.5 9.1
_COMPONENT: Final = re.compile(
    r"(?P<tag>\(\s*[0-9A-Fa-f]{4}\s*,\s*[0-9A-Fa-f]{4}\s*\)|[0-9A-Fa-f]{8}|[A-Za-z][A-Za-z0-9]*)"
    r"(?:\[(?P<index>[0-9]+)\])?"
)
_INTEGER: Final = re.compile(r"[+-]?[0-9]+")

_SPECIFIC_CHARACTER_SET: Final = 0x00080005
_SOP_CLASS_UID: Final = 0x00080016
_SOP_INSTANCE_UID: Final = 0x00080018
_ACCESSION_NUMBER: Final = 0x00080050
_PATIENT_NAME: Final = 0x00100010
_PATIENT_ID: Final = 0x00100020
_STUDY_INSTANCE_UID: Final = 0x0020000D
_SERIES_INSTANCE_UID: Final = 0x0020000E
_STUDY_ID: Final = 0x00200010
_SERIES_NUMBER: Final = 0x00200011
_INSTANCE_NUMBER: Final = 0x00200013
_SUFFIXED: Final = (
    (_STUDY_INSTANCE_UID, "StudyInstanceUID"),
    (_SERIES_INSTANCE_UID, "SeriesInstanceUID"),
    (_SOP_INSTANCE_UID, "SOPInstanceUID"),
)

#: VRs whose value cannot come from a command line (bulk or unknown content).
_BINARY_VRS: Final = frozenset({"OB", "OD", "OF", "OL", "OV", "OW", "UN"})
#: Single-valued text: a backslash is an ordinary character (PS3.5 6.2).
_ONE_TEXT_VRS: Final = frozenset({"LT", "ST", "UT", "UR"})
#: Text whose bytes depend on Specific Character Set (PS3.5 6.1.2.3).
_CHARSET_VRS: Final = frozenset({"LO", "LT", "PN", "SH", "ST", "UC", "UT"})
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
        ``+II``: invent identifying information (see the module docstring);
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


# ----------------------------------------------------------------- invented identity


@dataclass(frozen=True, slots=True)
class Identity:
    """The identifying information invented for one C-STORE (``+II``).

    The counters are DCMTK's (``pa``, ``st``, ``se``, ``im`` in its log line);
    `study_ordinal` counts the studies of the whole run.
    """

    patient: int
    study: int
    series: int
    image: int
    study_ordinal: int
    patient_name: str
    patient_id: str
    study_instance_uid: str
    study_id: str
    accession_number: str
    series_instance_uid: str
    series_number: str
    sop_instance_uid: str
    instance_number: str

    def elements(self) -> tuple[tuple[int, str, str], ...]:
        """(tag, VR, value) of each attribute to write."""
        return (
            (_PATIENT_NAME, "PN", self.patient_name),
            (_PATIENT_ID, "LO", self.patient_id),
            (_STUDY_INSTANCE_UID, "UI", self.study_instance_uid),
            (_STUDY_ID, "SH", self.study_id),
            (_ACCESSION_NUMBER, "SH", self.accession_number),
            (_SERIES_INSTANCE_UID, "UI", self.series_instance_uid),
            (_SERIES_NUMBER, "IS", self.series_number),
            (_SOP_INSTANCE_UID, "UI", self.sop_instance_uid),
            (_INSTANCE_NUMBER, "IS", self.instance_number),
        )

    def log(self) -> None:
        """Log it at INFO (``-v``) in DCMTK's words, plus AccessionNumber."""
        log.info(
            "Inventing Identifying Information (pa%d, st%d, se%d, im%d):",
            self.patient,
            self.study,
            self.series,
            self.image,
        )
        log.info("  PatientName=%s", self.patient_name)
        log.info("  PatientID=%s", self.patient_id)
        log.info("  StudyInstanceUID=%s", self.study_instance_uid)
        log.info("  StudyID=%s", self.study_id)
        log.info("  AccessionNumber=%s", self.accession_number)
        log.info("  SeriesInstanceUID=%s", self.series_instance_uid)
        log.info("  SeriesNumber=%s", self.series_number)
        log.info("  SOPInstanceUID=%s", self.sop_instance_uid)
        log.info("  ImageNumber=%s", self.instance_number)


def _stamp(prefix: str, seconds: int, counter: int, limit: int) -> str:
    """``prefix + seconds + counter`` in at most `limit` characters (leading seconds digits go)."""
    count = str(counter)
    stamp = str(seconds)
    room = max(limit - len(prefix) - len(count), 0)
    return prefix + stamp[max(len(stamp) - room, 0) :] + count


class Inventor:
    """DCMTK's identity counters for one run (see the module docstring).

    Parameters
    ----------
    options : RewriteOptions
        The counts, UID root and suffix (room is left for the suffix).
    clock : callable
        Seconds since 1970 (injectable for tests).
    random_digits : callable
        A string of random decimal digits not starting with 0 (injectable).
    """

    def __init__(
        self,
        options: RewriteOptions,
        *,
        clock: Callable[[], float] = time.time,
        random_digits: Callable[[], str] = lambda: str(uuid.uuid4().int),
    ) -> None:
        self.options = options
        self._clock = clock
        self._random = random_digits
        self._patient = self._study = self._series = self._image = 0
        self._studies = 0  # studies started in the run, for StudyID / AccessionNumber
        self._started = False
        self._patient_name = self._patient_id = ""
        self._study_uid = self._study_id = self._accession = self._series_uid = ""

    def new_uid(self) -> str:
        """A fresh UID: the root and random digits, leaving room for the suffix."""
        digits = self._random()
        while len(digits) < self.options.unique_digits:
            digits += self._random()
        return self.options.uid_root + digits[: self.options.unique_digits]

    def _new_patient(self) -> None:
        seconds = int(self._clock())
        # PN and LO: at most 64 characters (PS3.5 6.2).
        self._patient_name = _stamp(PATIENT_NAME_PREFIX, seconds, self._patient, 64)
        self._patient_id = _stamp(PATIENT_ID_PREFIX, seconds, self._patient, 64)

    def _new_study(self) -> None:
        seconds = int(self._clock())
        self._study_uid = self.new_uid()
        # SH: at most 16 characters (PS3.5 6.2).
        self._study_id = _stamp(STUDY_ID_PREFIX, seconds, self._studies, 16)
        self._accession = _stamp(ACCESSION_NUMBER_PREFIX, seconds, self._studies, 16)

    def next(self) -> Identity:
        """Advance the counters for one more image and return its identity."""
        opts = self.options
        if not self._started:
            self._started = True
            self._new_patient()
            self._new_study()
            self._series_uid = self.new_uid()
        if self._image >= opts.images_per_series:
            self._image = 0
            self._series += 1
            self._series_uid = self.new_uid()
        if self._series >= opts.series_per_study:
            self._series = 0
            self._study += 1
            self._studies += 1
            self._new_study()
        if self._study >= opts.studies_per_patient:
            self._study = 0
            self._patient += 1
            self._new_patient()
        identity = Identity(
            patient=self._patient,
            study=self._study,
            series=self._series,
            image=self._image,
            study_ordinal=self._studies,
            patient_name=self._patient_name,
            patient_id=self._patient_id,
            study_instance_uid=self._study_uid,
            study_id=self._study_id,
            accession_number=self._accession,
            series_instance_uid=self._series_uid,
            series_number=str(self._series),
            sop_instance_uid=self.new_uid(),
            instance_number=str(self._image),
        )
        self._image += 1
        return identity


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
