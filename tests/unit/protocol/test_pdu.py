"""Upper Layer PDU and item codec (storescu.protocol.pdu), PS3.8 section 9.3 and PS3.7 Annex D.

Golden bytes are written by hand from the PDU structure tables of PS3.8 9.3
(Tables 9-11 .. 9-26) and PS3.7 D.3.3; each line's comment decodes its fields.
A quoted string in a fixture stands for its ASCII bytes.
"""

from __future__ import annotations

import itertools
import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from storescu.kernel.errors import RemoteProtocolError
from storescu.protocol import pdu as P
from tests.helpers.golden import golden

CT = "1.2.840.10008.5.1.4.1.1.2"
EXPLICIT_LE = "1.2.840.10008.1.2.1"
IMPLICIT_LE = "1.2.840.10008.1.2"

# ------------------------------------------------------------------ fixtures

# PS3.8 9.3.2 (Table 9-11), 9.3.2.1-3 (Tables 9-12..9-16), PS3.7 D.3.3.1-7.
RQ_GOLDEN = golden(
    """
    01 00 | 00 00 01 0d          # PDU type 01 A-ASSOCIATE-RQ, reserved, PDU length 269
    00 01 | 00 00                # protocol version 0001 (bit 0 set), reserved
    "ANY-SCP         "           # called AE title, 16 bytes, space padded
    "STORESCU        "           # calling AE title, 16 bytes, space padded
    00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00   # reserved, 32 bytes
    00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
    10 00 | 00 15                # item 10 application context, length 21
    "1.2.840.10008.3.1.1.1"      #   the DICOM application context name (PS3.7 A.2.1)
    20 00 | 00 4d                # item 20 presentation context (RQ), length 77
    01 00 00 00                  #   presentation context ID 1, 3 reserved bytes
    30 00 | 00 19                #   sub-item 30 abstract syntax, length 25
    "1.2.840.10008.5.1.4.1.1.2"  #     CT Image Storage (UIDs in items are not padded)
    40 00 | 00 13                #   sub-item 40 transfer syntax, length 19
    "1.2.840.10008.1.2.1"        #     explicit VR little endian
    40 00 | 00 11                #   sub-item 40 transfer syntax, length 17
    "1.2.840.10008.1.2"          #     implicit VR little endian
    50 00 | 00 5b                # item 50 user information, length 91
    51 00 | 00 04 | 00 00 40 00  #   sub-item 51 maximum length received: 16384 (PS3.8 D.1)
    52 00 | 00 07 | "1.2.3.4"    #   sub-item 52 implementation class UID, length 7
    54 00 | 00 1d                #   sub-item 54 SCP/SCU role selection, length 29
    00 19                        #     UID length 25
    "1.2.840.10008.5.1.4.1.1.2"  #     SOP class UID
    01 | 00                      #     SCU role 1, SCP role 0
    55 00 | 00 0f                #   sub-item 55 implementation version name, length 15
    "STORESCU_PY_010"
    58 00 | 00 10                #   sub-item 58 user identity negotiation (RQ), length 16
    02 | 01                      #     type 2 (username and passcode), positive response requested
    00 04 | "user"               #     primary field, length 4
    00 06 | "secret"             #     secondary field, length 6
    """
)

RQ_OBJECT = P.AAssociateRQ(
    called_ae="ANY-SCP",
    calling_ae="STORESCU",
    presentation_contexts=(P.PresentationContextRQ(1, CT, (EXPLICIT_LE, IMPLICIT_LE)),),
    user_information=P.UserInformation(
        max_length=16384,
        implementation_class_uid="1.2.3.4",
        implementation_version_name="STORESCU_PY_010",
        role_selections=(P.RoleSelection(CT, 1, 0),),
        user_identity=P.UserIdentity(2, True, b"user", b"secret"),
    ),
)

