"""--compress end to end against the project's SCP, in process (issue 18).

The pixel layer is replaced by :mod:`tests.helpers.fakecompress` (a real RLE
encoder, pydicom's; the tests choose its fallbacks and failures), so what is
tested here is the run: the proposal, the choice per file, each fallback,
the unknown-length message, the abort and resend after a failure midway, the
report and the summary, with the window, -P, -R, rewriting and the API. The
real encoders against DCMTK and Orthanc are in tests/interop/test_compress_interop.py.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.data import get_testdata_file

import storescu
from storescu.cli.main import main
from storescu.kernel.constants import (
    DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN,
    EXPLICIT_VR_LITTLE_ENDIAN,
    IMPLICIT_VR_LITTLE_ENDIAN,
)
from storescu.kernel.errors import UsageError
from storescu.net.client import AssociationSettings
from storescu.run.options import SendOptions
from storescu.run.results import Outcome, RunResult
from storescu.scp import StoreSCP
from tests.helpers import fakecompress

CT = str(get_testdata_file("CT_small.dcm"))
MR = str(get_testdata_file("MR_small.dcm"))
J2K = str(get_testdata_file("MR_small_jp2klossless.dcm"))
RTPLAN = str(get_testdata_file("rtplan.dcm"))
RLE = "1.2.840.10008.1.2.5"
UNCOMPRESSED = frozenset({EXPLICIT_VR_LITTLE_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN})


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> fakecompress.Behaviour:
    return fakecompress.install(monkeypatch)


def _copies(tmp_path: Path, source: str, count: int) -> list[str]:
    """`count` copies of `source`, each with its own SOP Instance UID."""
    paths = []
    for n in range(count):
        ds = pydicom.dcmread(source)
        uid = pydicom.uid.UID(f"{ds.SOPInstanceUID}.{n + 1}")
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = uid
        path = tmp_path / "src" / f"{n:03d}.dcm"
        path.parent.mkdir(exist_ok=True)
        ds.save_as(path, enforce_file_format=True)
        paths.append(str(path))
    return paths


def _check_received(scp: StoreSCP, sources: list[str], syntax: str) -> None:
    """Each input arrived once, in `syntax`, pixels and every other attribute equal."""
    by_uid = {pydicom.dcmread(p).SOPInstanceUID: p for p in sources}
    assert sorted(r.sop_instance_uid for r in scp.received) == sorted(by_uid)
    for got in scp.received:
        assert got.transfer_syntax == syntax
        assert got.path is not None
        sent, received = pydicom.dcmread(by_uid[got.sop_instance_uid]), pydicom.dcmread(got.path)
        assert [e.tag for e in sent] == [e.tag for e in received]
        for elem in sent:
            if elem.tag != 0x7FE00010:
                assert received[elem.tag].value == elem.value, elem.tag
        if "PixelData" in sent:
            assert np.array_equal(sent.pixel_array, received.pixel_array)


def _send(paths: list[str], port: int, **options: object) -> RunResult:
    settings = options.pop("settings", None)
    return storescu.send_files(
        "127.0.0.1",
        port,
        paths,
        settings=settings,  # type: ignore[arg-type]
        options=SendOptions(halt=False, **options),  # type: ignore[arg-type]
    )


def test_rle_accepted_goes_compressed(tmp_path: Path, fake: fakecompress.Behaviour) -> None:
    paths = _copies(tmp_path, CT, 3)
    with StoreSCP(output_dir=str(tmp_path / "out")) as scp:
        result = _send(paths, scp.port, compress="rle")
    assert [r.outcome for r in result.results] == [Outcome.SENT] * 3
    _check_received(scp, paths, RLE)
    for row in result.results:
        assert row.network_transfer_syntax == RLE and row.compression is None
        assert row.source_bytes == Path(row.path).stat().st_size - 132 - _meta_length(row.path)
        assert 0 < row.bytes < row.source_bytes  # what went on the wire, compressed


def _meta_length(path: str) -> int:
    data = Path(path).read_bytes()
    return int.from_bytes(data[140:144], "little") + 12  # (0002,0000) value + its element


def test_peer_accepting_only_uncompressed_still_gets_every_file(
    tmp_path: Path, fake: fakecompress.Behaviour
) -> None:
    paths = _copies(tmp_path, CT, 2)
    with StoreSCP(output_dir=str(tmp_path / "out"), accepted_syntaxes=UNCOMPRESSED) as scp:
        result = _send(paths, scp.port, compress="rle")
    assert [r.outcome for r in result.results] == [Outcome.SENT] * 2
    _check_received(scp, paths, EXPLICIT_VR_LITTLE_ENDIAN)
    assert all("did not accept" in (r.compression or "") for r in result.results)
    assert fake.opened == []  # nothing was encoded for nothing


def test_peer_accepting_only_the_compressed_context(
    tmp_path: Path, fake: fakecompress.Behaviour
) -> None:
    """What compresses arrives; what the codec cannot carry is not sent, with the reason."""
    ct = _copies(tmp_path, CT, 1)
    fake.refuse["rle"] = "planar configuration not supported"
    with StoreSCP(output_dir=str(tmp_path / "out"), accepted_syntaxes=frozenset({RLE})) as scp:
        refused = _send(ct, scp.port, compress="rle")
        fake.refuse.clear()
        sent = _send(ct, scp.port, compress="rle")
    assert refused.results[0].outcome is Outcome.NOT_SENT
    assert "planar configuration not supported" in (refused.results[0].compression or "")
    assert sent.results[0].outcome is Outcome.SENT
    _check_received(scp, ct, RLE)


def test_not_compressed_goes_uncompressed_with_the_reason(
    tmp_path: Path, fake: fakecompress.Behaviour, caplog: pytest.LogCaptureFixture
) -> None:
    paths = _copies(tmp_path, CT, 2)
    fake.refuse["rle"] = "Bits Stored 16 values out of range"
    report = tmp_path / "run.jsonl"
    with StoreSCP(output_dir=str(tmp_path / "out")) as scp:
        code = main(
            [
                "-v",
                "--compress",
                "rle",
                "--report",
                str(report),
                "127.0.0.1",
                str(scp.port),
                *paths,
            ],
            stdout=io.StringIO(),
            stderr=(err := io.StringIO()),
        )
    assert code == 0
    _check_received(scp, paths, EXPLICIT_VR_LITTLE_ENDIAN)
    rows = [json.loads(line) for line in report.read_text().splitlines()]
    assert [r["compression"] for r in rows] == ["Bits Stored 16 values out of range"] * 2
    assert "sent uncompressed: Bits Stored 16 values out of range" in err.getvalue()


def test_compressed_and_already_compressed_inputs_together(
    tmp_path: Path, fake: fakecompress.Behaviour
) -> None:
    """A J2K file goes as it is (never decompressed and recompressed); the CT is RLE."""
    ct = _copies(tmp_path, CT, 1)
    with StoreSCP(output_dir=str(tmp_path / "out")) as scp:
        result = _send([*ct, J2K], scp.port, compress="rle")
    syntaxes = {Path(r.path).name: r.network_transfer_syntax for r in result.results}
    assert syntaxes == {"000.dcm": RLE, Path(J2K).name: "1.2.840.10008.1.2.4.90"}
    assert [p for p, _ in fake.opened] == ct


@pytest.mark.parametrize("eager", [True, False])
def test_streamed_dataset_of_unknown_length(
    tmp_path: Path, fake: fakecompress.Behaviour, eager: bool
) -> None:
    """The last fragment is marked after the read that exhausts the source, or (a
    source that only says so by a read of 0) by an empty last fragment (PS3.8 E.2)."""
    fake.streamed, fake.eager_exhausted = True, eager
    paths = _copies(tmp_path, MR, 3)
    with StoreSCP(output_dir=str(tmp_path / "out"), max_pdu=4096) as scp:
        result = _send(paths, scp.port, compress="rle", settings=AssociationSettings(max_pdu=4096))
    assert [r.outcome for r in result.results] == [Outcome.SENT] * 3
    _check_received(scp, paths, RLE)
    assert all(r.bytes > 0 for r in result.results)


@pytest.mark.parametrize("window", [1, 8])
def test_verification_failure_midway_resends_uncompressed(
    tmp_path: Path, fake: fakecompress.Behaviour, window: int, caplog: pytest.LogCaptureFixture
) -> None:
    """Aborted mid-message, then sent again uncompressed on a new association: once, stored."""
    fake.streamed, fake.fail_after, fake.failures = True, 3000, 1
    paths = _copies(tmp_path, MR, 4)
    settings = AssociationSettings(max_pdu=4096, max_ops_invoked=window)
    with (
        caplog.at_level("INFO", logger="storescu"),
        StoreSCP(output_dir=str(tmp_path / "out")) as scp,
    ):
        result = _send(paths, scp.port, compress="rle", settings=settings)
    assert "compressing failed after 3000 bytes went out" in caplog.text  # really midway
    assert "ERROR" not in {r.levelname for r in caplog.records}  # never an error
    assert [r.path for r in result.results] == paths  # each accounted once, in order
    assert [r.outcome for r in result.results] == [Outcome.SENT] * 4
    first = result.results[0]
    assert first.network_transfer_syntax == EXPLICIT_VR_LITTLE_ENDIAN
    assert "decoded values differ" in (first.compression or "")
    assert [r.network_transfer_syntax for r in result.results[1:]] == [RLE] * 3
    assert result.associations == 2
    assert len(scp.received) == 4  # the aborted message was never stored
    by_uid = {r.sop_instance_uid: r.transfer_syntax for r in scp.received}
    assert by_uid[first.sop_instance_uid or ""] == EXPLICIT_VR_LITTLE_ENDIAN


def test_window_and_parallel_with_compress(tmp_path: Path, fake: fakecompress.Behaviour) -> None:
    paths = _copies(tmp_path, CT, 12)
    settings = AssociationSettings(max_ops_invoked=4)
    with StoreSCP(output_dir=str(tmp_path / "out")) as scp:
        window = _send(paths, scp.port, compress="rle", settings=settings)
    _check_received(scp, paths, RLE)
    with StoreSCP(output_dir=str(tmp_path / "out2")) as scp:
        parallel = _send(paths, scp.port, compress="rle", parallel=3, settings=settings)
    _check_received(scp, paths, RLE)
    for result in (window, parallel):
        assert [r.path for r in result.results] == paths
        assert {r.outcome for r in result.results} == {Outcome.SENT}


def test_required_only_and_rewriting(tmp_path: Path, fake: fakecompress.Behaviour) -> None:
    from storescu.dataset.rewriteopts import RewriteOptions, parse_override

    paths = _copies(tmp_path, CT, 2)
    rewrite = RewriteOptions(overrides=(parse_override("PatientName=ANON^COMPRESSED"),))
    with StoreSCP(output_dir=str(tmp_path / "out")) as scp:
        result = _send(paths, scp.port, compress="rle", required_only=True, rewrite=rewrite)
    assert {r.network_transfer_syntax for r in result.results} == {RLE}
    for got in scp.received:
        assert got.transfer_syntax == RLE and got.path is not None
        received = pydicom.dcmread(got.path)
        assert received.PatientName == "ANON^COMPRESSED"
        assert np.array_equal(received.pixel_array, pydicom.dcmread(CT).pixel_array)


def test_deflate_also_for_objects_without_pixel_data(
    tmp_path: Path, fake: fakecompress.Behaviour
) -> None:
    with StoreSCP(output_dir=str(tmp_path / "out")) as scp:
        result = _send([CT, RTPLAN], scp.port, compress="deflate")
    assert [r.network_transfer_syntax for r in result.results] == [
        DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN
    ] * 2
    assert {r.transfer_syntax for r in scp.received} == {DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN}
    assert fake.opened == []


def test_send_datasets_with_compress(tmp_path: Path, fake: fakecompress.Behaviour) -> None:
    ds = pydicom.dcmread(CT)
    with StoreSCP(output_dir=str(tmp_path / "out")) as scp:
        result = storescu.send_datasets("127.0.0.1", scp.port, [ds], compress="rle")
    assert result.results[0].network_transfer_syntax == RLE
    received = pydicom.dcmread(scp.received[0].path or "")
    assert np.array_equal(received.pixel_array, ds.pixel_array)


def test_missing_encoder_stops_before_any_association(
    tmp_path: Path, fake: fakecompress.Behaviour
) -> None:
    fake.available = ()
    with StoreSCP() as scp:
        with pytest.raises(UsageError, match=r"storescu\[codecs\]"):
            storescu.send_files("127.0.0.1", scp.port, [CT], compress="jpeg-ls")
        err = io.StringIO()
        code = main(
            ["--compress", "htj2k", "127.0.0.1", str(scp.port), CT],
            stdout=io.StringIO(),
            stderr=err,
        )
        assert scp.associations == 0
    assert code == 1
    assert "--compress htj2k needs an encoder: pip install 'storescu[codecs]'" in err.getvalue()


def test_summary_gives_bytes_read_against_bytes_sent(
    tmp_path: Path, fake: fakecompress.Behaviour
) -> None:
    paths = _copies(tmp_path, CT, 2)
    err = io.StringIO()
    with StoreSCP() as scp:
        code = main(
            ["--compress", "rle", "127.0.0.1", str(scp.port), *paths],
            stdout=io.StringIO(),
            stderr=err,
        )
    assert code == 0
    assert " sent (" in err.getvalue() and " read, " in err.getvalue()


@pytest.mark.parametrize("parallel", [1, 2])
def test_auto_decides_per_file_and_learns_from_each_store(
    tmp_path: Path,
    fake: fakecompress.Behaviour,
    monkeypatch: pytest.MonkeyPatch,
    parallel: int,
) -> None:
    """auto is asked before each native file, and sees each association, store and encoding."""
    auto = fakecompress.install_auto(monkeypatch)
    paths = _copies(tmp_path, CT, 4)
    with StoreSCP(output_dir=str(tmp_path / "out")) as scp:
        result = _send([*paths, J2K], scp.port, compress="auto", parallel=parallel)
    assert {r.network_transfer_syntax for r in result.results[:4]} == {RLE}
    assert result.results[4].network_transfer_syntax == "1.2.840.10008.1.2.4.90"  # as it is
    kinds = [kind for kind, _ in auto.seen]
    assert kinds.count("choose") == 4  # the J2K file is never a candidate
    assert kinds.count("encode") == 4 and kinds.count("send") >= 4
    assert "association" in kinds
    sends = [value for kind, value in auto.seen if kind == "send"]
    assert all(wire > 0 and seconds > 0 for wire, seconds in sends)
