"""DCMTK association negotiation profiles (``-xf FILE PROFILE``).

The file format is DCMTK's (dcmnet/docs/asconfig.txt, the format of the
``storescu.cfg`` that Debian installs in ``/etc/dcmtk``): an INI-like text
with supersections ``[[TransferSyntaxes]]``, ``[[PresentationContexts]]``,
``[[Profiles]]`` (mandatory) and ``[[SCPSCURoleSelection]]``,
``[[ExtendedNegotiation]]`` (optional)::

    [[TransferSyntaxes]]
    [Uncompressed]
    TransferSyntax1 = LittleEndianExplicit
    TransferSyntax2 = 1.2.840.10008.1.2
    [[PresentationContexts]]
    [CT]
    PresentationContext1 = CTImageStorage\\Uncompressed
    [[Profiles]]
    [Default]
    PresentationContexts = CT

Rules kept from DCMTK: ``#`` in the first column starts a comment; keys start
in the first column and, like section names, are compared without regard to
case (section names also without whitespace); values keep their case;
numbered keys (``TransferSyntax1``, ``PresentationContext1``...) count up
from 1; a requestor's context list has at most 128 entries (PS3.8 9.3.2.2);
values are UIDs or DCMTK's symbolic names (``dcuid.cc``), including
``LocalEndianExplicit`` and ``OppositeEndianExplicit``. SOP classes may also
be given by their DICOM keyword (pydicom's UID dictionary), compared without
regard to case. Role selection and extended negotiation are read but not
used: storescu negotiates neither (DCMTK's storescu neither, asconfig.txt
says so); a profile naming them gets a warning.

Every error is a :class:`~storescu.kernel.errors.UsageError` naming ``file:line``.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Final

from storescu.kernel.constants import (
    DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN,
    EXPLICIT_VR_BIG_ENDIAN,
    EXPLICIT_VR_LITTLE_ENDIAN,
    IMPLICIT_VR_LITTLE_ENDIAN,
    MAX_PRESENTATION_CONTEXTS,
    STORAGE_SOP_CLASSES,
)
from storescu.kernel.errors import UsageError
from storescu.kernel.syntaxes import (
    HEVC_MAIN,
    HEVC_MAIN10,
    HTJ2K,
    HTJ2K_LOSSLESS,
    HTJ2K_LOSSLESS_RPCL,
    JPEG2000,
    JPEG2000_LOSSLESS,
    JPEG_BASELINE,
    JPEG_EXTENDED,
    JPEG_LOSSLESS,
    JPEG_LOSSLESS_SV1,
    JPEG_LS_LOSSLESS,
    JPEG_LS_NEAR_LOSSLESS,
    MPEG2_HIGH,
    MPEG2_MAIN,
    MPEG4_HP41,
    MPEG4_HP41_BD,
    MPEG4_HP42_2D,
    MPEG4_HP42_3D,
    MPEG4_STEREO,
    RLE_LOSSLESS,
)

__all__ = ["TRANSFER_SYNTAX_NAMES", "Profile", "load_profile", "parse_profile"]

log = logging.getLogger("storescu")

#: DCMTK's symbolic transfer syntax names (dcmdata/libsrc/dcuid.cc, "UID Name Map").
#: ``LocalEndianExplicit`` is little endian: every host Python runs this on is.
TRANSFER_SYNTAX_NAMES: Final[dict[str, str]] = {
    "LittleEndianImplicit": IMPLICIT_VR_LITTLE_ENDIAN,
    "LittleEndianExplicit": EXPLICIT_VR_LITTLE_ENDIAN,
    "BigEndianExplicit": EXPLICIT_VR_BIG_ENDIAN,
    "LocalEndianExplicit": EXPLICIT_VR_LITTLE_ENDIAN,
    "OppositeEndianExplicit": EXPLICIT_VR_BIG_ENDIAN,
    "DeflatedLittleEndianExplicit": DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN,
    "JPEGBaseline": JPEG_BASELINE,
    "JPEGExtended:Process2+4": JPEG_EXTENDED,
    "JPEGExtended:Process3+5": "1.2.840.10008.1.2.4.52",
    "JPEGSpectralSelection:Non-hierarchical:Process6+8": "1.2.840.10008.1.2.4.53",
    "JPEGSpectralSelection:Non-hierarchical:Process7+9": "1.2.840.10008.1.2.4.54",
    "JPEGFullProgression:Non-hierarchical:Process10+12": "1.2.840.10008.1.2.4.55",
    "JPEGFullProgression:Non-hierarchical:Process11+13": "1.2.840.10008.1.2.4.56",
    "JPEGLossless:Non-hierarchical:Process14": JPEG_LOSSLESS,
    "JPEGLossless:Non-hierarchical:Process15": "1.2.840.10008.1.2.4.58",
    "JPEGExtended:Hierarchical:Process16+18": "1.2.840.10008.1.2.4.59",
    "JPEGExtended:Hierarchical:Process17+19": "1.2.840.10008.1.2.4.60",
    "JPEGSpectralSelection:Hierarchical:Process20+22": "1.2.840.10008.1.2.4.61",
    "JPEGSpectralSelection:Hierarchical:Process21+23": "1.2.840.10008.1.2.4.62",
    "JPEGFullProgression:Hierarchical:Process24+26": "1.2.840.10008.1.2.4.63",
    "JPEGFullProgression:Hierarchical:Process25+27": "1.2.840.10008.1.2.4.64",
    "JPEGLossless:Hierarchical:Process28": "1.2.840.10008.1.2.4.65",
    "JPEGLossless:Hierarchical:Process29": "1.2.840.10008.1.2.4.66",
    "JPEGLossless:Non-hierarchical-1stOrderPrediction": JPEG_LOSSLESS_SV1,
    "JPEGLSLossless": JPEG_LS_LOSSLESS,
    "JPEGLSLossy": JPEG_LS_NEAR_LOSSLESS,
    "RLELossless": RLE_LOSSLESS,
    "JPEG2000LosslessOnly": JPEG2000_LOSSLESS,
    "JPEG2000": JPEG2000,
    "JPEG2000MulticomponentLosslessOnly": "1.2.840.10008.1.2.4.92",
    "JPEG2000Multicomponent": "1.2.840.10008.1.2.4.93",
    "JPIPReferenced": "1.2.840.10008.1.2.4.94",
    "JPIPReferencedDeflate": "1.2.840.10008.1.2.4.95",
    "MPEG2MainProfile@MainLevel": MPEG2_MAIN,
    "MPEG2MainProfile@HighLevel": MPEG2_HIGH,
    "MPEG4HighProfile/Level4.1": MPEG4_HP41,
    "MPEG4BDcompatibleHighProfile/Level4.1": MPEG4_HP41_BD,
    "MPEG4HighProfile/Level4.2For2DVideo": MPEG4_HP42_2D,
    "MPEG4HighProfile/Level4.2For3DVideo": MPEG4_HP42_3D,
    "MPEG4StereoHighProfile/Level4.2": MPEG4_STEREO,
    "HEVCMainProfile/Level5.1": HEVC_MAIN,
    "HEVCMain10Profile/Level5.1": HEVC_MAIN10,
    "HighThroughputJPEG2000ImageCompressionLosslessOnly": HTJ2K_LOSSLESS,
    "HighThroughputJPEG2000withRPCLOptionsImageCompressionLosslessOnly": HTJ2K_LOSSLESS_RPCL,
    "HighThroughputJPEG2000ImageCompression": HTJ2K,
}

_UID: Final = re.compile(r"[0-9]+(\.[0-9]+)*")
_SUPER: Final = re.compile(r"\[\[(.*)\]\]\s*$")
_SECTION: Final = re.compile(r"\[(.*)\]\s*$")
_NUMBERED: Final = re.compile(r"([a-z]+?)([1-9][0-9]*)$")


@dataclass(frozen=True, slots=True)
class Profile:
    """A profile's presentation contexts, in file order: (SOP class, syntaxes)."""

    name: str
    contexts: tuple[tuple[str, tuple[str, ...]], ...]

    def by_class(self) -> dict[str, tuple[tuple[str, ...], ...]]:
        """The syntax lists of each SOP class, in file order."""
        result: dict[str, list[tuple[str, ...]]] = {}
        for sop_class, syntaxes in self.contexts:
            result.setdefault(sop_class, []).append(syntaxes)
        return {c: tuple(lists) for c, lists in result.items()}