# PS3.8 9.3.3 (Table 9-17), 9.3.3.2 (Table 9-18), PS3.7 D.3.3.7.2.
AC_GOLDEN = golden(
    """
    02 00 | 00 00 00 b1          # PDU type 02 A-ASSOCIATE-AC, reserved, PDU length 177
    00 01 | 00 00                # protocol version 1, reserved
    "ANY-SCP         "           # called AE title (reserved in the AC, echoes the RQ)
    "STORESCU        "           # calling AE title (idem)
    00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00   # reserved, 32 bytes
    00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
    10 00 | 00 15                # item 10 application context, length 21
    "1.2.840.10008.3.1.1.1"
    21 00 | 00 1b                # item 21 presentation context (AC), length 27
    01 00 | 00 00                #   context ID 1, reserved, result 0 acceptance, reserved
    40 00 | 00 13                #   sub-item 40 transfer syntax, length 19
    "1.2.840.10008.1.2.1"        #     explicit VR little endian
    21 00 | 00 08                # item 21 presentation context (AC), length 8
    03 00 | 03 00                #   context ID 3, reserved, result 3 abstract-syntax-not-supported
    40 00 | 00 00                #   sub-item 40 transfer syntax, empty (not significant)
    50 00 | 00 25                # item 50 user information, length 37
    51 00 | 00 04 | 00 00 80 00  #   sub-item 51 maximum length: 32768
    52 00 | 00 07 | "1.2.3.4"    #   sub-item 52 implementation class UID
    55 00 | 00 04 | "PEER"       #   sub-item 55 implementation version name
    59 00 | 00 06                #   sub-item 59 user identity (AC), length 6
    00 04 | "tokn"               #     server response, length 4
    """
)

AC_OBJECT = P.AAssociateAC(
    called_ae="ANY-SCP",
    calling_ae="STORESCU",
    presentation_contexts=(
        P.PresentationContextAC(1, P.PC_ACCEPTANCE, EXPLICIT_LE),
        P.PresentationContextAC(3, P.PC_ABSTRACT_SYNTAX_NOT_SUPPORTED, ""),
    ),
    user_information=P.UserInformation(
        max_length=32768,
        implementation_class_uid="1.2.3.4",
        implementation_version_name="PEER",
        user_identity_response=b"tokn",
    ),
)

# PS3.8 9.3.4 (Table 9-21).
RJ_GOLDEN = golden(
    """
    03 00 | 00 00 00 04  # PDU type 03 A-ASSOCIATE-RJ, reserved, length 4
    00                   # reserved
    01                   # result 1 rejected-permanent
    01                   # source 1 DICOM UL service-user
    07                   # reason 7 called-AE-title-not-recognized
    """
)
RJ_OBJECT = P.AAssociateRJ(1, 1, 7)

# PS3.8 9.3.5 (Table 9-22), 9.3.5.1 (Table 9-23) and Annex E.2 (control header).
PDATA_GOLDEN = golden(
    """
    04 00 | 00 00 00 13  # PDU type 04 P-DATA-TF, reserved, length 19
    00 00 00 06          # PDV item length 6 (context ID + control header + 4 bytes)
    01                   #   presentation context ID 1
    03                   #   message control header: bit 0 command, bit 1 last fragment
    01 02 03 04          #   4 bytes of command set
    00 00 00 05          # PDV item length 5
    01                   #   presentation context ID 1
    00                   #   message control header: dataset, not last
    aa bb cc             #   3 bytes of dataset
    """
)
PDATA_OBJECT = P.PDataTF(
    (P.PDV(1, True, True, b"\x01\x02\x03\x04"), P.PDV(1, False, False, b"\xaa\xbb\xcc"))
)

# PS3.8 9.3.6 (Table 9-24), 9.3.7 (Table 9-25), 9.3.8 (Table 9-26).
RELEASE_RQ_GOLDEN = golden("05 00 | 00 00 00 04 | 00 00 00 00  # A-RELEASE-RQ, length 4, reserved")
RELEASE_RP_GOLDEN = golden("06 00 | 00 00 00 04 | 00 00 00 00  # A-RELEASE-RP, length 4, reserved")
ABORT_GOLDEN = golden(
    """
    07 00 | 00 00 00 04  # PDU type 07 A-ABORT, reserved, length 4
    00 00                # reserved
    02                   # source 2 DICOM UL service-provider
    06                   # reason 6 invalid-PDU-parameter-value
    """
)
ABORT_OBJECT = P.AAbort(2, 6)

