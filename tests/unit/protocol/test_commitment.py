"""Storage Commitment messages: command sets, datasets, hostile input (PS3.4 J, PS3.7 10.1)."""

from __future__ import annotations

import io
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydicom import Dataset
from pydicom.filereader import read_dataset
from pydicom.filewriter import write_dataset
from pydicom.sequence import Sequence

from storescu.kernel.errors import RemoteProtocolError
from storescu.protocol import commitment as sc
from storescu.protocol import dimse

CT = "1.2.840.10008.5.1.4.1.1.2"


def test_n_action_rq_golden_bytes() -> None:
    data = sc.encode_n_action_rq(7)
    # (0000,0000) UL 4 = group length, then:
    # (0000,0003) UI 20 "1.2.840.10008.1.20.1" Requested SOP Class UID
    # (0000,0100) US 2 0x0130 N-ACTION-RQ
    # (0000,0110) US 2 7 Message ID
    # (0000,0800) US 2 0x0000 dataset present
    # (0000,1001) UI 22 "1.2.840.10008.1.20.1.1" Requested SOP Instance UID
    # (0000,1008) US 2 1 Action Type ID
    body = (
        b"\x00\x00\x03\x00\x14\x00\x00\x001.2.840.10008.1.20.1"
        b"\x00\x00\x00\x01\x02\x00\x00\x00\x30\x01"
        b"\x00\x00\x10\x01\x02\x00\x00\x00\x07\x00"
        b"\x00\x00\x00\x08\x02\x00\x00\x00\x00\x00"
        b"\x00\x00\x01\x10\x16\x00\x00\x001.2.840.10008.1.20.1.1"
        b"\x00\x00\x08\x10\x02\x00\x00\x00\x01\x00"
    )
    assert data == b"\x00\x00\x00\x00\x04\x00\x00\x00" + struct.pack("<L", len(body)) + body


def test_commands_decode() -> None:
    rq = dimse.decode_command(sc.encode_n_event_report_rq(3, 2))
    assert rq.command_field == sc.N_EVENT_REPORT_RQ
    assert sc.command_us(rq, sc.EVENT_TYPE_ID) == 2
    assert rq.has_dataset
    rsp = dimse.decode_command(sc.encode_n_event_report_rsp(3, 0, 2))
    assert rsp.command_field == sc.N_EVENT_REPORT_RSP
    assert rsp.get_int(dimse.MESSAGE_ID_BEING_RESPONDED_TO) == 3
    assert not rsp.has_dataset
    arsp = dimse.decode_command(sc.encode_n_action_rsp(9, 0x0110))
    assert arsp.command_field == sc.N_ACTION_RSP
    assert arsp.get_int(dimse.STATUS) == 0x0110
    assert sc.command_us(arsp, sc.ACTION_TYPE_ID) == 1


def _pydicom_bytes(ds: Dataset, explicit: bool) -> bytes:
    buf = io.BytesIO()
    from pydicom.filebase import DicomFileLike

    fp = DicomFileLike(buf)
    fp.is_little_endian = True
    fp.is_implicit_VR = not explicit
    write_dataset(fp, ds)
    return buf.getvalue()


@pytest.mark.parametrize("explicit", [False, True])
def test_request_matches_pydicom(explicit: bool) -> None:
    request = sc.CommitmentRequest("1.2.3.4", ((CT, "1.2.3.5"), (CT, "1.2.3.66")))
    data = sc.encode_request(request, explicit)
    ds = read_dataset(io.BytesIO(data), not explicit, True)
    assert ds.TransactionUID == "1.2.3.4"
    assert [
        (i.ReferencedSOPClassUID, i.ReferencedSOPInstanceUID) for i in ds.ReferencedSOPSequence
    ] == list(request.references)
    assert sc.decode_request(data, explicit) == request


