"""DIMSE command sets and message reassembly (storescu.protocol.dimse), PS3.7 sections 6.3, 9 and E.

Command sets are implicit VR little endian, group 0000 only (PS3.7 6.3.1,
Annex E). Golden bytes are written by hand; each line decodes one element as
``tag | length | value``. A quoted string stands for its ASCII bytes.
"""

from __future__ import annotations

import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from storescu.kernel.constants import MAX_COMMAND_SET
from storescu.kernel.errors import RemoteProtocolError
from storescu.protocol import dimse as D
from tests.helpers.golden import golden

CT = "1.2.840.10008.5.1.4.1.1.2"  # 25 characters: padded with one NUL (PS3.5 9.1)

# PS3.7 9.3.1.1 (Table 9.3-1), E.1.
C_STORE_RQ_GOLDEN = golden(
    """
    00 00 00 00 | 04 00 00 00 | 5a 00 00 00      # (0000,0000) UL CommandGroupLength = 90
    00 00 02 00 | 1a 00 00 00                    # (0000,0002) UI AffectedSOPClassUID, 26 bytes
    "1.2.840.10008.5.1.4.1.1.2" 00               #   CT Image Storage + NUL pad to even length
    00 00 00 01 | 02 00 00 00 | 01 00            # (0000,0100) US CommandField = 0001 C-STORE-RQ
    00 00 10 01 | 02 00 00 00 | 07 00            # (0000,0110) US MessageID = 7
    00 00 00 07 | 02 00 00 00 | 00 00            # (0000,0700) US Priority = 0 MEDIUM
    00 00 00 08 | 02 00 00 00 | 00 00            # (0000,0800) US CommandDataSetType = 0000 present
    00 00 00 10 | 08 00 00 00 | "1.2.3.4" 00      # (0000,1000) UI AffectedSOPInstanceUID + NUL pad
    """
)

# PS3.7 9.3.1.2 (Table 9.3-2).
C_STORE_RSP_GOLDEN = golden(
    """
    00 00 00 00 | 04 00 00 00 | 6c 00 00 00      # (0000,0000) UL CommandGroupLength = 108
    00 00 02 00 | 1a 00 00 00                    # (0000,0002) UI AffectedSOPClassUID, 26 bytes
    "1.2.840.10008.5.1.4.1.1.2" 00
    00 00 00 01 | 02 00 00 00 | 01 80            # (0000,0100) US CommandField = 8001 C-STORE-RSP
    00 00 20 01 | 02 00 00 00 | 07 00            # (0000,0120) US MessageIDBeingRespondedTo = 7
    00 00 00 08 | 02 00 00 00 | 01 01            # (0000,0800) US CommandDataSetType = 0101 none
    00 00 00 09 | 02 00 00 00 | 07 a7            # (0000,0900) US Status = A707
    00 00 02 09 | 0a 00 00 00 | "disk full "     # (0000,0902) LO ErrorComment, space padded
    00 00 00 10 | 08 00 00 00 | "1.2.3.4" 00      # (0000,1000) UI AffectedSOPInstanceUID
    """
)

# PS3.7 9.3.5.1 (Table 9.3-12).
C_ECHO_RQ_GOLDEN = golden(
    """
    00 00 00 00 | 04 00 00 00 | 38 00 00 00      # (0000,0000) UL CommandGroupLength = 56
    00 00 02 00 | 12 00 00 00                    # (0000,0002) UI AffectedSOPClassUID, 18 bytes
    "1.2.840.10008.1.1" 00                       #   Verification SOP Class + NUL pad
    00 00 00 01 | 02 00 00 00 | 30 00            # (0000,0100) US CommandField = 0030 C-ECHO-RQ
    00 00 10 01 | 02 00 00 00 | 01 00            # (0000,0110) US MessageID = 1
    00 00 00 08 | 02 00 00 00 | 01 01            # (0000,0800) US CommandDataSetType = 0101 none
    """
)

# PS3.7 9.3.5.2 (Table 9.3-13).
C_ECHO_RSP_GOLDEN = golden(
    """
    00 00 00 00 | 04 00 00 00 | 42 00 00 00      # (0000,0000) UL CommandGroupLength = 66
    00 00 02 00 | 12 00 00 00                    # (0000,0002) UI AffectedSOPClassUID, 18 bytes
    "1.2.840.10008.1.1" 00
    00 00 00 01 | 02 00 00 00 | 30 80            # (0000,0100) US CommandField = 8030 C-ECHO-RSP
    00 00 20 01 | 02 00 00 00 | 01 00            # (0000,0120) US MessageIDBeingRespondedTo = 1
    00 00 00 08 | 02 00 00 00 | 01 01            # (0000,0800) US CommandDataSetType = 0101 none
    00 00 00 09 | 02 00 00 00 | 00 00            # (0000,0900) US Status = 0000 success
    """
)


