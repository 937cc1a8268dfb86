"""A stand-in for :mod:`storescu.dataset.compress` that the run-layer tests control.

It has the module's interface (docs: compress-interface) and really encodes RLE
Lossless with pydicom's own encoder, so a peer receives a valid dataset; the
tests choose what else happens: a codec it "cannot carry" (NotCompressed), a
streamed reader of unknown length, a verification failure after some bytes.
Installed with :func:`install` (monkeypatch), so the run code under test is the
real one and only the pixel layer is replaced.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Any

import pydicom
import pytest
from pydicom.filebase import DicomBytesIO
from pydicom.uid import RLELossless

import storescu.dataset
from storescu.kernel.errors import ConversionError

CODEC_SYNTAXES = {
    "jpeg-ls": "1.2.840.10008.1.2.4.80",
    "j2k": "1.2.840.10008.1.2.4.90",
    "htj2k": "1.2.840.10008.1.2.4.201",
    "rle": "1.2.840.10008.1.2.5",
    "deflate": "1.2.840.10008.1.2.1.99",
}
PIXEL_CODECS = ("jpeg-ls", "j2k", "htj2k", "rle")
COMPRESS_CHOICES = (*CODEC_SYNTAXES, "auto")


class NotCompressed(ConversionError):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class VerificationFailed(ConversionError):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class Behaviour:
    """What the fake does; the tests change it."""

    available: tuple[str, ...] = ("rle",)
    #: codec -> reason: open_compressed raises NotCompressed for it.
    refuse: dict[str, str] = field(default_factory=dict)
    #: Stream (length None) instead of a known length.
    streamed: bool = False
    #: Raise VerificationFailed once this many bytes were given out (streamed only).
    fail_after: int | None = None
    #: How many times a failure may still happen (then it encodes fine).
    failures: int = 1
    #: Say ``exhausted`` with the last byte (else only a read of 0 says the end).
    eager_exhausted: bool = True
    opened: list[tuple[str, str]] = field(default_factory=list)


BEHAVIOUR = Behaviour()


def missing_encoders(codec: str) -> str | None:
    if codec == "deflate" or codec in BEHAVIOUR.available:
        return None
    if codec == "auto":
        return None if BEHAVIOUR.available else "--compress auto needs a pixel encoder"
    return f"--compress {codec} needs an encoder: pip install 'storescu[codecs]' (missing: fake)"


def available_codecs() -> tuple[str, ...]:
    return tuple(c for c in PIXEL_CODECS if c in BEHAVIOUR.available)


class FakeReader:
    def __init__(self, data: bytes, syntax: str, pixel_bytes: int) -> None:
        self._data = data
        self._pos = 0
        self.syntax = syntax
        self.length: int | None = None if BEHAVIOUR.streamed else len(data)
        self.exhausted = not data
        self.bytes_out = 0
        self.pixel_bytes_in = pixel_bytes
        self.encoded_bytes = len(data)
        self.encode_seconds = 0.001
        self.closed = False

    def readinto(self, buf: Any) -> int:
        fail = BEHAVIOUR.fail_after
        if fail is not None and BEHAVIOUR.failures > 0 and self._pos >= fail:
            BEHAVIOUR.failures -= 1
            raise VerificationFailed("frame 2: decoded values differ from the stored ones")
        n = min(len(buf), len(self._data) - self._pos)
        if fail is not None and BEHAVIOUR.failures > 0:
            n = min(n, max(fail - self._pos, 1))
        buf[:n] = self._data[self._pos : self._pos + n]
        self._pos += n
        self.bytes_out += n
        self.exhausted = BEHAVIOUR.eager_exhausted and self._pos >= len(self._data)
        return n

    def close(self) -> None:
        self.closed = True


def open_compressed(info: Any, dataset: Any, target_ts: str, *, verify: bool = True) -> FakeReader:
    codec = next(c for c, ts in CODEC_SYNTAXES.items() if ts == target_ts)
    BEHAVIOUR.opened.append((info.path, codec))
    if codec in BEHAVIOUR.refuse:
        raise NotCompressed(BEHAVIOUR.refuse[codec])
    ds = dataset if dataset is not None else pydicom.dcmread(info.path, force=True)
    if "PixelData" not in ds:
        raise NotCompressed("no pixel data")
    if codec != "rle":
        raise NotCompressed(f"the fake encodes RLE only, not {codec}")
    pixel_bytes = len(ds.PixelData)
    meta = pydicom.dataset.FileMetaDataset(getattr(ds, "file_meta", {}))
    meta.TransferSyntaxUID = info.transfer_syntax
    ds = pydicom.Dataset(ds)  # a shallow copy: compress() changes it
    ds.file_meta = meta
    ds.compress(RLELossless, encoding_plugin="pydicom", generate_instance_uid=False)
    fp = DicomBytesIO()
    fp.is_little_endian, fp.is_implicit_VR = True, False
    pydicom.filewriter.write_dataset(fp, ds)
    return FakeReader(fp.getvalue(), target_ts, pixel_bytes)


def install(monkeypatch: pytest.MonkeyPatch) -> Behaviour:
    """Put the fake in place of storescu.dataset.compress for one test."""
    global BEHAVIOUR
    BEHAVIOUR = Behaviour()
    module = sys.modules[__name__]
    monkeypatch.setitem(sys.modules, "storescu.dataset.compress", module)
    monkeypatch.setattr(storescu.dataset, "compress", module, raising=False)
    return BEHAVIOUR


class FakeAuto:
    """A stand-in for storescu.run.autocompress.AutoCompress: says what the test says."""

    choice: str | None = "rle"
    seen: list[tuple[str, Any]] = []

    def __init__(self, codecs: Any) -> None:
        self.codecs = tuple(codecs)

    def choose(self, native_pixel_bytes: int, accepted: Any) -> tuple[str | None, str]:
        FakeAuto.seen.append(("choose", (native_pixel_bytes, tuple(accepted))))
        if FakeAuto.choice in accepted:
            return FakeAuto.choice, f"{FakeAuto.choice}: sooner"
        return None, "uncompressed is sooner"

    def observe_association(self, seconds: float) -> None:
        FakeAuto.seen.append(("association", seconds))

    def observe_send(self, wire_bytes: int, seconds: float) -> None:
        FakeAuto.seen.append(("send", (wire_bytes, seconds)))

    def observe_encode(self, codec: str, pixel: int, encoded: int, seconds: float) -> None:
        FakeAuto.seen.append(("encode", (codec, pixel, encoded)))


def install_auto(monkeypatch: pytest.MonkeyPatch) -> type[FakeAuto]:
    import types

    FakeAuto.choice = "rle"
    FakeAuto.seen = []
    module = types.ModuleType("storescu.run.autocompress")
    module.AutoCompress = FakeAuto  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "storescu.run.autocompress", module)
    return FakeAuto
