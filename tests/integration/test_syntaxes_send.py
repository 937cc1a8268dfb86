"""Transfer syntaxes end to end against the project's SCP, in process (loopback).

Decompression for a peer that accepts only uncompressed syntaxes (lossless by default,
lossy with +dly, never with -dn, bounded by --decompress-limit), the files' own
syntaxes proposed by default (+fs) or not (-fs), -xd with +cl, -u, -xf profiles,
and files of 70 SOP classes over several associations.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.data import get_testdata_file
from pydicom.uid import generate_uid

import storescu
from storescu.cli.main import main
from storescu.dataset.conversion import Conversion
from storescu.kernel.constants import (
    DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN,
    EXPLICIT_VR_LITTLE_ENDIAN,
    IMPLICIT_VR_LITTLE_ENDIAN,
)
from storescu.run.options import SendOptions
from storescu.run.results import Outcome
from storescu.scp import StoreSCP

RLE = str(get_testdata_file("MR_small_RLE.dcm"))
JLS = str(get_testdata_file("MR_small_jpeg_ls_lossless.dcm"))
JPEG = str(get_testdata_file("SC_rgb_jpeg_dcmtk.dcm"))  # lossy JPEG baseline
YBR = str(get_testdata_file("examples_ybr_color.dcm"))  # lossy, 6.6 MiB decoded
CT = str(get_testdata_file("CT_small.dcm"))
IMPLICIT_ONLY = frozenset({IMPLICIT_VR_LITTLE_ENDIAN})


def _cli(*argv: str) -> tuple[int, str]:
    err = io.StringIO()
    code = main(list(argv), stdout=io.StringIO(), stderr=err)
    return code, err.getvalue()


def _pixels(path: str | None) -> np.ndarray:
    assert path is not None
    return pydicom.dcmread(path).pixel_array


def test_lossless_files_are_decompressed_lossy_ones_need_dly(tmp_path: Path) -> None:
    with StoreSCP(output_dir=str(tmp_path), accepted_syntaxes=IMPLICIT_ONLY) as scp:
        code, err = _cli("--no-halt", "127.0.0.1", str(scp.port), RLE, JPEG, JLS, CT)
        assert code == 3, err
        assert [r.transfer_syntax for r in scp.received] == [IMPLICIT_VR_LITTLE_ENDIAN] * 3
        for sent, got in zip((RLE, JLS, CT), scp.received, strict=True):
            assert np.array_equal(_pixels(got.path), _pixels(sent))
        assert (
            f"E: cannot send {JPEG}: cannot convert from 'JPEG Baseline' to 'Little Endian "
            "Implicit': 'JPEG Baseline' is lossy compression, decompressed only with +dly "
            "(--decompress-lossy); the peer accepted SecondaryCaptureImageStorage only as "
            "'Little Endian Implicit'"
        ) in err
        code, err = _cli("+dly", "127.0.0.1", str(scp.port), JPEG)
        assert code == 0, err
        received = pydicom.dcmread(scp.received[-1].path)
        assert received.PhotometricInterpretation == "RGB"  # was YBR_FULL
        assert np.array_equal(received.pixel_array, _pixels(JPEG))


def test_never_decompress_and_the_size_limit(tmp_path: Path) -> None:
    with StoreSCP(output_dir=str(tmp_path), accepted_syntaxes=IMPLICIT_ONLY) as scp:
        code, err = _cli("-dn", "127.0.0.1", str(scp.port), RLE)
        assert code == 1 and "nothing is decompressed with -dn" in err, err
        code, err = _cli("+dly", "--decompress-limit", "1", "127.0.0.1", str(scp.port), YBR)
        assert code == 1, err
        assert "would need 7 MiB, more than the limit of 1 MiB" in err, err
        assert scp.received == []


def test_own_compressed_syntax_is_proposed_unless_fs(tmp_path: Path) -> None:
    with StoreSCP(output_dir=str(tmp_path)) as scp:  # accepts every syntax
        code, err = _cli("+v", "127.0.0.1", str(scp.port), RLE, JPEG)
        assert code == 0, err
        assert [r.transfer_syntax for r in scp.received] == [
            "1.2.840.10008.1.2.5",
            "1.2.840.10008.1.2.4.50",
        ]
        assert "=RLE Lossless" in err  # in the +v proposal
        code, err = _cli("-fs", "--no-halt", "127.0.0.1", str(scp.port), RLE, JPEG)
        assert code == 3, err  # the lossless one decompressed, the lossy one not sent
        assert scp.received[-1].transfer_syntax == EXPLICIT_VR_LITTLE_ENDIAN
        assert "'JPEG Baseline' is lossy compression" in err


def test_api_decompression_options(tmp_path: Path) -> None:
    with StoreSCP(output_dir=str(tmp_path), accepted_syntaxes=IMPLICIT_ONLY) as scp:
        options = SendOptions(conversion=Conversion(decompress="lossy"))
        result = storescu.send_files("127.0.0.1", scp.port, [JPEG], options=options)
        assert [r.outcome for r in result.results] == [Outcome.SENT]
        assert result.results[0].network_transfer_syntax == IMPLICIT_VR_LITTLE_ENDIAN
        # In-memory compressed datasets are decompressed too.
        result = storescu.send_datasets("127.0.0.1", scp.port, [pydicom.dcmread(RLE)])
        assert result.results[0].outcome is Outcome.SENT, result.results[0].error


def test_deflate_with_level(tmp_path: Path) -> None:
    deflated_only = frozenset({DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN})
    with StoreSCP(output_dir=str(tmp_path), accepted_syntaxes=deflated_only) as scp:
        code, err = _cli("-xd", "+cl", "9", "127.0.0.1", str(scp.port), CT, RLE)
        assert code == 0, err  # the RLE file is decompressed, then deflated
        assert [r.transfer_syntax for r in scp.received] == [DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN] * 2
        received = pydicom.dcmread(scp.received[0].path)
        assert received.PatientName == "CompressedSamples^CT1"
        assert np.array_equal(received.pixel_array, _pixels(CT))


def test_disable_new_vrs(tmp_path: Path) -> None:
    ds = pydicom.dcmread(CT)
    ds.add_new(0x00287FE0, "UT", "http://example.org/pixels")  # Pixel Data Provider URL
    ds.add_new(0x00081190, "UR", "http://example.org/retrieve")
    source = tmp_path / "new_vrs.dcm"
    ds.save_as(source)
    with StoreSCP(output_dir=str(tmp_path / "in")) as scp:
        code, err = _cli("-u", "127.0.0.1", str(scp.port), str(source))
        assert code == 0, err
        received = pydicom.dcmread(scp.received[0].path)
    assert received.file_meta.TransferSyntaxUID == EXPLICIT_VR_LITTLE_ENDIAN
    assert received["PixelDataProviderURL"].VR == "OB"
    assert received["RetrieveURL"].VR == "OB"
    assert received["PixelDataProviderURL"].value.rstrip() == b"http://example.org/pixels"


def test_config_file_profile(tmp_path: Path) -> None:
    config = tmp_path / "site.cfg"
    config.write_text(
        "[[TransferSyntaxes]]\n[JLS]\nTransferSyntax1 = JPEGLSLossless\n"
        "[Uncompressed]\nTransferSyntax1 = LittleEndianImplicit\n"
        "[[PresentationContexts]]\n[MR]\n"
        "PresentationContext1 = MRImageStorage\\JLS\n"
        "PresentationContext2 = MRImageStorage\\Uncompressed\n"
        "[[Profiles]]\n[Site]\nPresentationContexts = MR\n"
    )
    with StoreSCP(output_dir=str(tmp_path / "in")) as scp:
        code, err = _cli("+v", "-xf", str(config), "Site", "127.0.0.1", str(scp.port), JLS, RLE)
        assert code == 0, err
        assert [r.transfer_syntax for r in scp.received] == [
            "1.2.840.10008.1.2.4.80",  # in the profile
            "1.2.840.10008.1.2.5",  # the file's own, added to the profile (+fs)
        ]
        code, err = _cli("-xf", str(config), "Site", "127.0.0.1", str(scp.port), CT)
        assert code == 1 and "No presentation context for: (CT)" in err
        code, err = _cli("-xf", str(tmp_path / "nope.cfg"), "Site", "127.0.0.1", "104", CT)
        assert code == 1 and "storescu: cannot read config file" in err


def test_seventy_sop_classes_two_associations(tmp_path: Path) -> None:
    files = []
    for index in range(70):
        ds = pydicom.dcmread(CT)
        ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = f"1.2.840.10008.5.1.4.1.1.{index}"
        ds.SOPInstanceUID = generate_uid(entropy_srcs=["seventy", str(index)])
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        path = tmp_path / f"c{index:02d}.dcm"
        ds.save_as(path)
        files.append(str(path))
    with StoreSCP() as scp:  # accepts any class under the storage root
        options = SendOptions(required_only=True)
        result = storescu.send_files("127.0.0.1", scp.port, files, options=options)
        assert result.associations == 2
        assert [r.path for r in result.results] == files
        assert {r.outcome for r in result.results} == {Outcome.SENT}
        assert [r.association for r in result.results] == [1] * 64 + [2] * 6
        assert [r.sop_instance_uid for r in scp.received] == [
            r.sop_instance_uid for r in result.results
        ]


def test_file_classes_beyond_the_builtin_list(tmp_path: Path) -> None:
    ds = pydicom.dcmread(CT)
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.2.1"
    enhanced = tmp_path / "enhanced.dcm"
    ds.save_as(enhanced)
    with StoreSCP() as scp:
        code, err = _cli("-v", "-fc", "127.0.0.1", str(scp.port), str(enhanced))
        assert code == 1 and "its SOP class was not proposed: -R or +fc" in err, err
        code, err = _cli("+fc", "127.0.0.1", str(scp.port), str(enhanced))
        assert code == 0, err


def test_file_classes_are_proposed_by_default() -> None:
    """Issue 14.1: a Segmentation (not in DCMTK's list) goes out without +fc, as with
    dcmsend; DCMTK's list and order come first, the file's class after it."""
    seg = str(get_testdata_file("liver_1frame.dcm"))
    with StoreSCP() as scp:
        code, err = _cli("+v", "127.0.0.1", str(scp.port), seg)
        assert code == 0, err
        assert [r.sop_class_uid for r in scp.received] == ["1.2.840.10008.5.1.4.1.1.66.4"]
        proposed = [
            line.split("=", 1)[1] for line in err.splitlines() if "Abstract Syntax: =" in line
        ]
        classes = list(dict.fromkeys(proposed))
        assert classes[-1] == "1.2.840.10008.5.1.4.1.1.66.4" and len(classes) == 63, classes
        result = storescu.send_files("127.0.0.1", scp.port, [seg])  # the API's default too
        assert result.all_stored, result.results


@pytest.mark.parametrize("option", ["-xs", "-xv", "-xjl", "-xr", "-xm"])
def test_compressed_proposals_still_send_uncompressed_files(tmp_path: Path, option: str) -> None:
    """-x? proposes its syntax first: an uncompressed file goes on the fallback context
    (none for video: -xm proposes MPEG2 only, which this SCP does not accept)."""
    with StoreSCP(output_dir=str(tmp_path)) as scp:
        code, err = _cli("+v", option, "127.0.0.1", str(scp.port), CT)
        if option == "-xm":
            assert code == 1 and "No Acceptable Presentation Contexts" in err
        else:
            assert code == 0, err
            assert scp.received[0].transfer_syntax == EXPLICIT_VR_LITTLE_ENDIAN
