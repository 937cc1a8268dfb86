"""Dataset rewriting through the sender, against the project's SCP in process.

What the peer receives (counts, groups, values, pixel data), what the per-file
results report, the command line's checks before any association, and that
runs without rewriting options never load the rewriting code.
"""

from __future__ import annotations

import io
import itertools
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pydicom
import pytest
from pydicom.data import get_testdata_file

import storescu
from storescu.cli.main import main, rewrite_options
from storescu.cli.options import Options
from storescu.cli.parser import parse_args
from storescu.dataset.rewrite import RewriteOptions, parse_override
from storescu.kernel.constants import IMPLICIT_VR_LITTLE_ENDIAN
from storescu.kernel.errors import UsageError
from storescu.run.options import SendOptions
from storescu.run.results import Outcome
from storescu.scp import StoreSCP
from tests.helpers.compare import assert_same_dataset

CT = str(get_testdata_file("CT_small.dcm"))
MR_BE = str(get_testdata_file("MR_small_bigendian.dcm"))
RTPLAN = str(get_testdata_file("rtplan.dcm"))
JPEG2000 = str(get_testdata_file("JPEG2000.dcm"))

# Attributes +II may change (PS3.3 C.7.1.1, C.7.2.1, C.7.3.1, C.12.1).
INVENTED = frozenset(
    {0x00100010, 0x00100020, 0x0020000D, 0x00200010, 0x00080050, 0x0020000E, 0x00200011}
    | {0x00080018, 0x00200013}
)


@pytest.fixture
def scp(tmp_path: Path):  # type: ignore[no-untyped-def]
    with StoreSCP(output_dir=str(tmp_path / "in")) as server:
        yield server


def _cli(*argv: str) -> tuple[int, str]:
    err = io.StringIO()
    code = main(list(argv), stdout=io.StringIO(), stderr=err)
    return code, err.getvalue()


def _received(scp: StoreSCP) -> list[pydicom.Dataset]:
    return [pydicom.dcmread(r.path) for r in scp.received if r.path is not None]


def _groups(values: list[str]) -> list[int]:
    return [len(list(g)) for _, g in itertools.groupby(values)]


def test_results_name_the_sent_and_the_original_uids(scp: StoreSCP) -> None:
    options = SendOptions(repeat=2, rewrite=RewriteOptions(invent=True))
    result = storescu.send_files("127.0.0.1", scp.port, [CT, MR_BE], options=options)
    assert [r.outcome for r in result.results] == [Outcome.SENT] * 4
    originals = [pydicom.dcmread(p).SOPInstanceUID for p in (CT, CT, MR_BE, MR_BE)]
    assert [r.original_sop_instance_uid for r in result.results] == originals
    sent = [r.sop_instance_uid for r in result.results]
    assert len(set(sent)) == 4 and not set(sent) & set(originals)
    # The C-STORE-RQ named the new UIDs, and so do the datasets received.
    assert [r.sop_instance_uid for r in scp.received] == sent
    assert [ds.SOPInstanceUID for ds in _received(scp)] == sent


def test_without_rewriting_results_keep_the_file_uid(scp: StoreSCP) -> None:
    result = storescu.send_files("127.0.0.1", scp.port, [CT])
    assert result.results[0].sop_instance_uid == pydicom.dcmread(CT).SOPInstanceUID
    assert result.results[0].original_sop_instance_uid is None


def test_invent_series_counts_across_repeat(scp: StoreSCP) -> None:
    code, err = _cli("-v", "+IR", "3", "--repeat", "2", "127.0.0.1", str(scp.port), *[CT] * 10)
    assert code == 0, err
    got = _received(scp)
    assert len({ds.SOPInstanceUID for ds in got}) == 20
    assert _groups([ds.SeriesInstanceUID for ds in got]) == [3] * 6 + [2]
    assert len({ds.SeriesInstanceUID for ds in got}) == 7
    assert len({ds.StudyInstanceUID for ds in got}) == 1
    assert len({ds.PatientID for ds in got}) == 1
    assert [ds.InstanceNumber for ds in got[:4]] == [0, 1, 2, 0]
    assert err.count("I: Inventing Identifying Information") == 20
    assert "I: Inventing Identifying Information (pa0, st0, se6, im1):" in err
    for ds in got:  # everything else as it was
        assert_same_dataset(CT, ds, ignore=INVENTED)


def test_invent_study_and_patient_boundaries(scp: StoreSCP) -> None:
    code, err = _cli("+IR", "1", "+IS", "2", "+IP", "2", "127.0.0.1", str(scp.port), *[CT] * 10)
    assert code == 0, err
    got = _received(scp)
    assert len({ds.SeriesInstanceUID for ds in got}) == 10
    assert _groups([ds.StudyInstanceUID for ds in got]) == [2] * 5
    assert _groups([ds.PatientID for ds in got]) == [4, 4, 2]
    assert _groups([str(ds.PatientName) for ds in got]) == [4, 4, 2]
    assert len({ds.AccessionNumber for ds in got}) == 5


def test_overrides_reach_the_peer_after_conversion(tmp_path: Path) -> None:
    only_implicit = frozenset({IMPLICIT_VR_LITTLE_ENDIAN})
    with StoreSCP(output_dir=str(tmp_path), accepted_syntaxes=only_implicit) as server:
        code, err = _cli(
            "-s",
            "PatientName=ANON",
            "-s",
            "(0010,0020)=X",
            "-s",
            "00400275[0].00400009=Y",
            "127.0.0.1",
            str(server.port),
            MR_BE,
            CT,
        )
        assert code == 0, err
        received = list(server.received)
    for sent, got in zip((MR_BE, CT), received, strict=True):
        assert got.transfer_syntax == IMPLICIT_VR_LITTLE_ENDIAN
        assert got.path is not None
        ds = pydicom.dcmread(got.path)
        assert (ds.PatientName, ds.PatientID) == ("ANON", "X")
        assert ds.RequestAttributesSequence[0].ScheduledProcedureStepID == "Y"
        # Pixel data (byte-swapped from big endian) and the rest are intact.
        assert_same_dataset(sent, ds, ignore=frozenset({0x00100010, 0x00100020, 0x00400275}))