@dataclass
class _Entry:
    key: str  # lower case
    value: str
    line: int


def _norm(name: str) -> str:
    return "".join(name.split()).lower()


def _parse(text: str, path: str) -> dict[str, dict[str, list[_Entry]]]:
    """supersection -> section -> entries (names normalised)."""
    tree: dict[str, dict[str, list[_Entry]]] = {}
    section_lines: dict[tuple[str, str], int] = {}
    current_super: str | None = None
    current: list[_Entry] | None = None
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.rstrip("\r\n")
        if not line.strip() or line.startswith("#"):
            continue
        where = f"{path}:{number}"
        stripped = line.strip()
        match = _SUPER.match(stripped)
        if match:
            current_super = _norm(match.group(1))
            tree.setdefault(current_super, {})
            current = None
            continue
        match = _SECTION.match(stripped)
        if match:
            if current_super is None:
                raise UsageError(f"{where}: section [{match.group(1)}] outside a [[supersection]]")
            name = _norm(match.group(1))
            if (current_super, name) in section_lines:
                first = section_lines[(current_super, name)]
                raise UsageError(f"{where}: section [{match.group(1)}] repeated (see line {first})")
            section_lines[(current_super, name)] = number
            current = tree[current_super].setdefault(name, [])
            continue
        if line[0].isspace():
            raise UsageError(f"{where}: a key must start in the first column")
        key, sep, value = line.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"{where}: expected 'Key = Value', '[Section]' or '[[Supersection]]'")
        if current is None:
            raise UsageError(f"{where}: '{key.strip()}' outside a [section]")
        current.append(_Entry(key.strip().lower(), value.strip(), number))
    return tree


