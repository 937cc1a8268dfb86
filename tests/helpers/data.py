"""Test data: the seed's SOP class list, pydicom's uncompressed files, generated files.

Everything is deterministic and made locally (no downloads, no numpy): pixel bytes
come from ``random.Random(seed).randbytes``, UIDs from
``pydicom.uid.generate_uid(entropy_srcs=...)``.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import subprocess
import warnings
from dataclasses import dataclass
from pathlib import Path

from pydicom import dcmread
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import (
    UID,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    generate_uid,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
#: The seed manual, when the project's shared/ folder is beside the clone.
SEED_MANUAL = REPO_ROOT.parent / "shared" / "seed" / "storescu-manual.txt"

UNCOMPRESSED_SYNTAXES = frozenset(
    {ImplicitVRLittleEndian, ExplicitVRLittleEndian, ExplicitVRBigEndian}
)

#: The seed manual's conformance list (62 storage SOP classes, draft ones included),
#: in its order. DCMTK storescu proposes exactly these by default. Kept here as data
#: so the tests do not take their oracle from the code under test;
#: ``test_harness.py`` checks it against the manual when ``shared/`` is present.
SEED_SOP_CLASSES: tuple[str, ...] = (
    "1.2.840.10008.5.1.1.27", "1.2.840.10008.5.1.1.29", "1.2.840.10008.5.1.1.30",
    "1.2.840.10008.5.1.4.1.1.1", "1.2.840.10008.5.1.4.1.1.1.1",
    "1.2.840.10008.5.1.4.1.1.1.1.1", "1.2.840.10008.5.1.4.1.1.1.2",
    "1.2.840.10008.5.1.4.1.1.1.2.1", "1.2.840.10008.5.1.4.1.1.1.3",
    "1.2.840.10008.5.1.4.1.1.1.3.1", "1.2.840.10008.5.1.4.1.1.2",
    "1.2.840.10008.5.1.4.1.1.3", "1.2.840.10008.5.1.4.1.1.3.1",
    "1.2.840.10008.5.1.4.1.1.4", "1.2.840.10008.5.1.4.1.1.5", "1.2.840.10008.5.1.4.1.1.6",
    "1.2.840.10008.5.1.4.1.1.6.1", "1.2.840.10008.5.1.4.1.1.7",
    "1.2.840.10008.5.1.4.1.1.7.1", "1.2.840.10008.5.1.4.1.1.7.2",
    "1.2.840.10008.5.1.4.1.1.7.3", "1.2.840.10008.5.1.4.1.1.7.4",
    "1.2.840.10008.5.1.4.1.1.8", "1.2.840.10008.5.1.4.1.1.9",
    "1.2.840.10008.5.1.4.1.1.9.1.1", "1.2.840.10008.5.1.4.1.1.9.1.2",
    "1.2.840.10008.5.1.4.1.1.9.1.3", "1.2.840.10008.5.1.4.1.1.9.2.1",
    "1.2.840.10008.5.1.4.1.1.9.3.1", "1.2.840.10008.5.1.4.1.1.9.4.1",
    "1.2.840.10008.5.1.4.1.1.10", "1.2.840.10008.5.1.4.1.1.11",
    "1.2.840.10008.5.1.4.1.1.11.1", "1.2.840.10008.5.1.4.1.1.12.1",
    "1.2.840.10008.5.1.4.1.1.12.2", "1.2.840.10008.5.1.4.1.1.12.3",
    "1.2.840.10008.5.1.4.1.1.20", "1.2.840.10008.5.1.4.1.1.77.1",
    "1.2.840.10008.5.1.4.1.1.77.1.1", "1.2.840.10008.5.1.4.1.1.77.1.2",
    "1.2.840.10008.5.1.4.1.1.77.1.3", "1.2.840.10008.5.1.4.1.1.77.1.4",
    "1.2.840.10008.5.1.4.1.1.77.2", "1.2.840.10008.5.1.4.1.1.88.11",
    "1.2.840.10008.5.1.4.1.1.88.22", "1.2.840.10008.5.1.4.1.1.88.33",
    "1.2.840.10008.5.1.4.1.1.88.50", "1.2.840.10008.5.1.4.1.1.88.59",
    "1.2.840.10008.5.1.4.1.1.128", "1.2.840.10008.5.1.4.1.1.129",
    "1.2.840.10008.5.1.4.1.1.481.1", "1.2.840.10008.5.1.4.1.1.481.2",
    "1.2.840.10008.5.1.4.1.1.481.3", "1.2.840.10008.5.1.4.1.1.481.4",
    "1.2.840.10008.5.1.4.1.1.481.5", "1.2.840.10008.5.1.4.1.1.481.6",
    "1.2.840.10008.5.1.4.1.1.481.7",
    # Draft classes ("experimental support" in the manual).
    "1.2.840.10008.5.1.4.1.1.9.1", "1.2.840.10008.5.1.4.1.1.88.1",
    "1.2.840.10008.5.1.4.1.1.88.2", "1.2.840.10008.5.1.4.1.1.88.3",
    "1.2.840.10008.5.1.4.1.1.88.4",
)  # fmt: skip
SEED_SOP_CLASS_SET = frozenset(SEED_SOP_CLASSES)

#: Uncompressed pydicom test files that are broken on purpose. Found by sending every
#: candidate with DCMTK storescu: it refuses these before sending anything.
BROKEN_PYDICOM_FILES: dict[str, str] = {
    "MR_truncated.dcm": "Pixel Data longer than the rest of the file",
    "rtplan_truncated.dcm": "truncated in the middle of an element",
}


def parse_seed_sop_classes(manual: Path = SEED_MANUAL) -> list[str]:
    """The SOP class UIDs of the manual's conformance section, in order."""
    uids = []
    for line in manual.read_text().splitlines():
        match = re.match(r'\s+\w+\s+"([0-9.]+)"\s*$', line)
        if match:
            uids.append(match.group(1))
    return uids


