"""Constants: UIDs, the built-in SOP class list, protocol limits.

Nothing here does I/O; importing this module must stay cheap because the CLI's
start-up time matters (scripts call ``storescu`` once per file).
"""

from __future__ import annotations

from typing import Final

# PS3.7 Annex A.2.1: the only DICOM application context name.
APPLICATION_CONTEXT_NAME: Final = "1.2.840.10008.3.1.1.1"

# Our implementation identification (PS3.7 D.3.3.2). A "2.25." UID derived from a
# UUID needs no registered root.
IMPLEMENTATION_CLASS_UID: Final = "2.25.225838387604093616146429434402432346121"
IMPLEMENTATION_VERSION_NAME: Final = "STORESCU_PY_010"

DEFAULT_CALLING_AET: Final = "STORESCU"
DEFAULT_CALLED_AET: Final = "ANY-SCP"

# Transfer syntaxes (PS3.5 section 10 and Annex A).
IMPLICIT_VR_LITTLE_ENDIAN: Final = "1.2.840.10008.1.2"
EXPLICIT_VR_LITTLE_ENDIAN: Final = "1.2.840.10008.1.2.1"
DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN: Final = "1.2.840.10008.1.2.1.99"
EXPLICIT_VR_BIG_ENDIAN: Final = "1.2.840.10008.1.2.2"

#: The three uncompressed, non-deflated syntaxes the core can convert between.
UNCOMPRESSED_SYNTAXES: Final = frozenset(
    {IMPLICIT_VR_LITTLE_ENDIAN, EXPLICIT_VR_LITTLE_ENDIAN, EXPLICIT_VR_BIG_ENDIAN}
)

VERIFICATION_SOP_CLASS: Final = "1.2.840.10008.1.1"

# PS3.8 D.1: max PDU length. DCMTK's storescu defaults and limits.
DEFAULT_MAX_PDU: Final = 16384
MIN_MAX_PDU: Final = 4096
MAX_MAX_PDU: Final = 131072
#: Used when the peer says 0 ("no limit", PS3.8 D.1): a sane fragment size.
UNLIMITED_PDU_CAP: Final = 1024 * 1024
#: Bound on association-negotiation PDUs we accept from a peer (RQ, AC, RJ...).
MAX_ASSOCIATION_PDU: Final = 1024 * 1024
#: Bound on a single DIMSE command set (a response is a few hundred bytes).
MAX_COMMAND_SET: Final = 64 * 1024

#: PS3.8 9.3.2: context IDs are odd integers 1..255, so 128 at most.
MAX_PRESENTATION_CONTEXTS: Final = 128