GOLDEN: list[tuple[bytes, P.PDU]] = [
    (RQ_GOLDEN, RQ_OBJECT),
    (AC_GOLDEN, AC_OBJECT),
    (RJ_GOLDEN, RJ_OBJECT),
    (PDATA_GOLDEN, PDATA_OBJECT),
    (RELEASE_RQ_GOLDEN, P.AReleaseRQ()),
    (RELEASE_RP_GOLDEN, P.AReleaseRP()),
    (ABORT_GOLDEN, ABORT_OBJECT),
]
GOLDEN_IDS = ["A-ASSOCIATE-RQ", "A-ASSOCIATE-AC", "A-ASSOCIATE-RJ", "P-DATA-TF"]
GOLDEN_IDS += ["A-RELEASE-RQ", "A-RELEASE-RP", "A-ABORT"]


def header_and_body(raw: bytes) -> tuple[int, bytes]:
    """Split a PDU into (type, body), checking the header's length field."""
    pdu_type, _, length = struct.unpack(">BBL", raw[:6])
    assert length == len(raw) - 6
    return pdu_type, raw[6:]


def replace_body(raw: bytes, body: bytes) -> tuple[int, bytes]:
    return raw[0], body


# -------------------------------------------------------------- golden bytes


def test_golden_fixture_sizes() -> None:
    """The length fields written in the fixtures agree with their sizes."""
    assert len(RQ_GOLDEN) == 6 + 269
    assert len(AC_GOLDEN) == 6 + 177
    assert len(PDATA_GOLDEN) == 6 + 19
    for raw, _ in GOLDEN:
        header_and_body(raw)


@pytest.mark.parametrize(("raw", "obj"), GOLDEN, ids=GOLDEN_IDS)
def test_encode_equals_golden(raw: bytes, obj: P.PDU) -> None:
    assert obj.encode() == raw


@pytest.mark.parametrize(("raw", "obj"), GOLDEN, ids=GOLDEN_IDS)
def test_decode_golden(raw: bytes, obj: P.PDU) -> None:
    pdu_type, body = header_and_body(raw)
    assert pdu_type == obj.pdu_type
    assert P.decode_pdu(pdu_type, body) == obj
    # Decoders take any buffer: memoryview bodies come from PDUReader.
    assert P.decode_pdu(pdu_type, memoryview(body)) == obj


@pytest.mark.parametrize(("raw", "obj"), GOLDEN, ids=GOLDEN_IDS)
def test_round_trip(raw: bytes, obj: P.PDU) -> None:
    pdu_type, body = header_and_body(obj.encode())
    decoded = P.decode_pdu(pdu_type, body)
    assert decoded == obj
    assert decoded.encode() == raw


def test_presentation_context_items_alone() -> None:
    """PS3.8 9.3.2.2 / 9.3.3.2: item encodings and item-value decoders agree."""
    rq = P.PresentationContextRQ(5, CT, (IMPLICIT_LE,))
    raw = rq.encode()
    assert raw[:4] == bytes.fromhex("20000036")  # item 20, length 54 = 4 + (4+25) + (4+17)
    assert raw[4:8] == bytes((5, 0, 0, 0))
    assert P.PresentationContextRQ.decode(raw[4:]) == rq

    ac = P.PresentationContextAC(5, P.PC_ACCEPTANCE, IMPLICIT_LE)
    assert ac.accepted
    assert P.PresentationContextAC.decode(ac.encode()[4:]) == ac
    rejected = P.PresentationContextAC(7, P.PC_TRANSFER_SYNTAXES_NOT_SUPPORTED, "")
    assert not rejected.accepted
    assert P.PresentationContextAC.decode(rejected.encode()[4:]) == rejected


def test_rejected_context_without_transfer_syntax_item() -> None:
    """PS3.8 9.3.3.2: for a rejected context the transfer syntax sub-item is not significant."""
    value = bytes((9, 0, P.PC_USER_REJECTION, 0))  # no 0x40 sub-item at all
    assert P.PresentationContextAC.decode(value) == P.PresentationContextAC(9, 1, "")


def test_uid_trailing_nul_tolerated() -> None:
    """DCMTK tolerates UIDs padded with NUL or space inside items; so do we."""
    value = bytes((1, 0, 0, 0)) + P._item(0x30, CT.encode() + b"\x00")
    value += P._item(0x40, b"1.2.840.10008.1.2 ")
    decoded = P.PresentationContextRQ.decode(value)
    assert decoded.abstract_syntax == CT
    assert decoded.transfer_syntaxes == (IMPLICIT_LE,)