def test_unconvertible_file_is_refused_before_inventing(scp: StoreSCP) -> None:
    """A compressed file on an uncompressed context (-fs: its own syntax is not
    proposed; lossy JPEG 2000 is not decompressed without +dly) is refused
    before the counters move: the next file is still image 0.
    (Rewriting in a compressed file's own syntax: tests/unit/dataset/test_rewrite.py.)"""
    code, err = _cli("-v", "--no-halt", "-fs", "+II", "127.0.0.1", str(scp.port), JPEG2000, CT)
    assert code == 3, err
    assert "cannot convert from 'JPEG 2000'" in err
    assert err.count("Inventing Identifying Information") == 1
    assert "Inventing Identifying Information (pa0, st0, se0, im0)" in err
    assert len(scp.received) == 1


def test_in_memory_datasets_are_rewritten_on_a_copy(scp: StoreSCP) -> None:
    ds = pydicom.dcmread(CT)
    before = ds.SOPInstanceUID
    options = SendOptions(rewrite=RewriteOptions(uid_suffix=".5"))
    result = storescu.send_datasets("127.0.0.1", scp.port, [ds], options=options)
    assert result.results[0].sop_instance_uid == before + ".5"
    assert ds.SOPInstanceUID == before
    assert _received(scp)[0].SOPInstanceUID == before + ".5"


def test_a_uid_too_long_for_the_suffix_is_not_sent(tmp_path: Path, scp: StoreSCP) -> None:
    ds = pydicom.dcmread(CT)
    ds.SOPInstanceUID = "1.2." + "3" * 58
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    long_uid = tmp_path / "long.dcm"
    ds.save_as(long_uid)
    code, err = _cli("--uid-suffix", ".77", "127.0.0.1", str(scp.port), str(long_uid), CT)
    assert code == 1
    assert "longer than 64 characters" in err
    assert scp.received == []  # halted at the first file
    result = storescu.send_files(
        "127.0.0.1",
        scp.port,
        [str(long_uid), CT],
        options=SendOptions(halt=False, rewrite=RewriteOptions(uid_suffix=".77")),
    )
    assert [r.outcome for r in result.results] == [Outcome.NOT_SENT, Outcome.SENT]
    assert result.results[0].error is not None and "UID suffix" in result.results[0].error


@pytest.mark.parametrize(
    "argv",
    [
        ["-s", "NoSuchKeyword=1"],
        ["-s", "PatientName=A\\B"],
        ["-s", "(0011,0010)=private"],
        ["-s", "Rows=big"],
        ["--uid-suffix", ".01"],
        ["--uid-root", "1.02.3"],
        ["+IR", "0"],
        ["+II", "--uid-root", "1." + "2" * 41, "--uid-suffix", ".1"],
    ],
)
def test_bad_rewriting_options_fail_before_association(scp: StoreSCP, argv: list[str]) -> None:
    code, err = _cli(*argv, "127.0.0.1", str(scp.port), CT)
    assert code == 1
    assert err.startswith("storescu: ")
    assert scp.associations == 0 and scp.received == []


def test_retries_resend_the_same_invented_instance(tmp_path: Path) -> None:
    rewrite = RewriteOptions(invent=True)
    options = SendOptions(repeat=2, retries=1, retry_delay=0.01, rewrite=rewrite, halt=False)
    with StoreSCP(status=0xA700) as server:
        result = storescu.send_files("127.0.0.1", server.port, [CT], options=options)
        sent = [r.sop_instance_uid for r in server.received]
    assert [r.attempts for r in result.results] == [2, 2]
    assert sent[0] == sent[1] != sent[2] == sent[3]


def test_option_mapping() -> None:
    def options(*argv: str) -> Options:
        parsed = parse_args([*argv, "pacs", "104", "a.dcm"])
        assert isinstance(parsed, Options)
        return parsed

    assert rewrite_options(options()) is None
    assert rewrite_options(options("--uid-root", "1.2.3")) is None  # nothing to invent
    implied = rewrite_options(options("+IS", "7", "--uid-root", "1.2.3"))
    assert implied == RewriteOptions(invent=True, series_per_study=7, uid_root="1.2.3.")
    order = rewrite_options(options("-s", "PatientID=1", "-up", "-s", "PatientID=2"))
    assert order is not None and order.fix_uid_padding
    assert order.overrides == (parse_override("PatientID=1"), parse_override("PatientID=2"))
    with pytest.raises(UsageError):
        rewrite_options(options("+II", "--uid-root", "1." + "2" * 41, "--uid-suffix", "1"))


def test_fast_path_never_loads_the_rewriting_code(scp: StoreSCP) -> None:
    """Without rewriting options neither storescu.dataset.rewrite nor pydicom is imported."""
    probe = (
        "import sys\n"
        "from storescu.cli.main import main\n"
        f"code = main(['127.0.0.1', '{scp.port}', {CT!r}, {MR_BE!r}])\n"
        "loaded = [m for m in ('pydicom', 'storescu.dataset.rewrite', 'storescu.dataset.transcode')"
        " if m in sys.modules]\n"
        "print(code, loaded)\n"
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, env=env
    )
    assert out.stdout.strip() == "0 []", out.stderr
    assert Counter(r.sop_class_uid for r in scp.received).total() == 2