#: The storage SOP classes listed in the seed manual's conformance section, in its
#: order. DCMTK proposes exactly these by default (two contexts each: 124 contexts).
STORAGE_SOP_CLASSES: Final[tuple[tuple[str, str], ...]] = (
    ("1.2.840.10008.5.1.1.27", "StoredPrintStorage"),
    ("1.2.840.10008.5.1.1.29", "HardcopyGrayscaleImageStorage"),
    ("1.2.840.10008.5.1.1.30", "HardcopyColorImageStorage"),
    ("1.2.840.10008.5.1.4.1.1.1", "ComputedRadiographyImageStorage"),
    ("1.2.840.10008.5.1.4.1.1.1.1", "DigitalXRayImageStorageForPresentation"),
    ("1.2.840.10008.5.1.4.1.1.1.1.1", "DigitalXRayImageStorageForProcessing"),
    ("1.2.840.10008.5.1.4.1.1.1.2", "DigitalMammographyXRayImageStorageForPresentation"),
    ("1.2.840.10008.5.1.4.1.1.1.2.1", "DigitalMammographyXRayImageStorageForProcessing"),
    ("1.2.840.10008.5.1.4.1.1.1.3", "DigitalIntraOralXRayImageStorageForPresentation"),
    ("1.2.840.10008.5.1.4.1.1.1.3.1", "DigitalIntraOralXRayImageStorageForProcessing"),
    ("1.2.840.10008.5.1.4.1.1.2", "CTImageStorage"),
    ("1.2.840.10008.5.1.4.1.1.3", "RETIRED_UltrasoundMultiframeImageStorage"),
    ("1.2.840.10008.5.1.4.1.1.3.1", "UltrasoundMultiframeImageStorage"),
    ("1.2.840.10008.5.1.4.1.1.4", "MRImageStorage"),
    ("1.2.840.10008.5.1.4.1.1.5", "RETIRED_NuclearMedicineImageStorage"),
    ("1.2.840.10008.5.1.4.1.1.6", "RETIRED_UltrasoundImageStorage"),
    ("1.2.840.10008.5.1.4.1.1.6.1", "UltrasoundImageStorage"),
    ("1.2.840.10008.5.1.4.1.1.7", "SecondaryCaptureImageStorage"),
    ("1.2.840.10008.5.1.4.1.1.7.1", "MultiframeSingleBitSecondaryCaptureImageStorage"),
    ("1.2.840.10008.5.1.4.1.1.7.2", "MultiframeGrayscaleByteSecondaryCaptureImageStorage"),
    ("1.2.840.10008.5.1.4.1.1.7.3", "MultiframeGrayscaleWordSecondaryCaptureImageStorage"),
    ("1.2.840.10008.5.1.4.1.1.7.4", "MultiframeTrueColorSecondaryCaptureImageStorage"),
    ("1.2.840.10008.5.1.4.1.1.8", "StandaloneOverlayStorage"),
    ("1.2.840.10008.5.1.4.1.1.9", "StandaloneCurveStorage"),
    ("1.2.840.10008.5.1.4.1.1.9.1.1", "TwelveLeadECGWaveformStorage"),
    ("1.2.840.10008.5.1.4.1.1.9.1.2", "GeneralECGWaveformStorage"),
    ("1.2.840.10008.5.1.4.1.1.9.1.3", "AmbulatoryECGWaveformStorage"),
    ("1.2.840.10008.5.1.4.1.1.9.2.1", "HemodynamicWaveformStorage"),
    ("1.2.840.10008.5.1.4.1.1.9.3.1", "CardiacElectrophysiologyWaveformStorage"),
    ("1.2.840.10008.5.1.4.1.1.9.4.1", "BasicVoiceAudioWaveformStorage"),
    ("1.2.840.10008.5.1.4.1.1.10", "StandaloneModalityLUTStorage"),
    ("1.2.840.10008.5.1.4.1.1.11", "StandaloneVOILUTStorage"),
    ("1.2.840.10008.5.1.4.1.1.11.1", "GrayscaleSoftcopyPresentationStateStorage"),
    ("1.2.840.10008.5.1.4.1.1.12.1", "XRayAngiographicImageStorage"),
    ("1.2.840.10008.5.1.4.1.1.12.2", "XRayFluoroscopyImageStorage"),
    ("1.2.840.10008.5.1.4.1.1.12.3", "RETIRED_XRayAngiographicBiPlaneImageStorage"),
    ("1.2.840.10008.5.1.4.1.1.20", "NuclearMedicineImageStorage"),
    ("1.2.840.10008.5.1.4.1.1.77.1", "RETIRED_VLImageStorage"),
    ("1.2.840.10008.5.1.4.1.1.77.1.1", "VLEndoscopicImageStorage"),
    ("1.2.840.10008.5.1.4.1.1.77.1.2", "VLMicroscopicImageStorage"),
    ("1.2.840.10008.5.1.4.1.1.77.1.3", "VLSlideCoordinatesMicroscopicImageStorage"),
    ("1.2.840.10008.5.1.4.1.1.77.1.4", "VLPhotographicImageStorage"),
    ("1.2.840.10008.5.1.4.1.1.77.2", "RETIRED_VLMultiFrameImageStorage"),
    ("1.2.840.10008.5.1.4.1.1.88.11", "BasicTextSR"),
    ("1.2.840.10008.5.1.4.1.1.88.22", "EnhancedSR"),
    ("1.2.840.10008.5.1.4.1.1.88.33", "ComprehensiveSR"),
    ("1.2.840.10008.5.1.4.1.1.88.50", "MammographyCADSR"),
    ("1.2.840.10008.5.1.4.1.1.88.59", "KeyObjectSelectionDocument"),
    ("1.2.840.10008.5.1.4.1.1.128", "PETImageStorage"),
    ("1.2.840.10008.5.1.4.1.1.129", "PETCurveStorage"),
    ("1.2.840.10008.5.1.4.1.1.481.1", "RTImageStorage"),
    ("1.2.840.10008.5.1.4.1.1.481.2", "RTDoseStorage"),
    ("1.2.840.10008.5.1.4.1.1.481.3", "RTStructureSetStorage"),
    ("1.2.840.10008.5.1.4.1.1.481.4", "RTBeamsTreatmentRecordStorage"),
    ("1.2.840.10008.5.1.4.1.1.481.5", "RTPlanStorage"),
    ("1.2.840.10008.5.1.4.1.1.481.6", "RTBrachyTreatmentRecordStorage"),
    ("1.2.840.10008.5.1.4.1.1.481.7", "RTTreatmentSummaryRecordStorage"),
    ("1.2.840.10008.5.1.4.1.1.9.1", "DRAFT_WaveformStorage"),
    ("1.2.840.10008.5.1.4.1.1.88.1", "DRAFT_SRTextStorage"),
    ("1.2.840.10008.5.1.4.1.1.88.2", "DRAFT_SRAudioStorage"),
    ("1.2.840.10008.5.1.4.1.1.88.3", "DRAFT_SRDetailStorage"),
    ("1.2.840.10008.5.1.4.1.1.88.4", "DRAFT_SRComprehensiveStorage"),
)