# ------------------------------------------------------------------ encoding


def test_group_length_counts_the_bytes_after_itself() -> None:
    """PS3.7 E.1: (0000,0000) is the length of the rest of the command set."""
    for raw in (C_STORE_RQ_GOLDEN, C_STORE_RSP_GOLDEN, C_ECHO_RQ_GOLDEN, C_ECHO_RSP_GOLDEN):
        (length,) = struct.unpack_from("<L", raw, 8)
        assert length == len(raw) - 12


def test_encode_c_store_rq_golden() -> None:
    assert D.encode_c_store_rq(7, CT, "1.2.3.4") == C_STORE_RQ_GOLDEN


def test_encode_c_store_rsp_golden() -> None:
    raw = D.encode_c_store_rsp(7, CT, "1.2.3.4", 0xA707, error_comment="disk full")
    assert raw == C_STORE_RSP_GOLDEN


def test_encode_c_echo_golden() -> None:
    assert D.encode_c_echo_rq(1) == C_ECHO_RQ_GOLDEN
    assert D.encode_c_echo_rsp(1) == C_ECHO_RSP_GOLDEN


def test_even_length_uid_is_not_padded() -> None:
    raw = D.encode_c_store_rq(1, "1.2.840.10008.5.1.4.1.1.7", "1.22")  # 25 and 4 chars
    command = D.decode_command(raw)
    assert command.elements[D.AFFECTED_SOP_INSTANCE_UID] == b"1.22"
    assert command.get_str(D.AFFECTED_SOP_CLASS_UID) == "1.2.840.10008.5.1.4.1.1.7"


def test_c_store_rq_with_move_originator() -> None:
    """PS3.7 9.3.1.1: Move Originator AE Title (AE, 16 bytes) and Message ID (US)."""
    raw = D.encode_c_store_rq(3, CT, "1.2.3", D.PRIORITY_HIGH, ("MOVESCU", 42))
    command = D.decode_command(raw)
    assert command.elements[D.MOVE_ORIGINATOR_AE_TITLE] == b"MOVESCU         "
    assert command.get_str(D.MOVE_ORIGINATOR_AE_TITLE) == "MOVESCU"
    assert command.get_int(D.MOVE_ORIGINATOR_MESSAGE_ID) == 42
    assert command.get_int(D.PRIORITY) == D.PRIORITY_HIGH
    tags = list(command.elements)
    assert tags == sorted(tags)  # PS3.5 7.1: ascending tag order


def test_error_comment_truncated_to_64() -> None:
    """(0000,0902) ErrorComment is LO, at most 64 characters."""
    raw = D.encode_c_store_rsp(1, CT, "1.2", 0xC000, error_comment="x" * 100)
    assert D.decode_command(raw).get_str(D.ERROR_COMMENT) == "x" * 64
    no_comment = D.decode_command(D.encode_c_store_rsp(1, CT, "1.2", 0xC000))
    assert D.ERROR_COMMENT not in no_comment.elements


# ------------------------------------------------------------------ decoding


def test_decode_c_store_rq() -> None:
    command = D.decode_command(C_STORE_RQ_GOLDEN)
    assert command.elements == {
        D.COMMAND_GROUP_LENGTH: 90,
        D.AFFECTED_SOP_CLASS_UID: CT.encode() + b"\x00",
        D.COMMAND_FIELD: D.C_STORE_RQ,
        D.MESSAGE_ID: 7,
        D.PRIORITY: D.PRIORITY_MEDIUM,
        D.COMMAND_DATA_SET_TYPE: D.DATASET_PRESENT,
        D.AFFECTED_SOP_INSTANCE_UID: b"1.2.3.4\x00",
    }
    assert command.command_field == D.C_STORE_RQ
    assert command.has_dataset
    assert command.get_str(D.AFFECTED_SOP_CLASS_UID) == CT
    assert command.get_str(D.AFFECTED_SOP_INSTANCE_UID) == "1.2.3.4"
    assert command.get_int(D.AFFECTED_SOP_CLASS_UID) is None  # not a number
    assert command.get_str(D.MESSAGE_ID) is None  # not text
    assert command.get_int(D.STATUS) is None  # absent


