"""Many small DICOM files, fast: one template written by pydicom, copies patched in bytes.

The template's SOP Instance UID ends in a fixed-width counter placeholder; each
copy replaces it (in the meta header and the dataset, same length) with its
number, so 500 files take milliseconds and every instance is distinct.
Attributes are enough for DCMTK ``dcmmkdir`` (General Purpose CD-R profile).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian

CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2"
#: pydicom's UID root, then a test-specific arc.
UID_ROOT = "1.2.826.0.1.3680043.8.498.77701"
_PLACEHOLDER = "99999999"


def instance_uid(number: int) -> str:
    """The SOP Instance UID of copy `number` (8 digits: no leading zero, PS3.5 9.1)."""
    return f"{UID_ROOT}.{_counter(number)}"


def _counter(number: int) -> str:
    return str(10_000_000 + number)


def template_bytes() -> bytes:
    """A small CT (8x8, 16 bit) as file bytes, with a placeholder instance UID."""
    placeholder_uid = f"{UID_ROOT}.{_PLACEHOLDER}"
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = CT_IMAGE_STORAGE
    ds.file_meta.MediaStorageSOPInstanceUID = placeholder_uid
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    ds.SOPClassUID = CT_IMAGE_STORAGE
    ds.SOPInstanceUID = placeholder_uid
    ds.StudyDate = "20240101"
    ds.StudyTime = "120000"
    ds.AccessionNumber = "ACC1"
    ds.Modality = "CT"
    ds.ReferringPhysicianName = ""
    ds.PatientName = "Tree^Test"
    ds.PatientID = "TREE-1"
    ds.PatientBirthDate = "19700101"
    ds.PatientSex = "O"
    ds.StudyInstanceUID = f"{UID_ROOT}.1"
    ds.SeriesInstanceUID = f"{UID_ROOT}.2"
    ds.StudyID = "1"
    ds.SeriesNumber = 1
    ds.InstanceNumber = 1
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows = 8
    ds.Columns = 8
    ds.BitsAllocated = 16
    ds.BitsStored = 16
    ds.HighBit = 15
    ds.PixelRepresentation = 0
    ds.PixelData = bytes(range(128))
    ds["PixelData"].VR = "OW"
    from io import BytesIO

    buffer = BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    data = buffer.getvalue()
    assert data.count(placeholder_uid.encode()) == 2
    return data


_TEMPLATE: list[bytes] = []


def write_instance(path: Path, number: int) -> Path:
    """Write copy `number` of the template at `path`."""
    if not _TEMPLATE:
        _TEMPLATE.append(template_bytes())
    data = _TEMPLATE[0].replace(_PLACEHOLDER.encode(), _counter(number).encode())
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


@dataclass
class Tree:
    """A generated folder: which files are DICOM, which match the pattern but are not."""

    root: Path
    dicom: list[Path] = field(default_factory=list)  # matching *.dcm, valid
    invalid: list[Path] = field(default_factory=list)  # matching *.dcm, not DICOM
    other: list[Path] = field(default_factory=list)  # not matching the pattern

    @property
    def matching(self) -> list[Path]:
        return sorted(self.dicom + self.invalid)

    def uid_of(self, path: Path) -> str:
        return instance_uid(self.dicom.index(path) + 1)


def make_tree(root: Path, studies: int = 5, series: int = 10, images: int = 10) -> Tree:
    """``root/STUDYn/SERIESm/IMGk.dcm`` plus non-DICOM files, some matching ``*.dcm``."""
    tree = Tree(root)
    number = 0
    for st in range(1, studies + 1):
        for se in range(1, series + 1):
            for im in range(1, images + 1):
                number += 1
                path = root / f"STUDY{st}" / f"SERIES{se:02d}" / f"IMG{im:03d}.dcm"
                tree.dicom.append(write_instance(path, number))
    extras = {
        "README.txt": b"not DICOM\n",
        "STUDY1/notes.txt": b"notes\n",
        "STUDY2/SERIES03/Thumbs.db": os.urandom(64),
    }
    for name, data in extras.items():
        tree.other.append(_write(root / name, data))
    broken = _write(root / "STUDY3" / "broken.dcm", b"not DICOM, whatever its name says\n" * 4)
    empty = _write(root / "STUDY4" / "SERIES01" / "empty.dcm", b"")
    tree.invalid += [broken, empty]
    return tree


def _write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path
