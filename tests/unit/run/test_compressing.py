"""--compress's choice per send (run/compressing.py), with the pixel layer replaced by a fake."""

from __future__ import annotations

import logging

import pytest
from pydicom.data import get_testdata_file

from storescu.kernel.constants import (
    DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN,
    EXPLICIT_VR_LITTLE_ENDIAN,
)
from storescu.kernel.errors import UsageError
from storescu.protocol.negotiation import AcceptedContext, AcceptedContexts
from storescu.run.compressing import (
    CHOICES,
    PIXEL_SYNTAXES,
    Compressing,
    check_encoders,
    compress_contexts,
    compressing_for,
)
from storescu.run.items import inspect_inputs
from storescu.run.options import SendOptions
from tests.helpers import fakecompress

CT = str(get_testdata_file("CT_small.dcm"))
CT_CLASS = "1.2.840.10008.5.1.4.1.1.2"
RLE = "1.2.840.10008.1.2.5"
JLS = "1.2.840.10008.1.2.4.80"
J2K_FILE = str(get_testdata_file("MR_small_jp2klossless.dcm"))


def _accepted(*syntaxes: str, sop_class: str = CT_CLASS) -> AcceptedContexts:
    return AcceptedContexts(
        AcceptedContext(2 * n + 1, sop_class, ts) for n, ts in enumerate(syntaxes)
    )


def test_the_table_matches_the_interface() -> None:
    assert dict(PIXEL_SYNTAXES) == {
        k: v for k, v in fakecompress.CODEC_SYNTAXES.items() if k != "deflate"
    }
    assert CHOICES == fakecompress.COMPRESS_CHOICES


def test_missing_encoder_is_a_usage_error_naming_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    fakecompress.install(monkeypatch).available = ()
    with pytest.raises(UsageError, match=r"storescu\[codecs\]"):
        check_encoders("jpeg-ls")
    check_encoders("deflate")  # zlib is always there
    with pytest.raises(UsageError, match="expected one of"):
        check_encoders("jpeg")


def test_contexts_proposed_per_codec(monkeypatch: pytest.MonkeyPatch) -> None:
    fakecompress.install(monkeypatch).available = ("jpeg-ls", "rle")
    assert compress_contexts(None) == ()
    assert compress_contexts("rle") == ((RLE,),)
    assert compress_contexts("deflate") == ((DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN,),)
    assert compress_contexts("auto") == ((JLS,), (RLE,))


def test_deflate_needs_no_pixel_step() -> None:
    assert compressing_for(SendOptions(compress="deflate")) is None
    assert compressing_for(SendOptions()) is None
    with pytest.raises(UsageError, match="expected one of"):
        compressing_for(SendOptions(compress="lzw"))


def test_accepted_codec_opens_compressed(monkeypatch: pytest.MonkeyPatch) -> None:
    fakecompress.install(monkeypatch)
    (item,) = inspect_inputs([CT], "auto")
    packed = Compressing("rle", ("rle",)).open(
        item, _accepted(EXPLICIT_VR_LITTLE_ENDIAN, RLE), None, 1
    )
    assert packed is not None
    context, reader, instance = packed
    assert context.transfer_syntax == RLE and context.context_id == 3
    assert instance == item.info.sop_instance_uid  # type: ignore[union-attr]
    assert reader.length and reader.length > 0
    assert item.compression is None
    reader.close()


def test_not_compressed_goes_the_ordinary_way_with_the_reason(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    fakecompress.install(monkeypatch).refuse["rle"] = "Bits Stored 13 of 16: not carried"
    (item,) = inspect_inputs([CT], "auto")
    with caplog.at_level(logging.INFO, logger="storescu"):
        packed = Compressing("rle", ("rle",)).open(
            item, _accepted(EXPLICIT_VR_LITTLE_ENDIAN, RLE), None, 1
        )
    assert packed is None
    assert item.compression == "Bits Stored 13 of 16: not carried"
    assert "sent uncompressed: Bits Stored 13 of 16" in caplog.text


def test_refused_context_gives_the_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    behaviour = fakecompress.install(monkeypatch)
    (item,) = inspect_inputs([CT], "auto")
    assert (
        Compressing("rle", ("rle",)).open(item, _accepted(EXPLICIT_VR_LITTLE_ENDIAN), None, 1)
        is None
    )
    assert (
        item.compression is not None
        and "did not accept CTImageStorage as 'RLE Lossless'" in item.compression
    )
    assert behaviour.opened == []  # nothing encoded


def test_already_compressed_file_is_never_recompressed(monkeypatch: pytest.MonkeyPatch) -> None:
    behaviour = fakecompress.install(monkeypatch)
    (item,) = inspect_inputs([J2K_FILE], "auto")
    assert item.info is not None
    accepted = _accepted(item.info.transfer_syntax, RLE, sop_class=item.info.sop_class_uid)
    assert Compressing("rle", ("rle",)).open(item, accepted, None, 1) is None
    assert behaviour.opened == [] and item.compression is None


def test_auto_asks_and_follows_the_decision(monkeypatch: pytest.MonkeyPatch) -> None:
    fakecompress.install(monkeypatch)
    auto = fakecompress.install_auto(monkeypatch)
    (item,) = inspect_inputs([CT], "auto")
    compressing = Compressing("auto", ("jpeg-ls", "rle"))
    accepted = _accepted(EXPLICIT_VR_LITTLE_ENDIAN, RLE)  # jpeg-ls refused by the peer
    packed = compressing.open(item, accepted, None, 1)
    assert packed is not None and packed[0].transfer_syntax == RLE
    assert auto.seen[0] == ("choose", (item.info.dataset_length, ("rle",)))  # type: ignore[union-attr]
    packed[1].close()
    assert ("encode", ("rle", 2 * 128 * 128, packed[1]._reader.encoded_bytes)) in auto.seen  # type: ignore[attr-defined]
    auto.choice = None
    assert compressing.open(item, accepted, None, 2) is None
    assert item.compression == "auto: uncompressed is sooner"


def test_verification_failure_midway_marks_the_item(monkeypatch: pytest.MonkeyPatch) -> None:
    behaviour = fakecompress.install(monkeypatch)
    behaviour.streamed, behaviour.fail_after = True, 1000
    (item,) = inspect_inputs([CT], "auto")
    compressing = Compressing("rle", ("rle",))
    packed = compressing.open(item, _accepted(EXPLICIT_VR_LITTLE_ENDIAN, RLE), None, 1)
    assert packed is not None
    reader = packed[1]
    assert reader.length is None
    buf = bytearray(4096)
    assert reader.readinto(memoryview(buf)) == 1000
    with pytest.raises(fakecompress.VerificationFailed):
        reader.readinto(memoryview(buf))
    assert item.plain
    assert item.compression is not None and "decoded values differ" in item.compression
    assert compressing.midway(item) is True
    assert compressing.midway(item) is False  # once per failure
    # From now on it goes uncompressed.
    assert compressing.open(item, _accepted(EXPLICIT_VR_LITTLE_ENDIAN, RLE), None, 2) is None