def test_user_information_round_trips_unknown_and_async_sub_items() -> None:
    """PS3.7 D.3.3.3 (async window) and uninterpreted sub-items (0x56 SOP class extended)."""
    user = P.UserInformation(
        max_length=0,
        async_ops=(1, 1),
        other=((P.SUB_SOP_EXTENDED, b"\x00\x03abc\x01"),),
    )
    raw = user.encode()
    assert raw[4:12] == bytes.fromhex("5100000400000000")  # max length 0 = unlimited (D.1)
    assert raw[12:20] == bytes.fromhex("5300000400010001")  # async ops window 1/1
    assert P.UserInformation.decode(raw[4:]) == user


def test_ae_titles_are_padded_and_stripped() -> None:
    rq = P.AAssociateRQ("A", "B", (P.PresentationContextRQ(1, CT, (IMPLICIT_LE,)),))
    raw = rq.encode()
    assert raw[10:26] == b"A" + b" " * 15
    assert P.AAssociateRQ.decode(raw[6:]).called_ae == "A"
    with pytest.raises(ValueError):
        P.AAssociateRQ("", "B", ()).encode()
    with pytest.raises(ValueError):
        P.AAssociateRQ("X" * 17, "B", ()).encode()


def test_item_longer_than_16_bits_refused_on_encode() -> None:
    """PS3.8 9.3.2: item lengths are 2 bytes; encoding never truncates silently."""
    with pytest.raises(ValueError):
        P.PresentationContextRQ(1, "1." * 40000, (IMPLICIT_LE,)).encode()


def test_pdata_pdv_header_matches_encode() -> None:
    """PS3.8 9.3.5.1: the hot-path header equals PDataTF.encode for one PDV."""
    for data in (b"", b"x", bytes(range(256)) * 10):
        for is_command in (False, True):
            for is_last in (False, True):
                expected = P.PDataTF((P.PDV(7, is_command, is_last, data),)).encode()
                header = P.pdata_pdv_header(7, len(data), is_command, is_last)
                assert len(header) == 12
                assert header + data == expected
    assert P.pdata_header(0x1234) == bytes.fromhex("040000001234")


# ------------------------------------------------------------ malformed PDUs


def error_of(pdu_type: int, body: bytes) -> RemoteProtocolError:
    with pytest.raises(RemoteProtocolError) as info:
        P.decode_pdu(pdu_type, body)
    assert info.value.abort_source == 2  # PS3.8 9.3.8: the service provider aborts
    return info.value


_, RQ_BODY = header_and_body(RQ_GOLDEN)
_, AC_BODY = header_and_body(AC_GOLDEN)
_, PDATA_BODY = header_and_body(PDATA_GOLDEN)


def associate_body(*items: bytes) -> bytes:
    """A-ASSOCIATE-RQ/AC body: the golden 68-byte fixed part plus the given items."""
    return RQ_BODY[:68] + b"".join(items)


item = P._item
APP = item(P.ITEM_APPLICATION_CONTEXT, b"1.2.840.10008.3.1.1.1")
MAXLEN = item(P.SUB_MAX_LENGTH, struct.pack(">L", 16384))
USER = item(P.ITEM_USER_INFORMATION, MAXLEN)
PC_RQ = P.PresentationContextRQ(1, CT, (IMPLICIT_LE,)).encode()
ABSTRACT = item(P.ITEM_ABSTRACT_SYNTAX, CT.encode())
SYNTAX = item(P.ITEM_TRANSFER_SYNTAX, IMPLICIT_LE.encode())


def rq(*items: bytes) -> bytes:
    return associate_body(*items)


def pc_rq(*subs: bytes) -> bytes:
    """Presentation context item (RQ), ID 1."""
    return item(P.ITEM_PRESENTATION_CONTEXT_RQ, b"\x01\x00\x00\x00" + b"".join(subs))


def pc_ac(*subs: bytes, head: bytes = b"\x01\x00\x00\x00") -> bytes:
    """Presentation context item (AC), ID 1, result 0 unless ``head`` says otherwise."""
    return item(P.ITEM_PRESENTATION_CONTEXT_AC, head + b"".join(subs))


def user(*subs: bytes) -> bytes:
    return item(P.ITEM_USER_INFORMATION, b"".join(subs))