SOP_CLASS_NAMES: Final[dict[str, str]] = dict(STORAGE_SOP_CLASSES)
SOP_CLASS_NAMES[VERIFICATION_SOP_CLASS] = "VerificationSOPClass"

# Short modality names DCMTK prints in "Sending Store Request (MsgID 1, CT)".
_MODALITY_BY_UID: Final[dict[str, str]] = {
    "1.2.840.10008.5.1.1.27": "STP",
    "1.2.840.10008.5.1.1.29": "HG",
    "1.2.840.10008.5.1.1.30": "HC",
    "1.2.840.10008.5.1.4.1.1.1": "CR",
    "1.2.840.10008.5.1.4.1.1.1.1": "DX",
    "1.2.840.10008.5.1.4.1.1.1.1.1": "DX",
    "1.2.840.10008.5.1.4.1.1.1.2": "MG",
    "1.2.840.10008.5.1.4.1.1.1.2.1": "MG",
    "1.2.840.10008.5.1.4.1.1.1.3": "IO",
    "1.2.840.10008.5.1.4.1.1.1.3.1": "IO",
    "1.2.840.10008.5.1.4.1.1.2": "CT",
    "1.2.840.10008.5.1.4.1.1.2.1": "CTe",
    "1.2.840.10008.5.1.4.1.1.3": "USm",
    "1.2.840.10008.5.1.4.1.1.3.1": "US",
    "1.2.840.10008.5.1.4.1.1.4": "MR",
    "1.2.840.10008.5.1.4.1.1.4.1": "MRe",
    "1.2.840.10008.5.1.4.1.1.5": "NMr",
    "1.2.840.10008.5.1.4.1.1.6": "USr",
    "1.2.840.10008.5.1.4.1.1.6.1": "US",
    "1.2.840.10008.5.1.4.1.1.7": "SC",
    "1.2.840.10008.5.1.4.1.1.7.1": "SCb",
    "1.2.840.10008.5.1.4.1.1.7.2": "SCb",
    "1.2.840.10008.5.1.4.1.1.7.3": "SCw",
    "1.2.840.10008.5.1.4.1.1.7.4": "SCc",
    "1.2.840.10008.5.1.4.1.1.8": "OV",
    "1.2.840.10008.5.1.4.1.1.9": "CV",
    "1.2.840.10008.5.1.4.1.1.9.1": "WVd",
    "1.2.840.10008.5.1.4.1.1.9.1.1": "ECG",
    "1.2.840.10008.5.1.4.1.1.9.1.2": "ECG",
    "1.2.840.10008.5.1.4.1.1.9.1.3": "ECG",
    "1.2.840.10008.5.1.4.1.1.9.2.1": "HD",
    "1.2.840.10008.5.1.4.1.1.9.3.1": "EPS",
    "1.2.840.10008.5.1.4.1.1.9.4.1": "AU",
    "1.2.840.10008.5.1.4.1.1.10": "ML",
    "1.2.840.10008.5.1.4.1.1.11": "VO",
    "1.2.840.10008.5.1.4.1.1.11.1": "PSg",
    "1.2.840.10008.5.1.4.1.1.12.1": "XA",
    "1.2.840.10008.5.1.4.1.1.12.2": "RF",
    "1.2.840.10008.5.1.4.1.1.12.3": "XB",
    "1.2.840.10008.5.1.4.1.1.20": "NM",
    "1.2.840.10008.5.1.4.1.1.77.1": "VLr",
    "1.2.840.10008.5.1.4.1.1.77.1.1": "VLe",
    "1.2.840.10008.5.1.4.1.1.77.1.2": "VLm",
    "1.2.840.10008.5.1.4.1.1.77.1.3": "VLs",
    "1.2.840.10008.5.1.4.1.1.77.1.4": "VLp",
    "1.2.840.10008.5.1.4.1.1.77.2": "VMr",
    "1.2.840.10008.5.1.4.1.1.88.1": "SRt",
    "1.2.840.10008.5.1.4.1.1.88.2": "SRa",
    "1.2.840.10008.5.1.4.1.1.88.3": "SRd",
    "1.2.840.10008.5.1.4.1.1.88.4": "SRc",
    "1.2.840.10008.5.1.4.1.1.88.11": "SRt",
    "1.2.840.10008.5.1.4.1.1.88.22": "SRe",
    "1.2.840.10008.5.1.4.1.1.88.33": "SRc",
    "1.2.840.10008.5.1.4.1.1.88.50": "SRm",
    "1.2.840.10008.5.1.4.1.1.88.59": "KO",
    "1.2.840.10008.5.1.4.1.1.128": "PT",
    "1.2.840.10008.5.1.4.1.1.129": "PC",
    "1.2.840.10008.5.1.4.1.1.481.1": "RI",
    "1.2.840.10008.5.1.4.1.1.481.2": "RD",
    "1.2.840.10008.5.1.4.1.1.481.3": "RS",
    "1.2.840.10008.5.1.4.1.1.481.4": "RB",
    "1.2.840.10008.5.1.4.1.1.481.5": "RP",
    "1.2.840.10008.5.1.4.1.1.481.6": "RC",
    "1.2.840.10008.5.1.4.1.1.481.7": "RM",
}