@pytest.mark.parametrize("explicit", [False, True])
def test_report_from_pydicom_undefined_lengths(explicit: bool) -> None:
    ds = Dataset()
    ds.TransactionUID = "1.2.3.4"
    ok = Dataset()
    ok.ReferencedSOPClassUID = CT
    ok.ReferencedSOPInstanceUID = "1.2.3.5"
    bad = Dataset()
    bad.ReferencedSOPClassUID = CT
    bad.ReferencedSOPInstanceUID = "1.2.3.6"
    bad.FailureReason = 0x0112
    ds.ReferencedSOPSequence = Sequence([ok])
    ds.FailedSOPSequence = Sequence([bad])
    ds.RetrieveAETitle = "ARCHIVE"
    for seq in (ds.ReferencedSOPSequence, ds.FailedSOPSequence):
        seq.is_undefined_length = True
        for item in seq:
            item.is_undefined_length_sequence_item = True
    ds["ReferencedSOPSequence"].is_undefined_length = True
    ds["FailedSOPSequence"].is_undefined_length = True
    report = sc.decode_report(_pydicom_bytes(ds, explicit), explicit)
    assert report.transaction_uid == "1.2.3.4"
    assert report.committed == ((CT, "1.2.3.5"),)
    assert report.failed == ((CT, "1.2.3.6", 0x0112),)
    assert report.event_type == sc.EVENT_FAILURES


@pytest.mark.parametrize("explicit", [False, True])
def test_report_round_trip(explicit: bool) -> None:
    report = sc.CommitmentReport("2.25.1", ((CT, "1.2.3"),), ((CT, "1.2.4", 0x0110),))
    assert sc.decode_report(sc.encode_report(report, explicit), explicit) == report
    empty = sc.CommitmentReport("2.25.1", ((CT, "1.2.3"),), ())
    assert sc.decode_report(sc.encode_report(empty)) == empty
    assert empty.event_type == sc.EVENT_ALL_COMMITTED


def test_failed_item_without_reason_is_failed() -> None:
    item = sc._elem(sc.REFERENCED_SOP_CLASS_UID, b"1.2\x00", False) + sc._elem(
        sc.REFERENCED_SOP_INSTANCE_UID, b"1.3\x00", False
    )
    data = sc._elem(sc.TRANSACTION_UID, b"1.9\x00", False) + sc._sequence(
        sc.FAILED_SOP_SEQUENCE, [item], False
    )
    assert sc.decode_report(data).failed == (("1.2", "1.3", 0x0110),)


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "Transaction UID missing"),
        (b"\x08\x00\x95\x11\xff\x00\x00\x00", "claims"),
        (b"\x08\x00\x95\x11", "truncated"),
        (b"\x08\x00\x95\x11\x04\x00\x00\x00abcd", "not a UID"),
        (b"\x08\x00\x99\x11\xff\xff\xff\xff", "delimiter"),
        (b"\x08\x00\x99\x11\x08\x00\x00\x00\x08\x00\x50\x11\x00\x00\x00\x00", "expected an item"),
    ],
)
def test_malformed_reports(data: bytes, message: str) -> None:
    with pytest.raises(RemoteProtocolError, match=message):
        sc.decode_report(data)


def test_nesting_is_bounded() -> None:
    data = (
        b"\x08\x00\x99\x11\xff\xff\xff\xff"
        + b"\xfe\xff\x00\xe0\xff\xff\xff\xff\x08\x00\x99\x11\xff\xff\xff\xff" * 10
    )
    with pytest.raises(RemoteProtocolError, match="nested"):
        sc.decode_report(data)


def test_describe_failure() -> None:
    assert sc.describe_failure(0x0112) == "0x0112 no such object instance"
    assert sc.describe_failure(0x9999) == "0x9999 unknown failure reason"


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200), st.booleans())
def test_any_bytes_decode_or_protocol_error(data: bytes, explicit: bool) -> None:
    try:
        sc.decode_report(data, explicit)
        sc.decode_request(data, explicit)
    except RemoteProtocolError:
        pass


def test_role_selection_for_the_call_back_golden_bytes() -> None:
    from storescu.protocol.pdu import RoleSelection, UserInformation

    role = RoleSelection(sc.STORAGE_COMMITMENT_SOP_CLASS, scu_role=0, scp_role=1)
    data = UserInformation(max_length=16384, role_selections=(role,)).encode()
    # 54 00 | 00 18        sub-item 54 SCP/SCU role selection, length 24 (PS3.7 D.3.3.4)
    # 00 14 | "1.2.840.10008.1.20.1"   SOP class UID length 20, the UID
    # 00 | 01              SCU role 0 (not SCU), SCP role 1: the archive calling back is SCP
    assert b"\x54\x00\x00\x18\x00\x141.2.840.10008.1.20.1\x00\x01" in data
    assert UserInformation.decode(data[4:]).role_selections == (role,)
