"""Storage Commitment against the project's SCP, in-process: both report modes, chosen
failures, checking later, --skip-sent, and the call-back listener's refusals."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydicom.data import get_testdata_file

from storescu.cli.main import main
from storescu.kernel.constants import EXPLICIT_VR_LITTLE_ENDIAN
from storescu.kernel.errors import AssociationRejected, NegotiationError
from storescu.net.client import AssociationSettings, StoreAssociation
from storescu.net.commitlistener import CommitmentListener
from storescu.net.commitment import COMMITTED, CommitmentAssociation, CommitmentTracker
from storescu.protocol import commitment as sc
from storescu.protocol.pdu import PresentationContextRQ
from storescu.scp import StoreSCP
from storescu.scp.commitment import CommitmentConfig

CT = str(get_testdata_file("CT_small.dcm"))
MR = str(get_testdata_file("MR_small.dcm"))
CT_UID = "1.3.6.1.4.1.5962.1.1.1.1.1.20040119072730.12322"
CT_CLASS = "1.2.840.10008.5.1.4.1.1.2"


def _cli(*argv: str) -> tuple[int, str]:
    err = io.StringIO()
    code = main(list(argv), io.StringIO(), err)
    return code, err.getvalue()


def _commitments(report: Path) -> list[object]:
    return [json.loads(line)["commitment"] for line in report.read_text().splitlines()]


@pytest.fixture
def scp_factory() -> Iterator[type[StoreSCP]]:
    started: list[StoreSCP] = []

    class Factory(StoreSCP):
        def __init__(self, **kwargs: object) -> None:
            super().__init__(**kwargs)  # type: ignore[arg-type]
            started.append(self)
            self.start()

    yield Factory
    for scp in started:
        scp.stop()


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_same_association_with_a_chosen_failure(
    scp_factory: type[StoreSCP], tmp_path: Path
) -> None:
    scp = scp_factory(commitment=CommitmentConfig(fail=frozenset({CT_UID}), delay=0.2))
    report = tmp_path / "r.jsonl"
    code, err = _cli("-v", "--commit", "--report", str(report), "127.0.0.1", str(scp.port), CT, MR)
    assert code == 4, err
    assert "Storage Commitment: 1 committed, 1 failed, 0 unconfirmed" in err
    assert "Storage Commitment failed for" in err  # -v names each failure
    assert _commitments(report) == ["failed 0x0110 processing failure", "committed"]
    assert scp.commitment is not None and scp.commitment.report_statuses == [0]


def test_new_association_to_the_listener(scp_factory: type[StoreSCP], tmp_path: Path) -> None:
    port = _free_port()
    config = CommitmentConfig(mode="new", delay=0.5, report_to=("127.0.0.1", port))
    scp = scp_factory(commitment=config)
    report = tmp_path / "r.jsonl"
    code, err = _cli(
        "-v", "--commit", "--commit-port", str(port), "--report", str(report),
        "127.0.0.1", str(scp.port), CT, MR,
    )  # fmt: skip
    assert code == 0, err
    assert "Storage Commitment association from" in err
    assert _commitments(report) == ["committed", "committed"]


def test_commit_check_later_and_skip_sent(scp_factory: type[StoreSCP], tmp_path: Path) -> None:
    scp = scp_factory(commitment=CommitmentConfig())
    report = tmp_path / "r.jsonl"
    code, err = _cli("--report", str(report), "127.0.0.1", str(scp.port), CT, MR)
    assert code == 0, err
    rows = [json.loads(line) for line in report.read_text().splitlines()]
    rows[1]["sop_instance_uid"] = "2.25.99"  # an instance the SCP never received
    report.write_text("".join(json.dumps(r) + "\n" for r in rows))
    code, err = _cli("--commit-check", str(report), "127.0.0.1", str(scp.port))
    assert code == 4, err
    assert _commitments(report) == ["committed", "failed 0x0112 no such object instance"]
    # --skip-sent with --commit: only the committed file counts as done.
    second = tmp_path / "r2.jsonl"
    code, err = _cli(
        "--commit", "--skip-sent", str(report), "--report", str(second),
        "127.0.0.1", str(scp.port), CT, MR,
    )  # fmt: skip
    assert code == 0, err
    rows = [json.loads(line) for line in second.read_text().splitlines()]
    assert [r["outcome"] for r in rows] == ["skipped-already-sent", "sent"]
    assert [r["commitment"] for r in rows] == ["committed", "committed"]


def test_peer_without_commitment(scp_factory: type[StoreSCP]) -> None:
    scp = scp_factory()
    code, err = _cli("--commit", "127.0.0.1", str(scp.port), CT)
    assert code == 4, err
    assert "did not accept the Storage Commitment Push Model SOP Class" in err
    assert "0 committed, 0 failed, 1 unconfirmed" in err


def test_usage_errors() -> None:
    code, err = _cli("--commit-port", "104", "127.0.0.1", "104", CT)
    assert code == 1 and "only allowed with --commit" in err
    code, err = _cli("--commit", "--commit-check", "r.jsonl", "127.0.0.1", "104")
    assert code == 1 and "not allowed with --commit-check" in err


# ---------------------------------------------------------------- the listener


@pytest.fixture
def listener() -> Iterator[CommitmentListener]:
    tracker = CommitmentTracker("MODALITY")
    tracker.add(sc.CommitmentRequest("2.25.7", ((CT_CLASS, CT_UID),)))
    with CommitmentListener(0, tracker, "127.0.0.1", timeout=5) as server:
        yield server


def _settings(called: str) -> AssociationSettings:
    return AssociationSettings(calling_aet="ARCHIVE", called_aet=called, acse_timeout=5)


def _report(uid: str = "2.25.7") -> sc.CommitmentReport:
    return sc.CommitmentReport(uid, ((CT_CLASS, CT_UID),), ())


def test_listener_accepts_the_archive_and_its_report(listener: CommitmentListener) -> None:
    assoc = CommitmentAssociation.open(
        "127.0.0.1", listener.port, _settings("MODALITY"), CommitmentTracker(), as_scp=True
    )
    assert assoc.report(_report()).code == 0
    assert assoc.report(_report()).code == 0  # calling back twice: answered, ignored
    assert assoc.report(_report("2.25.8")).code == 0x0110  # unknown Transaction UID
    assoc.release()
    assert listener.tracker.results[(CT_CLASS, CT_UID)].state == COMMITTED


def test_listener_refuses_another_called_ae(listener: CommitmentListener) -> None:
    start = time.monotonic()
    with pytest.raises(AssociationRejected) as info:
        CommitmentAssociation.open(
            "127.0.0.1", listener.port, _settings("SOMEONE"), CommitmentTracker(), as_scp=True
        )
    assert info.value.reason == 7  # called AE title not recognized
    assert time.monotonic() - start < 5
    assert "called AE title 'SOMEONE' is not ours" in listener.refused[0]


def test_listener_refuses_another_sop_class(listener: CommitmentListener) -> None:
    contexts = (PresentationContextRQ(1, CT_CLASS, (EXPLICIT_VR_LITTLE_ENDIAN,)),)
    with pytest.raises((AssociationRejected, NegotiationError)):
        StoreAssociation.open("127.0.0.1", listener.port, contexts, _settings("MODALITY"))
    assert "no Storage Commitment Push Model context" in listener.refused[0]
    assert not listener.tracker.results


def test_listener_refuses_when_nothing_is_outstanding() -> None:
    with CommitmentListener(0, CommitmentTracker("MODALITY"), "127.0.0.1") as server:
        with pytest.raises(AssociationRejected) as info:
            CommitmentAssociation.open(
                "127.0.0.1", server.port, _settings("MODALITY"), CommitmentTracker(), as_scp=True
            )
        assert info.value.result == 2  # transient
        assert "no report is outstanding" in server.refused[0]
