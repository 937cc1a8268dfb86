"""DIMSE command sets for C-STORE and C-ECHO (PS3.7 section 9 and Annex E).

Command sets are always implicit VR little endian, group 0000 only (PS3.7
6.3.1), so they are packed directly with :mod:`struct` instead of going through
a dataset library: the sender encodes one per file on its hot path.

Decoding treats the peer's bytes as untrusted: the command set is bounded by
:data:`~storescu.kernel.constants.MAX_COMMAND_SET`, every element length is checked
against what remains, and only group 0000 is accepted.
"""

from __future__ import annotations

import struct
from typing import Final

from storescu.kernel.constants import MAX_COMMAND_SET
from storescu.kernel.errors import RemoteProtocolError
from storescu.kernel.records import dataclass

# Command Field values (PS3.7 E.1).
C_STORE_RQ: Final = 0x0001
C_STORE_RSP: Final = 0x8001
C_ECHO_RQ: Final = 0x0030
C_ECHO_RSP: Final = 0x8030

# Tags of group 0000 used here, as 32-bit (group << 16 | element) keys.
COMMAND_GROUP_LENGTH: Final = 0x00000000
AFFECTED_SOP_CLASS_UID: Final = 0x00000002
COMMAND_FIELD: Final = 0x00000100
MESSAGE_ID: Final = 0x00000110
MESSAGE_ID_BEING_RESPONDED_TO: Final = 0x00000120
MOVE_DESTINATION: Final = 0x00000600
PRIORITY: Final = 0x00000700
COMMAND_DATA_SET_TYPE: Final = 0x00000800
STATUS: Final = 0x00000900
OFFENDING_ELEMENT: Final = 0x00000901
ERROR_COMMENT: Final = 0x00000902
ERROR_ID: Final = 0x00000903
AFFECTED_SOP_INSTANCE_UID: Final = 0x00001000
MOVE_ORIGINATOR_AE_TITLE: Final = 0x00001030
MOVE_ORIGINATOR_MESSAGE_ID: Final = 0x00001031

#: PS3.7 E.1: CommandDataSetType 0x0101 means "no dataset"; anything else means one follows.
NO_DATASET: Final = 0x0101
DATASET_PRESENT: Final = 0x0000

PRIORITY_MEDIUM: Final = 0x0000
PRIORITY_HIGH: Final = 0x0001
PRIORITY_LOW: Final = 0x0002
#: PS3.7 9.1.1.1.9 (Priority, 0000,0700): the names users give and their codes.
PRIORITIES: Final = {"low": PRIORITY_LOW, "medium": PRIORITY_MEDIUM, "high": PRIORITY_HIGH}

# Value representation of the group 0000 elements we read (PS3.7 E.1, E.2).
_US_TAGS: Final = frozenset(
    {
        COMMAND_FIELD,
        MESSAGE_ID,
        MESSAGE_ID_BEING_RESPONDED_TO,
        PRIORITY,
        COMMAND_DATA_SET_TYPE,
        STATUS,
        ERROR_ID,
        MOVE_ORIGINATOR_MESSAGE_ID,
    }
)
_UL_TAGS: Final = frozenset({COMMAND_GROUP_LENGTH})
_AT_TAGS: Final = frozenset({OFFENDING_ELEMENT})

_ELEMENT_HEADER = struct.Struct("<HHL")
_US = struct.Struct("<H")
_UL = struct.Struct("<L")

CommandValue = int | str | bytes | tuple[int, ...]


def _pad_uid(uid: str) -> bytes:
    # "replace": an SCP echoes UIDs from the peer's request, which may hold any
    # byte (found by the fault suite: a non-ASCII UID killed the SCP's thread).
    raw = uid.encode("ascii", "replace")
    # PS3.5 9.1: UIDs are padded to even length with a single NUL.
    return raw + b"\x00" if len(raw) % 2 else raw


def _pad_text(text: str) -> bytes:
    raw = text.encode("ascii", "replace")
    return raw + b" " if len(raw) % 2 else raw


def _element(tag: int, value: bytes) -> bytes:
    return _ELEMENT_HEADER.pack(tag >> 16, tag & 0xFFFF, len(value)) + value


def _command(elements: list[tuple[int, bytes]]) -> bytes:
    body = b"".join(_element(tag, value) for tag, value in elements)
    # (0000,0000) CommandGroupLength counts the bytes after itself (PS3.7 E.1).
    return _element(COMMAND_GROUP_LENGTH, _UL.pack(len(body))) + body


#: (SOP Class UID, priority) -> the C-STORE-RQ bytes before the Message ID
#: value and between it and the SOP Instance UID element.
_STORE_RQ_PARTS: dict[tuple[str, int], tuple[bytes, bytes]] = {}