def _numbered(entries: list[_Entry], prefix: str, where: str) -> list[_Entry]:
    """Entries ``Prefix1``, ``Prefix2``... in order; checks the numbering."""
    found: list[tuple[int, _Entry]] = []
    for entry in entries:
        match = _NUMBERED.match(entry.key)
        if match is None or match.group(1) != prefix.lower():
            raise UsageError(
                f"{where}:{entry.line}: unexpected key '{entry.key}' (expected {prefix}N)"
            )
        found.append((int(match.group(2)), entry))
    found.sort(key=lambda pair: pair[0])
    for expected, (number, entry) in enumerate(found, 1):
        if number != expected:
            raise UsageError(
                f"{where}:{entry.line}: {prefix}{number} where {prefix}{expected} "
                "was expected (numbers count up from 1)"
            )
    return [entry for _, entry in found]


#: DCMTK names (dcuid.cc) that are not DICOM keywords, beside those of the built-in list.
_DCMTK_SOP_NAMES: Final = {
    "DRAFT_RTBeamsDeliveryInstructionStorage": "1.2.840.10008.5.1.4.34.1",
    "ImplantationPlanSRDocumentStorage": "1.2.840.10008.5.1.4.1.1.88.70",
    "RETIRED_VLImageStorage": "1.2.840.10008.5.1.4.1.1.77.1",
    "RETIRED_VLMultiframeImageStorage": "1.2.840.10008.5.1.4.1.1.77.2",
}


def _sop_class_names() -> dict[str, str]:
    """Lower-cased SOP class names: DICOM keywords (pydicom's UID dictionary), DCMTK's."""
    from pydicom._uid_dict import UID_dictionary

    names: dict[str, str] = {n.lower(): uid for n, uid in _DCMTK_SOP_NAMES.items()}
    names.update({n.lower(): uid for uid, n in STORAGE_SOP_CLASSES})
    for uid, (_name, kind, _info, _retired, keyword) in UID_dictionary.items():
        if "SOP Class" in kind and keyword:
            names.setdefault(keyword.lower(), uid)
    return names


def _transfer_syntax(value: str, where: str) -> str:
    if _UID.fullmatch(value):
        return value
    if value in TRANSFER_SYNTAX_NAMES:
        return TRANSFER_SYNTAX_NAMES[value]
    from pydicom._uid_dict import UID_dictionary

    for uid, (_name, kind, _info, _retired, keyword) in UID_dictionary.items():
        if kind == "Transfer Syntax" and keyword.lower() == value.lower():
            return str(uid)
    raise UsageError(f"{where}: unknown transfer syntax '{value}'")