def test_minimal_associate_body_is_valid() -> None:
    """Sanity check for the malformed cases below: these decode."""
    decoded = P.decode_pdu(P.A_ASSOCIATE_RQ, rq(APP, pc_rq(ABSTRACT, SYNTAX), USER))
    assert isinstance(decoded, P.AAssociateRQ)
    assert decoded.presentation_contexts == (P.PresentationContextRQ(1, CT, (IMPLICIT_LE,)),)
    decoded_ac = P.decode_pdu(P.A_ASSOCIATE_AC, rq(APP, pc_ac(SYNTAX), USER))
    assert isinstance(decoded_ac, P.AAssociateAC)


# (case, PDU type, body, A-ABORT reason of PS3.8 Table 9-26, words of the message)
# fmt: off
MALFORMED: list[tuple[str, int, bytes, int, str]] = [
    ("RQ shorter than 68 bytes", 1, RQ_BODY[:67], 6, "truncated A-ASSOCIATE-RQ"),
    ("RQ cut one byte short", 1, RQ_BODY[:-1], 6, "item 0x50 in A-ASSOCIATE-RQ claims"),
    ("RQ 3-byte item header", 1, rq(APP, PC_RQ, USER, b"\x10\x00\x00"), 6, "truncated item"),
    ("RQ item beyond the PDU", 1, rq(APP, PC_RQ, USER[:-1]), 6, "item 0x50"),
    ("RQ sub-item beyond its item", 1, rq(APP, pc_rq(b"\x30\x00\x00\x05"), USER), 6, "claims"),
    ("RQ without application context", 1, rq(PC_RQ, USER), 6, "lacks the application"),
    ("RQ without user information", 1, rq(APP, PC_RQ), 6, "lacks the user information"),
    ("RQ without max length", 1, rq(APP, PC_RQ, user(item(0x52, b"1.2"))), 6, "maximum length"),
    ("RQ max length of 2 bytes", 1, rq(APP, PC_RQ, user(item(0x51, b"\x40\x00"))), 6, "4 bytes"),
    ("RQ async window of 2 bytes", 1, rq(APP, user(MAXLEN, item(0x53, b"\x00\x01"))), 6, "window"),
    ("RQ unknown item type", 1, rq(APP, PC_RQ, USER, item(0x33, b"")), 4, "unexpected item 0x33"),
    ("RQ context without syntax", 1, rq(APP, pc_rq(ABSTRACT), USER), 6, "lacks abstract or"),
    ("RQ context without abstract", 1, rq(APP, pc_rq(SYNTAX), USER), 6, "lacks abstract or"),
    ("RQ context of 2 bytes", 1, rq(APP, item(0x20, b"\x01\x00"), USER), 6, "too short"),
    ("RQ context unknown sub-item", 1, rq(APP, pc_rq(ABSTRACT, SYNTAX, item(0x41, b"")), USER), 4, "sub-item 0x41"),  # noqa: E501
    ("RQ non-ASCII UID", 1, rq(item(0x10, b"1.2.\xff"), PC_RQ, USER), 6, "not ASCII"),
    ("RQ role selection bad length", 1, rq(APP, user(MAXLEN, item(0x54, b"\x00\x01X\x01"))), 6, "bad length"),  # noqa: E501
    ("RQ role UID beyond sub-item", 1, rq(APP, user(MAXLEN, item(0x54, b"\x00\x09X\x01\x00"))), 6, "role selection UID claims"),  # noqa: E501
    ("RQ user identity of 1 byte", 1, rq(APP, user(MAXLEN, item(0x58, b"\x01"))), 6, "truncated user identity"),  # noqa: E501
    ("RQ identity primary beyond", 1, rq(APP, user(MAXLEN, item(0x58, b"\x01\x00\x00\x09ab\x00\x00"))), 6, "primary field claims"),  # noqa: E501
    ("RQ identity secondary missing", 1, rq(APP, user(MAXLEN, item(0x58, b"\x01\x00\x00\x02ab"))), 6, "truncated user identity secondary"),  # noqa: E501
    ("AC cut 3 bytes short", 2, AC_BODY[:-3], 6, "claims"),
    ("AC accepted without syntax", 2, rq(APP, pc_ac(), USER), 6, "has no transfer syntax"),
    ("AC context unknown sub-item", 2, rq(APP, pc_ac(ABSTRACT), USER), 4, "sub-item 0x30"),
    ("AC context of 1 byte", 2, rq(APP, pc_ac(head=b"\x01"), USER), 6, "too short"),
    ("AC identity response beyond", 2, rq(APP, user(MAXLEN, item(0x59, b"\x00\x05ab"))), 6, "response claims"),  # noqa: E501
    ("AC without application context", 2, rq(USER), 6, "lacks the application context"),
    ("AC without user information", 2, rq(APP), 6, "lacks the user information"),
    ("RJ body of 3 bytes", 3, b"\x00\x01\x01", 6, "A-ASSOCIATE-RJ must have 4 bytes"),
    ("RJ body of 5 bytes", 3, b"\x00\x01\x01\x01\x00", 6, "A-ASSOCIATE-RJ must have 4 bytes"),
    ("RELEASE-RQ body of 0 bytes", 5, b"", 6, "A-RELEASE-RQ must have 4 bytes"),
    ("RELEASE-RQ body of 6 bytes", 5, bytes(6), 6, "A-RELEASE-RQ must have 4 bytes"),
    ("RELEASE-RP body of 3 bytes", 6, bytes(3), 6, "A-RELEASE-RP must have 4 bytes"),
    ("ABORT body of 2 bytes", 7, bytes(2), 6, "A-ABORT must have 4 bytes"),
    ("ABORT body of 8 bytes", 7, bytes(8), 6, "A-ABORT must have 4 bytes"),
    ("P-DATA without PDV", 4, b"", 6, "without any PDV"),
    ("P-DATA truncated PDV header", 4, b"\x00\x00\x00\x02\x01", 6, "truncated PDV header"),
    ("P-DATA PDV length 0", 4, b"\x00\x00\x00\x00\x01\x03", 6, "PDV length 0 does not fit"),
    ("P-DATA PDV length 1", 4, b"\x00\x00\x00\x01\x01\x03", 6, "PDV length 1 does not fit"),
    ("P-DATA PDV beyond its PDU", 4, b"\x00\x00\x00\x07\x01\x03abcd", 6, "PDV length 7"),
    ("P-DATA 2nd PDV beyond its PDU", 4, PDATA_BODY[:-1], 6, "PDV length 5 does not fit"),
    ("P-DATA PDV of 4 GiB", 4, b"\xff\xff\xff\xff\x01\x03", 6, "PDV length 4294967295"),
    ("P-DATA trailing bytes", 4, PDATA_BODY + b"\x00\x00", 6, "truncated PDV header"),
    ("unknown PDU type 0x08", 0x08, RJ_GOLDEN[6:], 1, "unrecognized PDU type 0x08"),
    ("unknown PDU type 0x00", 0x00, b"", 1, "unrecognized PDU type 0x00"),
    ("unknown PDU type 0xFF", 0xFF, bytes(4), 1, "unrecognized PDU type 0xFF"),
]
# fmt: on