def encode_c_store_rq(
    message_id: int,
    sop_class_uid: str,
    sop_instance_uid: str,
    priority: int = PRIORITY_MEDIUM,
    move_originator: tuple[str, int] | None = None,
) -> bytes:
    """Encode a C-STORE-RQ command set (PS3.7 9.3.1.1)."""
    if move_originator is None:
        # The sender's hot path: everything but the Message ID and the SOP
        # Instance UID is the same for every file of a SOP class.
        parts = _STORE_RQ_PARTS.get((sop_class_uid, priority))
        if parts is None:
            if len(_STORE_RQ_PARTS) > 256:
                _STORE_RQ_PARTS.clear()
            parts = _STORE_RQ_PARTS[(sop_class_uid, priority)] = (
                _element(AFFECTED_SOP_CLASS_UID, _pad_uid(sop_class_uid))
                + _element(COMMAND_FIELD, _US.pack(C_STORE_RQ))
                + _ELEMENT_HEADER.pack(0x0000, MESSAGE_ID, 2),
                _element(PRIORITY, _US.pack(priority))
                + _element(COMMAND_DATA_SET_TYPE, _US.pack(DATASET_PRESENT)),
            )
        instance = _pad_uid(sop_instance_uid)
        body = b"".join(
            (
                parts[0],
                _US.pack(message_id),
                parts[1],
                _ELEMENT_HEADER.pack(0x0000, AFFECTED_SOP_INSTANCE_UID, len(instance)),
                instance,
            )
        )
        return _element(COMMAND_GROUP_LENGTH, _UL.pack(len(body))) + body
    elements = [
        (AFFECTED_SOP_CLASS_UID, _pad_uid(sop_class_uid)),
        (COMMAND_FIELD, _US.pack(C_STORE_RQ)),
        (MESSAGE_ID, _US.pack(message_id)),
        (PRIORITY, _US.pack(priority)),
        (COMMAND_DATA_SET_TYPE, _US.pack(DATASET_PRESENT)),
        (AFFECTED_SOP_INSTANCE_UID, _pad_uid(sop_instance_uid)),
    ]
    if move_originator is not None:
        aet, move_id = move_originator
        elements.append((MOVE_ORIGINATOR_AE_TITLE, aet.encode("ascii").ljust(16)))
        elements.append((MOVE_ORIGINATOR_MESSAGE_ID, _US.pack(move_id)))
    return _command(elements)


def encode_c_store_rsp(
    message_id_being_responded_to: int,
    sop_class_uid: str,
    sop_instance_uid: str,
    status: int,
    error_comment: str | None = None,
) -> bytes:
    """Encode a C-STORE-RSP command set (PS3.7 9.3.1.2)."""
    elements = [
        (AFFECTED_SOP_CLASS_UID, _pad_uid(sop_class_uid)),
        (COMMAND_FIELD, _US.pack(C_STORE_RSP)),
        (MESSAGE_ID_BEING_RESPONDED_TO, _US.pack(message_id_being_responded_to)),
        (COMMAND_DATA_SET_TYPE, _US.pack(NO_DATASET)),
        (STATUS, _US.pack(status)),
    ]
    if error_comment:
        elements.append((ERROR_COMMENT, _pad_text(error_comment[:64])))
    elements.append((AFFECTED_SOP_INSTANCE_UID, _pad_uid(sop_instance_uid)))
    return _command(elements)


def encode_c_echo_rq(message_id: int) -> bytes:
    """Encode a C-ECHO-RQ command set (PS3.7 9.3.5.1)."""
    return _command(
        [
            (AFFECTED_SOP_CLASS_UID, _pad_uid("1.2.840.10008.1.1")),
            (COMMAND_FIELD, _US.pack(C_ECHO_RQ)),
            (MESSAGE_ID, _US.pack(message_id)),
            (COMMAND_DATA_SET_TYPE, _US.pack(NO_DATASET)),
        ]
    )


def encode_c_echo_rsp(message_id_being_responded_to: int, status: int = 0) -> bytes:
    """Encode a C-ECHO-RSP command set (PS3.7 9.3.5.2)."""
    return _command(
        [
            (AFFECTED_SOP_CLASS_UID, _pad_uid("1.2.840.10008.1.1")),
            (COMMAND_FIELD, _US.pack(C_ECHO_RSP)),
            (MESSAGE_ID_BEING_RESPONDED_TO, _US.pack(message_id_being_responded_to)),
            (COMMAND_DATA_SET_TYPE, _US.pack(NO_DATASET)),
            (STATUS, _US.pack(status)),
        ]
    )


def _dimse_error(message: str) -> RemoteProtocolError:
    # A malformed command set is a DIMSE (service-user level) violation: DCMTK
    # answers it with an A-ABORT from the service user (source 0).
    return RemoteProtocolError(message, abort_source=0, abort_reason=0)