def _sop_class(value: str, names: dict[str, str], where: str) -> str:
    if _UID.fullmatch(value):
        return value
    key = value.lower()
    # DCMTK's names are mostly the DICOM keywords; some are "RETIRED_"/"DRAFT_"
    # prefixed, a few older ones end in "SOPClass".
    uid = (
        names.get(key)
        or names.get(key.removeprefix("retired_"))
        or names.get(key.removesuffix("sopclass"))
    )
    if uid is None:
        raise UsageError(f"{where}: unknown SOP class '{value}'")
    return uid


def parse_profile(text: str, profile: str, path: str = "<config>") -> Profile:
    """Parse an association configuration and return one of its profiles.

    Parameters
    ----------
    text : str
        The file's text.
    profile : str
        The profile's section name in ``[[Profiles]]``.
    path : str
        Used in messages (``path:line``).

    Raises
    ------
    UsageError
        The file is malformed, names something unknown, or lacks `profile`.
    """
    tree = _parse(text, path)
    for name in ("transfersyntaxes", "presentationcontexts", "profiles"):
        if name not in tree:
            raise UsageError(f"{path}: no [[{name}]] supersection (it is mandatory)")
    profiles = tree["profiles"]
    entries = profiles.get(_norm(profile))
    if entries is None:
        known = ", ".join(sorted(profiles)) or "none"
        raise UsageError(f"{path}: no profile '{profile}' in [[Profiles]] (profiles: {known})")
    settings = {e.key: e for e in entries}
    for entry in entries:
        if entry.key not in ("presentationcontexts", "scpscuroleselection", "extendednegotiation"):
            raise UsageError(f"{path}:{entry.line}: unexpected key '{entry.key}' in a profile")
    contexts_entry = settings.get("presentationcontexts")
    if contexts_entry is None:
        raise UsageError(f"{path}: profile '{profile}' names no PresentationContexts")
    for extra in ("scpscuroleselection", "extendednegotiation"):
        if extra in settings:
            log.warning(
                "%s:%d: %s is not negotiated by storescu: ignored",
                path,
                settings[extra].line,
                settings[extra].key,
            )
    list_name = contexts_entry.value
    context_entries = tree["presentationcontexts"].get(_norm(list_name))
    if context_entries is None:
        raise UsageError(
            f"{path}:{contexts_entry.line}: no presentation context list [{list_name}]"
        )
    syntax_lists = tree["transfersyntaxes"]
    names = _sop_class_names()
    numbered = _numbered(context_entries, "PresentationContext", path)
    if len(numbered) > MAX_PRESENTATION_CONTEXTS:
        raise UsageError(
            f"{path}:{numbered[MAX_PRESENTATION_CONTEXTS].line}: presentation context list "
            f"[{list_name}] has {len(numbered)} entries; an association carries at most "
            f"{MAX_PRESENTATION_CONTEXTS}"
        )
    resolved: dict[str, tuple[str, ...]] = {}
    contexts: list[tuple[str, tuple[str, ...]]] = []
    for entry in numbered:
        where = f"{path}:{entry.line}"
        sop, sep, ts_name = entry.value.partition("\\")
        if not sep or not sop.strip() or not ts_name.strip() or "\\" in ts_name:
            raise UsageError(f"{where}: expected 'SOPClass\\TransferSyntaxList'")
        key = _norm(ts_name)
        if key not in resolved:
            ts_entries = syntax_lists.get(key)
            if ts_entries is None:
                raise UsageError(f"{where}: no transfer syntax list [{ts_name.strip()}]")
            syntaxes = [
                _transfer_syntax(e.value, f"{path}:{e.line}")
                for e in _numbered(ts_entries, "TransferSyntax", path)
            ]
            if not syntaxes:
                raise UsageError(f"{where}: transfer syntax list [{ts_name.strip()}] is empty")
            resolved[key] = tuple(dict.fromkeys(syntaxes))
        contexts.append((_sop_class(sop.strip(), names, where), resolved[key]))
    if not contexts:
        raise UsageError(f"{path}: presentation context list [{list_name}] is empty")
    return Profile(profile, tuple(contexts))


def load_profile(path: str, profile: str) -> Profile:
    """Read `path` and return `profile` (see :func:`parse_profile`).

    Raises
    ------
    UsageError
        The file cannot be read, or :func:`parse_profile` refuses it.
    """
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        raise UsageError(f"cannot read config file '{path}': {exc.strerror or exc}") from exc
    text = data.decode("utf-8", errors="replace").removeprefix("\ufeff")
    return parse_profile(text, profile, path)
