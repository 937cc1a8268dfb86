"""RELIABILITY.md rows 24-35: a peer that breaks PS3.8 / PS3.7, played by the scripted
hostile peer (tests/helpers/hostile.py), which records how the sender ended each
association (invariant 5) and any rule the sender broke in return.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from storescu.protocol import dimse
from storescu.protocol import pdu as P
from tests.faults import files
from tests.faults.invariants import (
    EXIT_FAILURE,
    EXIT_INCOMPLETE,
    EXIT_NETWORK,
    EXIT_SUCCESS,
    TIGHT_MAX_RSS_MB,
    TIMEOUTS,
    CliRun,
    check,
    run_cli,
)
from tests.helpers.hostile import (
    HostilePeer,
    Script,
    Store,
    command_with,
    command_without,
    scenarios,
)

Hostile = Callable[..., HostilePeer]
EXPLICIT_LE = "1.2.840.10008.1.2.1"
JPEG_BASELINE = "1.2.840.10008.1.2.4.50"
CT = files.CT_IMAGE_STORAGE


def run(
    hostile: Hostile, script: Script, report: Path, inputs: list[Path], *options: str
) -> tuple[CliRun, HostilePeer]:
    peer = hostile(script)
    result = run_cli([*TIMEOUTS, *options, peer.host, str(peer.port), *inputs], report=report)
    peer.wait_idle()
    return result, peer


def protocol_error_row(
    hostile: Hostile,
    report: Path,
    ct: Path,
    mr: Path,
    script: Script,
    causes: list[str],
    abort: tuple[int, int],
) -> CliRun:
    """The peer breaks the protocol after the first C-STORE-RQ: that file's outcome
    is unknown, the run halts (the rest not-sent), we A-ABORT, exit 10."""
    result, peer = run(hostile, script, report, [ct, mr])
    check(
        result,
        exit_code=EXIT_NETWORK,
        outcomes={str(ct): "failed-outcome-unknown", str(mr): "not-sent"},
        causes=causes,
        names=[str(ct)],
        sessions=peer.sessions,
        endings=["abort"],
        abort=abort,
    )
    return result


# --- rows 24/25: A-ASSOCIATE-AC length lies -------------------------------------------


@pytest.mark.parametrize("then", ["close", "silence"])
def test_row24_ac_length_larger_than_what_follows(
    hostile: Hostile, report: Path, ct: Path, mr: Path, then: str
) -> None:
    script = scenarios.ac_length_lie(500, then_close=then == "close")
    result, peer = run(hostile, script, report, [ct, mr], "-ta", "1")
    check(
        result,
        exit_code=EXIT_FAILURE,
        outcomes={str(ct): "not-sent", str(mr): "not-sent"},
        causes=["truncated A-ASSOCIATE-AC", "of", "bytes"],
        names=[f"{peer.host}:{peer.port}"],
        budget=0.0 if then == "close" else 1.0,
        max_rss_mb=TIGHT_MAX_RSS_MB,
        sessions=peer.sessions,
        endings=["peer-closed" if then == "close" else "abort"],
    )


def test_row25_ac_claiming_4_gib_refused_at_once(
    hostile: Hostile, report: Path, ct: Path, mr: Path
) -> None:
    """The 6-byte header is enough: refused (bound 1 MiB) before any wait or allocation."""
    script = scenarios.ac_claims(0xFFFFFFFF)
    result, peer = run(hostile, script, report, [ct, mr], "-ta", "20")
    check(
        result,
        exit_code=EXIT_FAILURE,
        outcomes={str(ct): "not-sent", str(mr): "not-sent"},
        causes=["claims 4294967295 bytes", "bound 1048576"],
        names=[f"{peer.host}:{peer.port}"],
        budget=0.0,  # not the 20 s ACSE timeout
        max_rss_mb=TIGHT_MAX_RSS_MB,
        sessions=peer.sessions,
        endings=["abort"],
        abort=(2, 6),
    )


# --- row 26: unknown PDU type (and a malformed known one) -----------------------------


def test_row26_unknown_pdu_type(hostile: Hostile, report: Path, ct: Path, mr: Path) -> None:
    protocol_error_row(
        hostile,
        report,
        ct,
        mr,
        scenarios.after_store(scenarios.do_unknown_pdu),
        ["unrecognized PDU type 0x09"],
        abort=(2, 1),
    )


def test_row26_malformed_known_pdu(hostile: Hostile, report: Path, ct: Path, mr: Path) -> None:
    protocol_error_row(
        hostile,
        report,
        ct,
        mr,
        scenarios.after_store(scenarios.do_bad_pdu),
        ["A-RELEASE-RP must have 4 bytes"],
        abort=(2, 6),
    )


# --- row 27: unproposed context ID or syntax ------------------------------------------


def test_row27_ac_accepts_unproposed_context_and_syntax(
    hostile: Hostile, report: Path, ct: Path, mr: Path
) -> None:
    """Ignored with a warning: CT's contexts are unusable, so CT is not-sent."""

    def answer(ctx: P.PresentationContextRQ) -> P.PresentationContextAC:
        if ctx.abstract_syntax != CT:
            return P.PresentationContextAC(
                ctx.context_id, P.PC_ACCEPTANCE, ctx.transfer_syntaxes[0]
            )
        if EXPLICIT_LE in ctx.transfer_syntaxes:  # accepted with a syntax never proposed in it
            return P.PresentationContextAC(ctx.context_id, P.PC_ACCEPTANCE, JPEG_BASELINE)
        return P.PresentationContextAC(ctx.context_id, P.PC_ABSTRACT_SYNTAX_NOT_SUPPORTED, "")

    stray = P.PresentationContextAC(251, P.PC_ACCEPTANCE, EXPLICIT_LE)  # never proposed
    script = scenarios.accept_with(answer=answer, extra=(stray,))
    result, peer = run(hostile, script, report, [mr, ct])
    check(
        result,
        exit_code=EXIT_FAILURE,
        outcomes={str(mr): "sent", str(ct): "not-sent"},
        causes=[
            "presentation context 251, which was not proposed: ignored",
            f"transfer syntax {JPEG_BASELINE}, which was not proposed in it: ignored",
            "No presentation context for: (CT)",
        ],
        names=[str(ct)],
        sessions=peer.sessions,
        endings=["release"],
    )
    assert [s.sop_class_uid for s in peer.sessions[0].stores] == ["1.2.840.10008.5.1.4.1.1.4"]