def test_decode_c_store_rsp_round_trip() -> None:
    command = D.decode_command(memoryview(C_STORE_RSP_GOLDEN))
    assert command.command_field == D.C_STORE_RSP
    assert command.get_int(D.MESSAGE_ID_BEING_RESPONDED_TO) == 7
    assert command.get_int(D.STATUS) == 0xA707
    assert command.get_str(D.ERROR_COMMENT) == "disk full"
    assert not command.has_dataset


@pytest.mark.parametrize(
    "raw",
    [C_STORE_RQ_GOLDEN, C_STORE_RSP_GOLDEN, C_ECHO_RQ_GOLDEN, C_ECHO_RSP_GOLDEN],
    ids=["store-rq", "store-rsp", "echo-rq", "echo-rsp"],
)
def test_decode_every_golden(raw: bytes) -> None:
    command = D.decode_command(raw)
    assert command.get_int(D.COMMAND_GROUP_LENGTH) == len(raw) - 12


def test_decode_offending_element_at() -> None:
    """(0000,0901) OffendingElement is AT: a list of (group, element) pairs."""
    raw = struct.pack("<HHL", 0, 0x0901, 8) + struct.pack("<HHHH", 0x0008, 0x0016, 0x0010, 0x0010)
    assert D.decode_command(raw).elements[D.OFFENDING_ELEMENT] == (0x00080016, 0x00100010)


def test_decode_empty_command() -> None:
    assert D.decode_command(b"").elements == {}


def element(tag: int, value: bytes, length: int | None = None) -> bytes:
    return struct.pack("<HHL", tag >> 16, tag & 0xFFFF, len(value) if length is None else length)


MALFORMED = [
    ("element beyond end", element(D.AFFECTED_SOP_CLASS_UID, b"", 100) + b"1.2"),
    ("length 4 GiB", element(D.AFFECTED_SOP_CLASS_UID, b"", 0xFFFFFFFF)),
    ("truncated element header", C_ECHO_RQ_GOLDEN + b"\x00\x00\x00\x09\x02"),
    ("US of 4 bytes", element(D.COMMAND_FIELD, b"\x01\x00\x00\x00") + b"\x01\x00\x00\x00"),
    ("US of 1 byte", element(D.STATUS, b"\x01") + b"\x01"),
    ("UL group length of 2 bytes", element(D.COMMAND_GROUP_LENGTH, b"\x00\x00") + b"\x00\x00"),
    ("AT not a multiple of 4", element(D.OFFENDING_ELEMENT, b"\x08\x00") + b"\x08\x00"),
    ("group 0008", struct.pack("<HHL", 0x0008, 0x0016, 2) + b"1\x00"),
    ("group 0002 after valid", C_ECHO_RQ_GOLDEN + struct.pack("<HHL", 0x0002, 0x0010, 0)),
    (
        "beyond MAX_COMMAND_SET",
        element(0x00001234, bytes(MAX_COMMAND_SET)) + bytes(MAX_COMMAND_SET),
    ),
]


@pytest.mark.parametrize("raw", [m[1] for m in MALFORMED], ids=[m[0] for m in MALFORMED])
def test_decode_malformed(raw: bytes) -> None:
    """Untrusted command sets: every violation is a RemoteProtocolError (then an A-ABORT)."""
    with pytest.raises(RemoteProtocolError) as info:
        D.decode_command(raw)
    # A malformed command set is a service-user level fault (DCMTK aborts with source 0).
    assert info.value.abort_source == 0


def test_command_set_at_the_bound_is_accepted() -> None:
    raw = element(0x00001234, b"", MAX_COMMAND_SET - 8) + bytes(MAX_COMMAND_SET - 8)
    assert len(raw) == MAX_COMMAND_SET
    assert len(D.decode_command(raw).elements[0x1234]) == MAX_COMMAND_SET - 8  # type: ignore[arg-type]


@st.composite
def mutated_command(draw: st.DrawFn) -> bytes:
    raw = bytearray(
        draw(st.sampled_from([C_STORE_RQ_GOLDEN, C_STORE_RSP_GOLDEN, C_ECHO_RQ_GOLDEN]))
    )
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        pos = draw(st.integers(min_value=0, max_value=max(len(raw) - 1, 0)))
        if draw(st.booleans()) and raw:
            raw[pos] = draw(st.integers(min_value=0, max_value=255))
        else:
            del raw[pos:]
    return bytes(raw)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.binary(max_size=200), mutated_command()))