@pytest.mark.parametrize(
    ("pdu_type", "body", "reason", "words"),
    [case[1:] for case in MALFORMED],
    ids=[case[0] for case in MALFORMED],
)
def test_malformed_raises_with_abort_reason(
    pdu_type: int, body: bytes, reason: int, words: str
) -> None:
    error = error_of(pdu_type, body)
    assert error.abort_reason == reason
    assert words in str(error)


def test_pdv_exactly_filling_the_pdu_and_minimum_pdv() -> None:
    """PS3.8 9.3.5.1: a PDV of length 2 (no data) is legal; boundaries are exact."""
    pdata = P.decode_pdu(P.P_DATA_TF, b"\x00\x00\x00\x02\x03\x02")
    assert pdata == P.PDataTF((P.PDV(3, False, True, b""),))


def test_iter_items_boundaries() -> None:
    assert P.iter_items(b"", "x") == []
    items = P.iter_items(b"\x10\x00\x00\x00\x20\x00\x00\x01z", "x")
    assert [(t, bytes(v)) for t, v in items] == [(0x10, b""), (0x20, b"z")]
    with pytest.raises(RemoteProtocolError):
        P.iter_items(b"\x10\x00\x00\x02z", "x")


# ----------------------------------------------------------------- PDUReader


def frames(reader: P.PDUReader) -> list[tuple[int, bytes]]:
    out = []
    while (frame := reader.next_frame()) is not None:
        out.append((frame[0], bytes(frame[1])))
    return out