# --- row 28: max PDU 0 ----------------------------------------------------------------


@pytest.mark.parametrize("max_pdu", [0, 0x80004000, 0xFFFFFFFF], ids=["0", "2GiB", "4GiB"])
def test_row28_peer_max_pdu_zero_or_huge(
    hostile: Hostile, report: Path, tmp_path: Path, max_pdu: int
) -> None:
    """0 means unlimited (PS3.8 D.1): fragments at the 1 MiB cap, never one huge PDU.
    A huge maximum is capped the same way -- found by the fuzz run (tests/fuzz.py):
    the send buffer was sized from it, so 0x80004000 allocated 2 GiB."""
    big = files.sparse_large(tmp_path / "big.dcm", 3_000_000)
    result, peer = run(hostile, scenarios.good(max_pdu=max_pdu), report, [big])
    check(
        result,
        exit_code=EXIT_SUCCESS,
        outcomes={str(big): "sent"},
        causes=[],
        max_rss_mb=TIGHT_MAX_RSS_MB,
        sessions=peer.sessions,
        endings=["release"],
    )
    session = peer.sessions[0]
    assert session.max_pdata == 1024 * 1024, session.max_pdata
    assert session.stores[0].dataset_bytes == big.stat().st_size - files.dataset_offset(big)


# --- row 29: P-DATA beyond our maximum; PDV beyond its PDU ----------------------------


@pytest.mark.parametrize(
    ("action", "cause"),
    [
        (scenarios.do_oversized_pdata, "exceeds our maximum of 16384"),
        (scenarios.do_pdv_beyond_pdu, "PDV length 1000 does not fit"),
    ],
    ids=["pdata-too-long", "pdv-too-long"],
)
def test_row29_pdata_and_pdv_lengths(
    hostile: Hostile,
    report: Path,
    ct: Path,
    mr: Path,
    action: Callable[..., None],
    cause: str,
) -> None:
    result = protocol_error_row(
        hostile, report, ct, mr, scenarios.after_store(action), [cause], abort=(2, 6)
    )
    assert result.maxrss_mb <= TIGHT_MAX_RSS_MB