@dataclass(frozen=True, slots=True)
class Command:
    """A decoded command set: group 0000 elements by 32-bit tag."""

    elements: dict[int, CommandValue]

    def get_int(self, tag: int) -> int | None:
        """Return a US/UL element's value, or None when absent or not a number."""
        value = self.elements.get(tag)
        return value if isinstance(value, int) else None

    def get_str(self, tag: int) -> str | None:
        """Return a text element (UI, LO, AE...) stripped of padding."""
        value = self.elements.get(tag)
        if isinstance(value, bytes):
            return value.decode("ascii", "replace").rstrip("\x00 ")
        return None

    @property
    def command_field(self) -> int | None:
        """(0000,0100) Command Field."""
        return self.get_int(COMMAND_FIELD)

    @property
    def has_dataset(self) -> bool:
        """True unless (0000,0800) says 0x0101 (no dataset)."""
        return self.get_int(COMMAND_DATA_SET_TYPE) != NO_DATASET


def decode_command(data: bytes | bytearray | memoryview) -> Command:
    """Decode an implicit VR little endian group 0000 command set.

    Raises
    ------
    RemoteProtocolError
        On any length that runs past the data, a tag outside group 0000, a
        bad US/UL length, or a command set beyond the size bound.
    """
    if len(data) > MAX_COMMAND_SET:
        raise _dimse_error(f"command set of {len(data)} bytes exceeds {MAX_COMMAND_SET}")
    view = memoryview(data)
    elements: dict[int, CommandValue] = {}
    offset = 0
    end = len(view)
    while offset < end:
        if end - offset < 8:
            raise _dimse_error(f"truncated element header at offset {offset} of command set")
        group, elem, length = _ELEMENT_HEADER.unpack_from(view, offset)
        offset += 8
        if group != 0x0000:
            raise _dimse_error(
                f"element ({group:04X},{elem:04X}) outside group 0000 in command set"
            )
        if length > end - offset:
            raise _dimse_error(
                f"element (0000,{elem:04X}) claims {length} bytes, {end - offset} remain"
            )
        raw = view[offset : offset + length]
        offset += length
        tag = elem
        if tag in _US_TAGS:
            if length != 2:
                raise _dimse_error(f"element (0000,{elem:04X}) must be 2 bytes (US), is {length}")
            elements[tag] = _US.unpack(raw)[0]
        elif tag in _UL_TAGS:
            if length != 4:
                raise _dimse_error(f"element (0000,{elem:04X}) must be 4 bytes (UL), is {length}")
            elements[tag] = _UL.unpack(raw)[0]
        elif tag in _AT_TAGS:
            if length % 4:
                raise _dimse_error(f"element (0000,{elem:04X}) is not a list of tags")
            elements[tag] = tuple((g << 16) | e for g, e in struct.iter_unpack("<HH", raw))
        else:
            elements[tag] = bytes(raw)
    return Command(elements)


@dataclass(frozen=True, slots=True)
class CommandReceived:
    """A complete command set arrived on ``context_id``."""

    context_id: int
    command: Command


@dataclass(frozen=True, slots=True)
class DatasetFragment:
    """A fragment of the dataset that follows a command; ``last`` ends it."""

    context_id: int
    data: bytes
    last: bool


MessageEvent = CommandReceived | DatasetFragment


class MessageAssembler:
    """Reassembles PDV fragments into commands and dataset fragments (PS3.7 8.1).

    Commands are buffered (bounded by MAX_COMMAND_SET); datasets are passed on
    fragment by fragment so a receiver can stream them to disk.

    Parameters
    ----------
    accepted_contexts : set of int
        IDs of the accepted presentation contexts; a PDV on any other ID is a
        protocol violation.
    """

    def __init__(self, accepted_contexts: set[int] | frozenset[int]) -> None:
        self.accepted_contexts = accepted_contexts
        self._command = bytearray()
        self._command_context: int | None = None
        self._expect_dataset_on: int | None = None

    @property
    def expecting_dataset(self) -> bool:
        """True between a command announcing a dataset and its last fragment."""
        return self._expect_dataset_on is not None

    def feed(
        self, context_id: int, is_command: bool, is_last: bool, data: bytes
    ) -> MessageEvent | None:
        """Take one PDV; return an event when a command completes or dataset bytes arrive."""
        if context_id not in self.accepted_contexts:
            raise _dimse_error(f"PDV on presentation context {context_id}, which was not accepted")
        if is_command:
            if self._expect_dataset_on is not None:
                raise _dimse_error("command fragment received while a dataset was expected")
            if self._command_context not in (None, context_id):
                raise _dimse_error("command fragments on different presentation contexts")
            self._command_context = context_id
            if len(self._command) + len(data) > MAX_COMMAND_SET:
                raise _dimse_error(f"command set exceeds {MAX_COMMAND_SET} bytes")
            self._command += data
            if not is_last:
                return None
            command = decode_command(self._command)
            self._command.clear()
            self._command_context = None
            if command.has_dataset:
                self._expect_dataset_on = context_id
            return CommandReceived(context_id, command)
        if self._expect_dataset_on is None:
            raise _dimse_error("dataset fragment received without a command announcing it")
        if context_id != self._expect_dataset_on:
            raise _dimse_error("dataset fragment on another presentation context than its command")
        if is_last:
            self._expect_dataset_on = None
        return DatasetFragment(context_id, data, is_last)