ALL_GOLDEN = b"".join(raw for raw, _ in GOLDEN)
ALL_FRAMES = [header_and_body(raw) for raw, _ in GOLDEN]


def test_reader_multiple_pdus_in_one_feed() -> None:
    reader = P.PDUReader(16384)
    reader.feed(ALL_GOLDEN)
    assert frames(reader) == ALL_FRAMES
    assert reader.buffered == 0


def test_reader_one_byte_feeds() -> None:
    """PS3.8 9.3.1: PDUs are framed by their length field, whatever TCP's segmentation."""
    reader = P.PDUReader(16384)
    got: list[tuple[int, bytes]] = []
    for i in range(len(ALL_GOLDEN)):
        reader.feed(ALL_GOLDEN[i : i + 1])
        got += frames(reader)
    assert got == ALL_FRAMES
    assert reader.buffered == 0


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=len(ALL_GOLDEN)), max_size=20))
def test_reader_arbitrary_split_points(cuts: list[int]) -> None:
    reader = P.PDUReader(16384)
    got: list[tuple[int, bytes]] = []
    bounds = [0, *sorted(cuts), len(ALL_GOLDEN)]
    for start, end in itertools.pairwise(bounds):
        reader.feed(memoryview(ALL_GOLDEN)[start:end])
        got += frames(reader)
    assert got == ALL_FRAMES


def test_reader_returned_body_survives_compaction() -> None:
    """A body handed out must stay valid after more data is fed (buffer compaction)."""
    reader = P.PDUReader(16384)
    reader.feed(PDATA_GOLDEN * 3)
    first = reader.next_frame()
    assert first is not None
    reader.feed(PDATA_GOLDEN * 50)
    assert bytes(first[1]) == PDATA_GOLDEN[6:]
    assert len(frames(reader)) == 52


def test_reader_pdata_above_max_rejected_on_header() -> None:
    """PS3.8 D.1 / 9.3.5: a P-DATA longer than our maximum is refused before its body."""
    reader = P.PDUReader(16384)
    reader.feed(P.pdata_header(16384))  # exactly the maximum: fine, waits for the body
    assert reader.next_frame() is None
    reader = P.PDUReader(16384)
    reader.feed(P.pdata_header(16385))
    with pytest.raises(RemoteProtocolError) as info:
        reader.next_frame()
    assert (info.value.abort_source, info.value.abort_reason) == (2, 6)
    assert reader.buffered == 6


def test_reader_header_incomplete_is_not_judged() -> None:
    reader = P.PDUReader(16384)
    reader.feed(b"\x04\x00\xff\xff\xff")  # 5 bytes: length not yet known
    assert reader.next_frame() is None
    reader.feed(b"\xff")
    with pytest.raises(RemoteProtocolError):
        reader.next_frame()


@pytest.mark.parametrize("pdu_type", [1, 2, 3, 5, 6, 7])
def test_reader_association_pdu_of_4_gib_rejected_at_once(pdu_type: int) -> None:
    """RELIABILITY #25: a 4 GiB length is refused from the header; nothing is allocated."""
    reader = P.PDUReader(16384)
    reader.feed(bytes((pdu_type, 0)) + b"\xff\xff\xff\xff")
    with pytest.raises(RemoteProtocolError) as info:
        reader.next_frame()
    assert info.value.abort_reason == 6
    assert reader.buffered == 6


def test_reader_association_bound() -> None:
    reader = P.PDUReader(16384, max_association_length=1000)
    reader.feed(b"\x02\x00" + struct.pack(">L", 1000))
    assert reader.next_frame() is None
    reader = P.PDUReader(16384, max_association_length=1000)
    reader.feed(b"\x02\x00" + struct.pack(">L", 1001))
    with pytest.raises(RemoteProtocolError):
        reader.next_frame()


def test_reader_unknown_pdu_type_reason_1() -> None:
    """RELIABILITY #26 / PS3.8 9.3.8: unrecognized PDU -> A-ABORT reason 1."""
    reader = P.PDUReader(16384)
    reader.feed(b"\x08\x00\x00\x00\x00\x04\x00\x00\x00\x00")
    with pytest.raises(RemoteProtocolError) as info:
        reader.next_frame()
    assert (info.value.abort_source, info.value.abort_reason) == (2, 1)


