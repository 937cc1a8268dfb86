"""The compression bench's real-image set: CT, MR and CR images from `pydicom-data`.

    python -m bench.realimages [DIR]     # builds (or finds) the set, prints its size

Compression ratios depend on the image, so this set is made of real acquisitions,
not of the synthetic pixels of bench/corpus.py. Its source is the `pydicom-data`
package (pip install pydicom-data; pydicom's own test files, MIT licence), the
uncompressed explicit VR little endian versions of:

========================================  ======  ==================================  ======
file                                      kind    image                               copies
========================================  ======  ==================================  ======
693_UNCR.dcm                              CT      512 x 512, 16 bits (14 stored)      10
MR-SIEMENS-DICOM-WithOverlays.dcm         MR      484 x 484, 16 bits (12 stored)      4
MR2_UNCR.dcm                              MR      1024 x 1024, 16 bits (12 stored)    2
RG1_UNCR.dcm                              CR      1955 x 1841, 16 bits (15 stored)    1
RG3_UNCR.dcm                              CR      1760 x 1760, 16 bits (10 stored)    1
========================================  ======  ==================================  ======

18 files, about 24.9 MB, in a study's order (the CT series first). Copies get
new SOP Instance UIDs (``2.25.`` + a hash of the source and copy number, in the
dataset and the meta header alike) and are otherwise the source's bytes as
pydicom writes them. The set is cached in the directory with a manifest and
rebuilt when the manifest does not match.
"""

from __future__ import annotations

import hashlib
import json
import sys
from dataclasses import dataclass
from pathlib import Path

#: (source file in pydicom-data, copies), in sending order.
SOURCES: tuple[tuple[str, int], ...] = (
    ("693_UNCR.dcm", 10),
    ("MR-SIEMENS-DICOM-WithOverlays.dcm", 4),
    ("MR2_UNCR.dcm", 2),
    ("RG1_UNCR.dcm", 1),
    ("RG3_UNCR.dcm", 1),
)
VERSION = 1


def data_dir() -> Path:
    """pydicom-data's folder of files (SystemExit naming the package when missing)."""
    try:
        import data_store  # the import name of the pydicom-data package
    except ImportError:
        raise SystemExit(
            "the real-image set needs the pydicom-data package: pip install pydicom-data "
            "(or pip install -e '.[bench]')"
        ) from None
    return Path(data_store.__file__).resolve().parent / "data"


def source_files() -> list[Path]:
    """The distinct source images (for bench/encode_rates.py)."""
    base = data_dir()
    return [base / name for name, _ in SOURCES]


def instance_uid(source: str, copy: int) -> str:
    """A UID under 2.25 (PS3.5 B.2: a UUID as a decimal integer) from the source and copy."""
    digest = hashlib.sha256(f"storescu-bench:{source}:{copy}".encode()).digest()
    return "2.25." + str(int.from_bytes(digest[:16], "big"))


@dataclass(frozen=True)
class ImageSet:
    files: list[Path]
    total_bytes: int
    pixel_bytes: int  # native Pixel Data bytes, all files


def build(directory: Path) -> ImageSet:
    """The set in ``directory``: built once, then found through its manifest."""
    manifest = directory / "manifest.json"
    expected = {"version": VERSION, "sources": [list(s) for s in SOURCES]}
    if manifest.exists():
        saved = json.loads(manifest.read_text())
        files = [directory / name for name in saved.get("files", [])]
        if saved.get("key") == expected and all(f.exists() for f in files):
            return ImageSet(files, sum(f.stat().st_size for f in files), saved["pixel_bytes"])
    import pydicom

    directory.mkdir(parents=True, exist_ok=True)
    base = data_dir()
    names: list[str] = []
    pixel_bytes = 0
    index = 0
    for source, copies in SOURCES:
        for copy in range(copies):
            ds = pydicom.dcmread(base / source)
            uid = instance_uid(source, copy)
            ds.SOPInstanceUID = uid
            ds.file_meta.MediaStorageSOPInstanceUID = uid  # PS3.10 7.1: follows the dataset
            pixel_bytes += len(ds.PixelData)
            name = f"{index:03d}_{Path(source).stem}_{copy}.dcm"
            ds.save_as(directory / name, enforce_file_format=True)
            names.append(name)
            index += 1
    manifest.write_text(json.dumps({"key": expected, "files": names, "pixel_bytes": pixel_bytes}))
    files = [directory / n for n in names]
    return ImageSet(files, sum(f.stat().st_size for f in files), pixel_bytes)


if __name__ == "__main__":
    where = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent / "out" / "realimages"
    made = build(where)
    print(f"{len(made.files)} files, {made.total_bytes / 1e6:.1f} MB in {where}")
