"""Send the whole corpus to every peer; every received dataset must equal the sent one.

The corpus: every uncompressed file shipped in the pydicom wheel (implicit LE,
explicit LE, explicit BE; ~107 files) plus the generated 512x512 CT in those three
syntaxes. Files whose SOP class is in the seed's list go with the default proposal;
the others (e.g. Segmentation) in a second run with ``-R``, as a DCMTK user must.
The ~100 MiB file is sent once per peer, in ``test_large.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from pydicom import dcmread
from pydicom.uid import ExplicitVRBigEndian, ExplicitVRLittleEndian, ImplicitVRLittleEndian

from tests.conftest import GeneratedCT
from tests.helpers.data import UNCOMPRESSED_SYNTAXES, DicomFile, describe_file
from tests.helpers.matching import (
    assert_received_all,
    sop_instance_uid,
    transfer_syntax,
    unique_uid_batches,
)
from tests.helpers.peers import OrthancPeer, OurScpPeer, PynetdicomPeer, StorescpPeer
from tests.helpers.sender import SendResult, send_to

pytestmark = pytest.mark.interop

EXPLICIT: frozenset[str] = frozenset({ExplicitVRLittleEndian, ExplicitVRBigEndian})


class Corpus:
    def __init__(self, pydicom_files: list[DicomFile], ct: GeneratedCT) -> None:
        files = list(pydicom_files)
        for path in ct.all:
            info = describe_file(path)
            assert info is not None
            files.append(info)
        self.files = files
        self.default = [f.path for f in files if f.in_seed_list]
        self.required = [f.path for f in files if not f.in_seed_list]

    @property
    def paths(self) -> list[Path]:
        return self.default + self.required


@pytest.fixture(scope="module")
def corpus(pydicom_files: list[DicomFile], generated_ct: GeneratedCT) -> Corpus:
    return Corpus(pydicom_files, generated_ct)


def send_corpus(peer: object, files: list[Path], required: list[Path], *options: str) -> str:
    """Send with the default proposal, then the non-seed classes with -R; return logs."""
    results: list[SendResult] = []
    if files:
        results.append(send_to(peer, files, *options))
    if required:
        results.append(send_to(peer, required, "-R", *options))
    return "\n".join(r.describe(limit=3000) for r in results)


# --- (a) DCMTK storescp, four accepted-syntax modes x two proposal styles --------------

#: storescp option -> the syntax it picks from a combined (+C) context.
STORESCP_MODES = {
    "default": ([], ExplicitVRLittleEndian),
    "xi": (["+xi"], ImplicitVRLittleEndian),
    "xe": (["+xe"], ExplicitVRLittleEndian),
    "xb": (["+xb"], ExplicitVRBigEndian),
}


@pytest.mark.parametrize("combine", [False, True], ids=["separate", "combined"])
@pytest.mark.parametrize("mode", list(STORESCP_MODES))
def test_corpus_to_dcmtk_storescp(
    dcmtk_storescp: Callable[..., StorescpPeer], corpus: Corpus, mode: str, combine: bool
) -> None:
    scp_args, combined_choice = STORESCP_MODES[mode]
    peer = dcmtk_storescp(*scp_args)
    options = ["+C"] if combine else []
    log = send_corpus(peer, corpus.default, corpus.required, *options)
    pairs = assert_received_all(corpus.paths, peer.received_files(), log)

    # storescp writes in the network syntax (+t=), so the file shows what was used.
    for sent, received in pairs:
        got = transfer_syntax(received)
        expected: set[str]
        if combine:
            expected = {str(combined_choice)}
        elif mode == "xi":
            expected = {str(ImplicitVRLittleEndian)}  # the explicit-only context is refused
        elif transfer_syntax(sent) in EXPLICIT:
            expected = {transfer_syntax(sent)}  # the file's own syntax was accepted
        else:
            expected = set(EXPLICIT)  # implicit not accepted next to explicit: convert
        assert got in expected, f"{sent.name} arrived as {got}, expected one of {expected}"


# --- (b) Orthanc ----------------------------------------------------------------------


def test_corpus_to_orthanc(orthanc: OrthancPeer, corpus: Corpus, tmp_path: Path) -> None:
    """Orthanc keeps one instance per UID: send batches of unique UIDs, check, clear."""
    required = set(corpus.required)
    batches = unique_uid_batches(corpus.paths)
    assert len(batches) >= 2
    for batch in batches:
        log = send_corpus(
            orthanc,
            [p for p in batch if p not in required],
            [p for p in batch if p in required],
        )
        assert len(orthanc.instances()) == len(batch), log
        assert_received_all(batch, orthanc.received_files(), log)
        orthanc.clear()


# --- (c) pynetdicom -------------------------------------------------------------------


def test_corpus_to_pynetdicom(
    pynetdicom_scp: Callable[..., PynetdicomPeer], corpus: Corpus
) -> None:
    peer = pynetdicom_scp()
    log = send_corpus(peer, corpus.default, corpus.required)
    assert_received_all(corpus.paths, peer.received_files(), log)
    for request in peer.requests:
        assert request.transfer_syntax in UNCOMPRESSED_SYNTAXES
        assert transfer_syntax(request.path) == request.transfer_syntax
        # The command's Affected SOP Class/Instance UIDs are the dataset's (as DCMTK
        # does; storescp and Orthanc answer 0xA900 otherwise). Some pydicom files'
        # meta headers disagree with their datasets (rtplan.dcm, rtdose*.dcm).
        ds = dcmread(request.path, stop_before_pixels=True)
        assert (request.sop_class_uid, request.sop_instance_uid) == (
            ds.SOPClassUID,
            ds.SOPInstanceUID,
        ), request.path
    peer.wait_for_associations_closed()
    assert [a.outcome for a in peer.associations] == ["released", "released"]


# --- (d) the project's SCP ------------------------------------------------------------


def test_corpus_to_our_scp(our_scp: Callable[..., OurScpPeer], corpus: Corpus) -> None:
    peer = our_scp()
    log = send_corpus(peer, corpus.default, corpus.required)
    pairs = assert_received_all(corpus.paths, peer.received_files(), log)
    records = {Path(r["file"]).name: r for r in peer.records()}
    for sent, received in pairs:
        record = records[received.name]
        assert record["sop_instance_uid"] == sop_instance_uid(sent)
        assert record["transfer_syntax"] == transfer_syntax(received)
        assert record["calling_aet"] == "STORESCU"