def test_decode_command_any_bytes(raw: bytes) -> None:
    """Any bytes: a Command or a RemoteProtocolError, never another exception."""
    try:
        command = D.decode_command(raw)
    except RemoteProtocolError:
        return
    assert all(isinstance(tag, int) and 0 <= tag <= 0xFFFF for tag in command.elements)
    command.command_field  # noqa: B018 - accessors must not raise either
    command.has_dataset  # noqa: B018
    command.get_str(D.AFFECTED_SOP_INSTANCE_UID)


# --------------------------------------------------------- MessageAssembler


STORE_RQ = D.encode_c_store_rq(1, CT, "1.2.3.4")
ECHO_RQ = D.encode_c_echo_rq(2)


def test_assembler_command_in_fragments_then_streamed_dataset() -> None:
    """PS3.7 8.1 / PS3.8 Annex E: command PDVs are joined; dataset PDVs pass through."""
    asm = D.MessageAssembler({1, 3})
    parts = [STORE_RQ[:10], STORE_RQ[10:50], STORE_RQ[50:]]
    assert asm.feed(1, True, False, parts[0]) is None
    assert asm.feed(1, True, False, parts[1]) is None
    event = asm.feed(1, True, True, parts[2])
    assert isinstance(event, D.CommandReceived)
    assert event.context_id == 1
    assert event.command == D.decode_command(STORE_RQ)
    assert asm.expecting_dataset

    assert asm.feed(1, False, False, b"abc") == D.DatasetFragment(1, b"abc", False)
    assert asm.expecting_dataset
    assert asm.feed(1, False, True, b"") == D.DatasetFragment(1, b"", True)
    assert not asm.expecting_dataset

    # The next message may use another accepted context.
    event = asm.feed(3, True, True, STORE_RQ)
    assert isinstance(event, D.CommandReceived)
    assert event.context_id == 3


def test_assembler_command_without_dataset() -> None:
    """PS3.7 E.1: CommandDataSetType 0x0101 means no dataset follows."""
    asm = D.MessageAssembler(frozenset({1}))
    event = asm.feed(1, True, True, ECHO_RQ)
    assert isinstance(event, D.CommandReceived)
    assert not event.command.has_dataset
    assert not asm.expecting_dataset
    assert isinstance(asm.feed(1, True, True, ECHO_RQ), D.CommandReceived)


def assembler_error(asm: D.MessageAssembler, *pdv: object) -> RemoteProtocolError:
    with pytest.raises(RemoteProtocolError) as info:
        asm.feed(*pdv)  # type: ignore[arg-type]
    return info.value


def test_assembler_pdv_on_unaccepted_context() -> None:
    asm = D.MessageAssembler({1})
    assert "not accepted" in str(assembler_error(asm, 5, True, True, ECHO_RQ))
    asm.feed(1, True, True, STORE_RQ)
    assembler_error(asm, 3, False, True, b"x")


def test_assembler_dataset_without_command() -> None:
    asm = D.MessageAssembler({1})
    assembler_error(asm, 1, False, True, b"data")
    # After a command without dataset, a dataset PDV is just as wrong.
    asm.feed(1, True, True, ECHO_RQ)
    assembler_error(asm, 1, False, False, b"data")


def test_assembler_command_while_dataset_expected() -> None:
    asm = D.MessageAssembler({1})
    asm.feed(1, True, True, STORE_RQ)
    asm.feed(1, False, False, b"part")
    assert "dataset was expected" in str(assembler_error(asm, 1, True, True, ECHO_RQ))


def test_assembler_dataset_on_another_context_than_its_command() -> None:
    asm = D.MessageAssembler({1, 3})
    asm.feed(1, True, True, STORE_RQ)
    assembler_error(asm, 3, False, True, b"x")


def test_assembler_command_fragments_on_two_contexts() -> None:
    asm = D.MessageAssembler({1, 3})
    asm.feed(1, True, False, STORE_RQ[:20])
    assembler_error(asm, 3, True, True, STORE_RQ[20:])


def test_assembler_command_beyond_bound() -> None:
    """The command buffer is bounded by MAX_COMMAND_SET whatever the fragmenting."""
    asm = D.MessageAssembler({1})
    chunk = bytes(16 * 1024)
    for _ in range(MAX_COMMAND_SET // len(chunk)):
        asm.feed(1, True, False, chunk)
    assembler_error(asm, 1, True, False, b"\x00")


def test_assembler_malformed_command() -> None:
    asm = D.MessageAssembler({1})
    assembler_error(asm, 1, True, True, b"\x08\x00\x16\x00\x00\x00\x00\x00")