def modality_of(sop_class_uid: str) -> str:
    """Return the short modality name printed in DCMTK-style messages.

    Unknown classes give ``"OT"`` (other), as DCMTK does.
    """
    return _MODALITY_BY_UID.get(sop_class_uid, "OT")


def sop_class_name(uid: str) -> str:
    """Return a readable name for a SOP class UID, or the UID itself."""
    return SOP_CLASS_NAMES.get(uid, uid)


_TS_NAMES: Final[dict[str, str]] = {
    IMPLICIT_VR_LITTLE_ENDIAN: "Little Endian Implicit",
    EXPLICIT_VR_LITTLE_ENDIAN: "Little Endian Explicit",
    EXPLICIT_VR_BIG_ENDIAN: "Big Endian Explicit",
    DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN: "Deflated Explicit VR Little Endian",
    "1.2.840.10008.1.2.4.50": "JPEG Baseline",
    "1.2.840.10008.1.2.4.51": "JPEG Extended: Process 2+4",
    "1.2.840.10008.1.2.4.57": "JPEG Lossless, Non-hierarchical, Process 14",
    "1.2.840.10008.1.2.4.70": "JPEG Lossless, Non-hierarchical, 1st Order Prediction",
    "1.2.840.10008.1.2.4.80": "JPEG-LS Lossless",
    "1.2.840.10008.1.2.4.81": "JPEG-LS Lossy (Near-lossless)",
    "1.2.840.10008.1.2.4.90": "JPEG 2000 (Lossless only)",
    "1.2.840.10008.1.2.4.91": "JPEG 2000",
    "1.2.840.10008.1.2.4.201": "High-Throughput JPEG 2000 (Lossless only)",
    "1.2.840.10008.1.2.4.202": "High-Throughput JPEG 2000 with RPCL Options (Lossless only)",
    "1.2.840.10008.1.2.4.203": "High-Throughput JPEG 2000",
    "1.2.840.10008.1.2.5": "RLE Lossless",
}


def transfer_syntax_name(uid: str) -> str:
    """Return DCMTK's readable name of a transfer syntax UID, or the UID itself."""
    return _TS_NAMES.get(uid, uid)