# --- rows 30/31: a response that is not the answer ------------------------------------


def test_row30_wrong_message_id_being_responded_to(
    hostile: Hostile, report: Path, ct: Path, mr: Path
) -> None:
    """pynetdicom 3.0.4 counts this as success; it is a protocol error."""
    protocol_error_row(
        hostile,
        report,
        ct,
        mr,
        scenarios.after_store(scenarios.do_respond(message_id=77)),
        ["response is for MsgID 77, request was MsgID 1"],
        abort=(0, 0),
    )


def _echo_rsp(store: Store) -> bytes:
    return dimse.encode_c_echo_rsp(store.message_id)


def _store_rq(store: Store) -> bytes:
    return dimse.encode_c_store_rq(store.message_id, store.sop_class_uid, store.sop_instance_uid)


def _no_status(store: Store) -> bytes:
    return command_without(dimse.STATUS, store)


@pytest.mark.parametrize(
    ("build", "cause"),
    [
        (_echo_rsp, "got command field 0x8030"),
        (_store_rq, "got command field 0x0001"),
        (_no_status, "C-STORE-RSP without Status"),
    ],
    ids=["echo-rsp", "store-rq", "no-status"],
)
def test_row31_wrong_command_field_or_no_status(
    hostile: Hostile,
    report: Path,
    ct: Path,
    mr: Path,
    build: Callable[[Store], bytes],
    cause: str,
) -> None:
    protocol_error_row(
        hostile,
        report,
        ct,
        mr,
        scenarios.after_store(scenarios.do_respond_command(build)),
        [cause],
        abort=(0, 0),
    )


# --- row 32: the response names another instance or context ---------------------------


@pytest.mark.parametrize(
    ("doctored", "cause"),
    [
        ({"sop_instance_uid": "1.2.3.999"}, "response names SOP Instance 1.2.3.999"),
        ({"context_id": 1}, "response came on presentation context 1"),
    ],
    ids=["instance", "context"],
)
def test_row32_response_names_another_instance_or_context(
    hostile: Hostile, report: Path, ct: Path, mr: Path, doctored: dict[str, object], cause: str
) -> None:
    """Believed (the Message ID matches) with a warning naming the file."""
    script = scenarios.after_store(scenarios.do_respond(**doctored))
    result, peer = run(hostile, script, report, [ct, mr])
    check(
        result,
        exit_code=EXIT_SUCCESS,
        outcomes={str(ct): "sent", str(mr): "sent"},
        causes=[cause],
        names=[f"{ct}: "],
        sessions=peer.sessions,
        endings=["release"],
    )


# --- row 33: A-RELEASE-RQ instead of the response -------------------------------------


def test_row33_release_request_instead_of_response(
    hostile: Hostile, report: Path, ct: Path, mr: Path
) -> None:
    protocol_error_row(
        hostile,
        report,
        ct,
        mr,
        scenarios.after_store(scenarios.do_release_rq),
        ["requested release while a response was outstanding"],
        abort=(0, 0),
    )


# --- rows 34/35: statuses -------------------------------------------------------------

FAILURES = [
    (0xA700, "Refused: OutOfResources"),
    (0xA900, "Error: DataSetDoesNotMatchSOPClass"),
    (0xC000, "Error: CannotUnderstand"),
    (0x0122, "Refused: SOPClassNotSupported"),
    (0x0124, "Refused: NotAuthorized"),
    (0x0211, "Failure: UnrecognizedOperation"),
    (0xFF00, "Pending"),
    (0x0005, "Unknown"),
]


@pytest.mark.parametrize(("status", "text"), FAILURES, ids=[f"{s:04X}" for s, _ in FAILURES])
def test_row34_failure_statuses_halt(
    hostile: Hostile, report: Path, ct: Path, mr: Path, status: int, text: str
) -> None:
    """Halt mode: exit = the status's high byte (1 when it is 0), the rest not-sent."""
    result, peer = run(hostile, scenarios.status(status), report, [ct, mr])
    check(
        result,
        exit_code=(status >> 8) or EXIT_FAILURE,
        outcomes={str(ct): "failed-status", str(mr): "not-sent"},
        causes=[f"0x{status:04X}", text, "Error Comment: hostile peer says no"],
        names=[str(ct)],
        sessions=peer.sessions,
        endings=["release"],
    )
    assert result.rows()[0]["status"] == f"0x{status:04X}"