@dataclass(frozen=True)
class DicomFile:
    """A test file and the facts a test needs about it."""

    path: Path
    sop_class_uid: str
    sop_instance_uid: str
    transfer_syntax: str

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def in_seed_list(self) -> bool:
        """Whether DCMTK's default proposal carries its SOP class (else use -R)."""
        return self.sop_class_uid in SEED_SOP_CLASS_SET


def describe_file(path: Path) -> DicomFile | None:
    """Facts about ``path`` or None unless it is a DICOM file with meta and UIDs."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. SC_rgb_jpeg.dcm: "found implicit VR"
            ds = dcmread(path, stop_before_pixels=True)
    except Exception:  # not a (readable) DICOM file
        return None
    ts = getattr(ds.file_meta, "TransferSyntaxUID", None) if ds.file_meta else None
    if ts is None or "SOPClassUID" not in ds or "SOPInstanceUID" not in ds:
        return None
    return DicomFile(path, str(ds.SOPClassUID), str(ds.SOPInstanceUID), str(ts))


def pydicom_uncompressed_files() -> list[DicomFile]:
    """Every file shipped in the pydicom wheel that a storescu must be able to send.

    Kept: a meta header with implicit LE / explicit LE / explicit BE transfer syntax
    and SOP Class + Instance UIDs in the dataset, minus
    :data:`BROKEN_PYDICOM_FILES`. Sorted by path, so runs are reproducible.
    """
    from pydicom.data import get_testdata_files

    found = []
    for name in sorted(get_testdata_files()):
        path = Path(name)
        if not path.is_file() or path.name in BROKEN_PYDICOM_FILES:
            continue
        info = describe_file(path)
        if info is not None and info.transfer_syntax in UNCOMPRESSED_SYNTAXES:
            found.append(info)
    return found


def pydicom_file(name: str) -> Path:
    """Path of one named file in the pydicom wheel."""
    from pydicom.data import get_testdata_file

    path = get_testdata_file(name)
    if path is None:
        raise FileNotFoundError(f"{name} is not in the installed pydicom")
    return Path(path)


# --- generated files ------------------------------------------------------------------

#: Bump when the generators change so cached files are rebuilt.
GENERATOR_VERSION = "1"

CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2"
MF_GRAYSCALE_WORD_SC = "1.2.840.10008.5.1.4.1.1.7.3"


def _uid(*parts: str) -> str:
    return str(generate_uid(entropy_srcs=["storescu-tests", GENERATOR_VERSION, *parts]))


def _file_meta(sop_class: str, sop_instance: str, ts: str) -> FileMetaDataset:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = UID(sop_class)
    meta.MediaStorageSOPInstanceUID = UID(sop_instance)
    meta.TransferSyntaxUID = UID(ts)
    meta.ImplementationClassUID = UID(_uid("implementation"))
    meta.ImplementationVersionName = "STORESCU_TESTS"
    return meta


def _patient_study_series(ds: Dataset, name: str) -> None:
    ds.PatientName = "Test^Storescu"
    ds.PatientID = "STORESCU-TEST"
    ds.PatientBirthDate = "19700101"
    ds.PatientSex = "O"
    ds.StudyInstanceUID = _uid(name, "study")
    ds.SeriesInstanceUID = _uid(name, "series")
    ds.StudyDate = "20240101"
    ds.StudyTime = "120000"
    ds.StudyID = "1"
    ds.AccessionNumber = ""
    ds.ReferringPhysicianName = ""
    ds.SeriesNumber = 1
    ds.InstanceNumber = 1


def make_ct(path: Path, *, seed: int = 512) -> Path:
    """A 512x512 16-bit CT image in explicit VR little endian (~520 KB).

    Besides the usual attributes it carries what transcoding tends to break:
    a nested sequence, private elements of several VRs (LO, US, FD, OB and a private
    sequence: all become UN under implicit VR), AT, FL/FD/SL multi-values.
    """
    sop_instance = _uid("ct", "instance")
    ds = Dataset()
    ds.file_meta = _file_meta(CT_IMAGE_STORAGE, sop_instance, ExplicitVRLittleEndian)
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    ds.SOPClassUID = CT_IMAGE_STORAGE
    ds.SOPInstanceUID = sop_instance
    ds.Modality = "CT"
    ds.Manufacturer = "storescu tests"
    _patient_study_series(ds, "ct")
    ds.PatientComments = "Ünïcödé in Latin-1: éàç"
    ds.FrameOfReferenceUID = _uid("ct", "frame")
    ds.ImagePositionPatient = [-250.0, -250.0, 12.5]
    ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    ds.SliceThickness = "2.5"
    ds.KVP = "120"
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows = 512
    ds.Columns = 512
    ds.PixelSpacing = [0.9765625, 0.9765625]
    ds.BitsAllocated = 16
    ds.BitsStored = 16
    ds.HighBit = 15
    ds.PixelRepresentation = 0
    ds.RescaleIntercept = "-1024"
    ds.RescaleSlope = "1"
    ds.WindowCenter = "40"
    ds.WindowWidth = "400"
    ds.FrameIncrementPointer = 0x00181063  # AT
    ref = Dataset()
    ref.ReferencedSOPClassUID = CT_IMAGE_STORAGE
    ref.ReferencedSOPInstanceUID = _uid("ct", "reference")
    inner = Dataset()
    inner.CodeValue = "T-D0050"
    inner.CodingSchemeDesignator = "SRT"
    inner.CodeMeaning = "Tissue"
    ref.PurposeOfReferenceCodeSequence = Sequence([inner])
    ds.ReferencedImageSequence = Sequence([ref])
    block = ds.private_block(0x0009, "STORESCU TESTS", create=True)
    block.add_new(0x01, "LO", "private text")
    block.add_new(0x02, "US", [1, 2, 65535])
    block.add_new(0x03, "FD", [3.141592653589793, -2.5])
    block.add_new(0x04, "OB", bytes(range(256)))
    block.add_new(0x05, "SL", [-1, 2**31 - 1])
    block.add_new(0x06, "FL", 1.5)
    priv_item = Dataset()
    priv_item.add_new(0x00090010, "LO", "STORESCU TESTS")  # the item's own creator
    priv_item.add_new(0x00091001, "LO", "inside a private sequence")
    block.add_new(0x07, "SQ", Sequence([priv_item]))
    ds.PixelData = random.Random(seed).randbytes(512 * 512 * 2)
    ds["PixelData"].VR = "OW"
    _write_atomically(ds, path)
    return path


def make_multiframe(path: Path, *, frames: int = 200, seed: int = 200) -> Path:
    """A ~100 MiB multi-frame grayscale word secondary capture (512x512x``frames``).

    MultiframeGrayscaleWordSecondaryCaptureImageStorage is in the seed list, so the
    default proposal carries it. Explicit VR little endian.
    """
    sop_instance = _uid("multiframe", str(frames), "instance")
    ds = Dataset()
    ds.file_meta = _file_meta(MF_GRAYSCALE_WORD_SC, sop_instance, ExplicitVRLittleEndian)
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.ImageType = ["DERIVED", "SECONDARY"]
    ds.SOPClassUID = MF_GRAYSCALE_WORD_SC
    ds.SOPInstanceUID = sop_instance
    ds.Modality = "OT"
    ds.ConversionType = "WSD"
    _patient_study_series(ds, "multiframe")
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.NumberOfFrames = frames
    ds.FrameIncrementPointer = 0x00181063
    ds.FrameTime = "40"
    ds.Rows = 512
    ds.Columns = 512
    ds.BitsAllocated = 16
    ds.BitsStored = 16
    ds.HighBit = 15
    ds.PixelRepresentation = 0
    ds.PixelData = random.Random(seed).randbytes(512 * 512 * 2 * frames)
    ds["PixelData"].VR = "OW"
    _write_atomically(ds, path)
    return path


def _write_atomically(ds: Dataset, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    ds.save_as(tmp, enforce_file_format=True)
    os.replace(tmp, path)


def dcmconv(src: Path, dst: Path, *options: str) -> Path:
    """Convert with DCMTK's dcmconv (e.g. ``+tb`` big endian, ``+ti`` implicit)."""
    exe = shutil.which("dcmconv", path="/usr/bin:/bin")
    if exe is None:
        raise RuntimeError("dcmconv not installed (/usr/bin/dcmconv): apt-get install dcmtk")
    tmp = dst.with_name(dst.name + f".tmp{os.getpid()}")
    proc = subprocess.run(
        [exe, *options, str(src), str(tmp)], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise RuntimeError(f"dcmconv {' '.join(options)} {src} failed:\n{proc.stderr}")
    os.replace(tmp, dst)
    return dst