def test_reader_max_zero_means_unlimited_cap() -> None:
    """PS3.8 D.1: maximum length 0 = no limit; we still cap it (unlimited_cap)."""
    reader = P.PDUReader(0, unlimited_cap=1 << 20)
    assert reader.max_pdata_length == 1 << 20
    reader.feed(P.pdata_header(1 << 20))
    assert reader.next_frame() is None
    reader = P.PDUReader(0, unlimited_cap=1 << 20)
    reader.feed(P.pdata_header((1 << 20) + 1))
    with pytest.raises(RemoteProtocolError):
        reader.next_frame()
    assert P.PDUReader(0).max_pdata_length == 64 * 1024 * 1024


def test_reader_zero_length_body_frames() -> None:
    """A zero-length PDU is framed (and then rejected by the decoder, not the reader)."""
    reader = P.PDUReader(16384)
    reader.feed(b"\x05\x00\x00\x00\x00\x00")
    frame = reader.next_frame()
    assert frame is not None
    assert (frame[0], bytes(frame[1])) == (5, b"")
    with pytest.raises(RemoteProtocolError):
        P.decode_pdu(*frame)


# ------------------------------------------------------- property tests (fuzz)


@st.composite
def mutated_pdu(draw: st.DrawFn) -> bytes:
    """A golden PDU with a few random byte edits, truncations or insertions."""
    raw = bytearray(draw(st.sampled_from([raw for raw, _ in GOLDEN])))
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        op = draw(st.sampled_from(["flip", "cut", "insert", "delete"]))
        pos = draw(st.integers(min_value=0, max_value=max(len(raw) - 1, 0)))
        if op == "flip" and raw:
            raw[pos] = draw(st.integers(min_value=0, max_value=255))
        elif op == "cut":
            del raw[pos:]
        elif op == "insert":
            raw[pos:pos] = draw(st.binary(min_size=1, max_size=8))
        elif op == "delete":
            del raw[pos : pos + draw(st.integers(min_value=1, max_value=8))]
    return bytes(raw)


FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(st.integers(min_value=0, max_value=255), st.binary(max_size=400))
def test_decode_pdu_random_bytes_only_raises_protocol_error(pdu_type: int, body: bytes) -> None:
    try:
        result = P.decode_pdu(pdu_type, body)
    except RemoteProtocolError as exc:
        assert exc.abort_source == 2
        assert exc.abort_reason in (1, 4, 6)
    else:
        assert result.pdu_type == pdu_type


@FUZZ
@given(mutated_pdu())
def test_decode_pdu_mutated_golden_only_raises_protocol_error(raw: bytes) -> None:
    if len(raw) < 6:
        return
    for pdu_type in range(1, 8):
        try:
            result = P.decode_pdu(pdu_type, raw[6:])
        except RemoteProtocolError as exc:
            assert exc.abort_reason in (4, 6)
        else:
            assert result.pdu_type == pdu_type


@FUZZ
@given(
    st.lists(st.one_of(mutated_pdu(), st.binary(max_size=40)), max_size=6),
    st.lists(st.integers(min_value=1, max_value=64), min_size=1, max_size=8),
)
def test_reader_random_stream_only_raises_protocol_error(
    parts: list[bytes], chunk_sizes: list[int]
) -> None:
    stream = b"".join(parts)
    reader = P.PDUReader(1024, max_association_length=4096)
    offset = 0
    i = 0
    try:
        while offset < len(stream):
            size = chunk_sizes[i % len(chunk_sizes)]
            reader.feed(stream[offset : offset + size])
            offset += size
            i += 1
            while (frame := reader.next_frame()) is not None:
                pdu_type, body = frame
                assert len(body) <= (1024 if pdu_type == P.P_DATA_TF else 4096)
                try:
                    P.decode_pdu(pdu_type, body)
                except RemoteProtocolError:
                    pass
    except RemoteProtocolError as exc:
        assert exc.abort_reason in (1, 6)
    # Memory stays bounded: never more than what was fed.
    assert reader.buffered <= len(stream)