def test_row34_failure_status_no_halt(hostile: Hostile, report: Path, ct: Path, mr: Path) -> None:
    result, peer = run(hostile, scenarios.status(0xC000), report, [ct, mr], "--no-halt")
    check(
        result,
        exit_code=EXIT_INCOMPLETE,
        outcomes={str(ct): "failed-status", str(mr): "failed-status"},
        causes=["0xC000", "Error Comment: hostile peer says no"],
        names=[str(ct), str(mr)],
        sessions=peer.sessions,
        endings=["release"],
    )


@pytest.mark.parametrize("status", [0xB000, 0xB006, 0xB007], ids=["B000", "B006", "B007"])
def test_row35_warning_statuses(
    hostile: Hostile, report: Path, ct: Path, mr: Path, status: int
) -> None:
    result, peer = run(hostile, scenarios.status(status, comment=None), report, [ct, mr])
    check(
        result,
        exit_code=EXIT_SUCCESS,
        outcomes={str(ct): "sent-with-warning", str(mr): "sent-with-warning"},
        causes=[f"status 0x{status:04X}", "Store Warning"],
        names=[str(ct)],
        sessions=peer.sessions,
        endings=["release"],
    )


# --- row 41: a peer maximum PDU length too small to carry data ------------------------


@pytest.mark.parametrize("max_pdu", [1, 6])
def test_row41_peer_max_pdu_below_the_smallest_pdata(
    hostile: Hostile, report: Path, ct: Path, mr: Path, max_pdu: int
) -> None:
    """PS3.8 D.1, 9.3.5: a PDV needs 6 header bytes, so below 7 nothing can go out.
    Refused at once, A-ABORT; before, 9,636 PDUs of 7 bytes went out and exit 0."""
    result, peer = run(hostile, scenarios.good(max_pdu=max_pdu), report, [ct, mr])
    check(
        result,
        exit_code=EXIT_FAILURE,
        outcomes={str(ct): "not-sent", str(mr): "not-sent"},
        causes=[f"maximum PDU length {max_pdu} is below 7"],
        names=[f"{peer.host}:{peer.port}"],
        sessions=peer.sessions,
        endings=["abort"],
    )
    assert peer.sessions[0].stores == []


def test_row41_peer_max_pdu_of_7_is_honoured(hostile: Hostile, report: Path, ct: Path) -> None:
    """The smallest usable maximum: one data byte per PDV, every PDU exactly 7 bytes long."""
    result, peer = run(hostile, scenarios.good(max_pdu=7), report, [ct])
    check(
        result,
        exit_code=EXIT_SUCCESS,
        outcomes={str(ct): "sent"},
        causes=[],
        sessions=peer.sessions,
        endings=["release"],
    )
    assert peer.sessions[0].max_pdata == 7


# --- row 42: a C-STORE-RSP that claims a dataset follows -------------------------------


def _claims_dataset(store: Store) -> bytes:
    return command_with(dimse.COMMAND_DATA_SET_TYPE, 0x0102, store)


def test_row42_response_claiming_a_dataset_fails_at_once(
    hostile: Hostile, report: Path, ct: Path, mr: Path
) -> None:
    """PS3.7 9.3.1.2: a C-STORE-RSP has no dataset; Command Data Set Type other than
    0x0101 is a protocol error at once (before: a wait until -td, 3.2 s with -td 3)."""
    script = scenarios.after_store(scenarios.do_respond_command(_claims_dataset))
    result, peer = run(hostile, script, report, [ct, mr], "-td", "3")
    check(
        result,
        exit_code=EXIT_NETWORK,
        outcomes={str(ct): "failed-outcome-unknown", str(mr): "not-sent"},
        causes=["claims a dataset follows (Command Data Set Type 0x0102, not 0x0101)"],
        names=[str(ct)],
        sessions=peer.sessions,
        endings=["abort"],
        abort=(0, 0),
    )
    assert result.seconds < 2.5, result.seconds
