"""Storage Commitment faults (issue 12, item 7): a lying archive on our association.

A scripted archive (tests/helpers/hostile.py) stores the files, then answers the
N-ACTION-RQ and sends, on the same association: a malformed report, a report for
an unknown Transaction UID, and a report naming an instance we never asked about
next to a real failure and a real commitment (a second report for one transaction is
tested on the call-back listener, tests/integration/test_commitment.py). Nothing is marked
committed that was not; every report is answered; the run ends in bounded time.
"""

from __future__ import annotations

import json
from pathlib import Path

from storescu.protocol import commitment as sc
from storescu.protocol import dimse
from storescu.protocol import pdu as P
from tests.helpers.data import pydicom_file
from tests.helpers.hostile import Channel, HostilePeer
from tests.helpers.sender import run_sender, skip_if_dcmtk_sender

pytestmark = skip_if_dcmtk_sender

STRANGER = ("1.2.840.10008.5.1.4.1.1.2", "2.25.424242")


def _send_message(ch: Channel, context: int, command: bytes, dataset: bytes | None) -> None:
    pdvs = [P.PDV(context, True, True, command)]
    if dataset is not None:
        pdvs.append(P.PDV(context, False, True, dataset))
    ch.send(P.PDataTF(tuple(pdvs)).encode())


def _read_status(ch: Channel, statuses: list[int]) -> None:
    pdu = ch.read_pdu(10)
    assert isinstance(pdu, P.PDataTF)
    command = dimse.decode_command(pdu.pdvs[0].data)
    assert command.command_field == sc.N_EVENT_REPORT_RSP
    statuses.append(command.get_int(dimse.STATUS) or 0)


def test_lying_archive_on_the_same_association(tmp_path: Path) -> None:
    statuses: list[int] = []

    def script(ch: Channel) -> None:
        if ch.index == 0:
            ch.accept()
            ch.serve()
            return
        ch.accept()
        action = ch.read_store()
        assert action is not None and action.data is not None
        explicit = ch.session.accepted[action.context_id][1] == "1.2.840.10008.1.2.1"
        request = sc.decode_request(bytes(action.data), explicit)
        first, second = request.references  # the CT fails 0x0213, the MR is committed
        failed = 0x0213
        ctx = action.context_id
        _send_message(ch, ctx, sc.encode_n_action_rsp(action.message_id, 0), None)
        bad = b"\x08\x00\x99\x11\xff\x00\x00\x00"
        _send_message(ch, ctx, sc.encode_n_event_report_rq(1, 1), bad)
        _read_status(ch, statuses)
        unknown = sc.CommitmentReport("2.25.1", request.references, ())
        _send_message(
            ch, ctx, sc.encode_n_event_report_rq(2, 1), sc.encode_report(unknown, explicit)
        )
        _read_status(ch, statuses)
        real = sc.CommitmentReport(request.transaction_uid, (second, STRANGER), ((*first, failed),))
        _send_message(ch, ctx, sc.encode_n_event_report_rq(3, 2), sc.encode_report(real, explicit))
        _read_status(ch, statuses)
        ch.wait_end(10)

    report = tmp_path / "report.jsonl"
    files = [str(pydicom_file(n)) for n in ("CT_small.dcm", "MR_small.dcm")]
    with HostilePeer(script, keep_data=1 << 20) as peer:
        result = run_sender(
            [
                "--commit",
                "--commit-timeout",
                "20",
                "--report",
                report,
                peer.host,
                str(peer.port),
                *files,
            ],
            timeout=60,
        )
        peer.wait_idle()
    assert peer.failure is None, peer.failure
    assert result.returncode == 4, result.describe()
    assert result.seconds < 30
    assert statuses == [0x0110, 0x0110, 0x0000]
    rows = [json.loads(line) for line in report.read_text().splitlines()]
    assert [r["commitment"] for r in rows] == ["failed 0x0213 resource limitation", "committed"]
    err = result.stderr
    assert "malformed report" in err
    assert "unknown Transaction UID 2.25.1" in err
    assert "not requested" in err
    assert "Traceback" not in err
    assert peer.sessions[1].ending == "release"
