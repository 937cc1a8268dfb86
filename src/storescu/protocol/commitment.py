"""Storage Commitment Push Model messages (PS3.4 Annex J; PS3.7 10.1.4, 10.1.5).

Two halves, both sans-IO:

* the DIMSE-N command sets this service needs: N-ACTION-RQ/RSP (PS3.7 10.1.5)
  and N-EVENT-REPORT-RQ/RSP (PS3.7 10.1.4), group 0000, implicit VR little
  endian like every command set (PS3.7 6.3.1);
* the two datasets they carry (PS3.4 J.3.2.1.1 and J.3.3.1.1): the Transaction
  UID, the Referenced SOP Sequence and the Failed SOP Sequence with its Failure
  Reasons.

Why a hand-written dataset codec and not pydicom: the protocol layer imports
no pydicom (it must stay sans-IO and cheap to import), these datasets have five
elements of interest, and the peer's bytes are untrusted. The decoder walks
implicit or explicit VR little endian (the only syntaxes we propose for this
class), checks every length against what remains, bounds the nesting depth,
the number of items and the dataset size, skips elements it does not know,
and raises :class:`~storescu.kernel.errors.RemoteProtocolError` for anything
malformed, never another exception.
"""

from __future__ import annotations

import struct
from typing import Final

from storescu.kernel.errors import RemoteProtocolError
from storescu.kernel.records import dataclass
from storescu.protocol import dimse
from storescu.protocol.dimse import _command, _pad_uid  # the group 0000 packer

#: Storage Commitment Push Model SOP Class and its well-known instance (PS3.4 J.3, PS3.6 A).
STORAGE_COMMITMENT_SOP_CLASS: Final = "1.2.840.10008.1.20.1"
STORAGE_COMMITMENT_SOP_INSTANCE: Final = "1.2.840.10008.1.20.1.1"

# Command Field values (PS3.7 E.1).
N_EVENT_REPORT_RQ: Final = 0x0100
N_EVENT_REPORT_RSP: Final = 0x8100
N_ACTION_RQ: Final = 0x0130
N_ACTION_RSP: Final = 0x8130

# Group 0000 elements of the N services (PS3.7 E.1).
REQUESTED_SOP_CLASS_UID: Final = 0x0003
REQUESTED_SOP_INSTANCE_UID: Final = 0x1001
EVENT_TYPE_ID: Final = 0x1002
ACTION_TYPE_ID: Final = 0x1008

#: PS3.4 J.3.2.1: Action Type ID 1, "Request Storage Commitment".
ACTION_REQUEST_COMMITMENT: Final = 1
#: PS3.4 J.3.3.1: Event Type ID 1 all succeeded, 2 failures exist.
EVENT_ALL_COMMITTED: Final = 1
EVENT_FAILURES: Final = 2

# Dataset tags (PS3.6), as 32-bit group << 16 | element.
TRANSACTION_UID: Final = 0x00081195
REFERENCED_SOP_SEQUENCE: Final = 0x00081199
FAILED_SOP_SEQUENCE: Final = 0x00081198
REFERENCED_SOP_CLASS_UID: Final = 0x00081150
REFERENCED_SOP_INSTANCE_UID: Final = 0x00081155
FAILURE_REASON: Final = 0x00081197

#: PS3.3 C.14.1.1 Failure Reason values.
FAILURE_REASONS: Final[dict[int, str]] = {
    0x0110: "processing failure",
    0x0112: "no such object instance",
    0x0213: "resource limitation",
    0x0122: "referenced SOP class not supported",
    0x0119: "class / instance conflict",
    0x0131: "duplicate transaction UID",
}

#: Bounds on what a peer may send us (peer data is untrusted).
MAX_DATASET: Final = 32 * 1024 * 1024
MAX_REFERENCES: Final = 100_000
_MAX_DEPTH: Final = 4
_MAX_UID: Final = 64

_ITEM: Final = 0xFFFEE000
_ITEM_END: Final = 0xFFFEE00D
_SEQUENCE_END: Final = 0xFFFEE0DD
_UNDEFINED: Final = 0xFFFFFFFF
_SEQUENCES: Final = frozenset({REFERENCED_SOP_SEQUENCE, FAILED_SOP_SEQUENCE})
_LONG_VRS: Final = frozenset(
    {b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"SV", b"UC", b"UN", b"UR", b"UT", b"UV"}
)
_VR_OF: Final = {
    TRANSACTION_UID: b"UI",
    REFERENCED_SOP_SEQUENCE: b"SQ",
    FAILED_SOP_SEQUENCE: b"SQ",
    REFERENCED_SOP_CLASS_UID: b"UI",
    REFERENCED_SOP_INSTANCE_UID: b"UI",
    FAILURE_REASON: b"US",
}
_U16 = struct.Struct("<H")
_U32 = struct.Struct("<L")
_TAG = struct.Struct("<HH")

Reference = tuple[str, str]
"""(SOP Class UID, SOP Instance UID)."""


def describe_failure(reason: int) -> str:
    """``0x0112 no such object instance``: a PS3.3 C.14.1.1 reason in hex and words."""
    return f"0x{reason:04X} {FAILURE_REASONS.get(reason, 'unknown failure reason')}"


def _error(message: str) -> RemoteProtocolError:
    return RemoteProtocolError(f"Storage Commitment: {message}", abort_source=0, abort_reason=0)


# ------------------------------------------------------------------ commands


def encode_n_action_rq(message_id: int, transaction_dataset: bool = True) -> bytes:
    """N-ACTION-RQ requesting storage commitment (PS3.7 10.1.5.1.1, PS3.4 J.3.2)."""
    return _command(
        [
            (REQUESTED_SOP_CLASS_UID, _pad_uid(STORAGE_COMMITMENT_SOP_CLASS)),
            (dimse.COMMAND_FIELD, _U16.pack(N_ACTION_RQ)),
            (dimse.MESSAGE_ID, _U16.pack(message_id)),
            (
                dimse.COMMAND_DATA_SET_TYPE,
                _U16.pack(dimse.DATASET_PRESENT if transaction_dataset else dimse.NO_DATASET),
            ),
            (REQUESTED_SOP_INSTANCE_UID, _pad_uid(STORAGE_COMMITMENT_SOP_INSTANCE)),
            (ACTION_TYPE_ID, _U16.pack(ACTION_REQUEST_COMMITMENT)),
        ]
    )


def encode_n_action_rsp(message_id: int, status: int) -> bytes:
    """N-ACTION-RSP without a dataset (PS3.7 10.1.5.1.2)."""
    return _command(
        [
            (dimse.AFFECTED_SOP_CLASS_UID, _pad_uid(STORAGE_COMMITMENT_SOP_CLASS)),
            (dimse.COMMAND_FIELD, _U16.pack(N_ACTION_RSP)),
            (dimse.MESSAGE_ID_BEING_RESPONDED_TO, _U16.pack(message_id)),
            (dimse.COMMAND_DATA_SET_TYPE, _U16.pack(dimse.NO_DATASET)),
            (dimse.STATUS, _U16.pack(status)),
            (dimse.AFFECTED_SOP_INSTANCE_UID, _pad_uid(STORAGE_COMMITMENT_SOP_INSTANCE)),
            (ACTION_TYPE_ID, _U16.pack(ACTION_REQUEST_COMMITMENT)),
        ]
    )


def encode_n_event_report_rq(message_id: int, event_type: int) -> bytes:
    """N-EVENT-REPORT-RQ announcing a commitment result dataset (PS3.7 10.1.4.1.1)."""
    return _command(
        [
            (dimse.AFFECTED_SOP_CLASS_UID, _pad_uid(STORAGE_COMMITMENT_SOP_CLASS)),
            (dimse.COMMAND_FIELD, _U16.pack(N_EVENT_REPORT_RQ)),
            (dimse.MESSAGE_ID, _U16.pack(message_id)),
            (dimse.COMMAND_DATA_SET_TYPE, _U16.pack(dimse.DATASET_PRESENT)),
            (dimse.AFFECTED_SOP_INSTANCE_UID, _pad_uid(STORAGE_COMMITMENT_SOP_INSTANCE)),
            (EVENT_TYPE_ID, _U16.pack(event_type)),
        ]
    )


def encode_n_event_report_rsp(message_id: int, status: int, event_type: int | None) -> bytes:
    """N-EVENT-REPORT-RSP without a dataset (PS3.7 10.1.4.1.2)."""
    elements = [
        (dimse.AFFECTED_SOP_CLASS_UID, _pad_uid(STORAGE_COMMITMENT_SOP_CLASS)),
        (dimse.COMMAND_FIELD, _U16.pack(N_EVENT_REPORT_RSP)),
        (dimse.MESSAGE_ID_BEING_RESPONDED_TO, _U16.pack(message_id)),
        (dimse.COMMAND_DATA_SET_TYPE, _U16.pack(dimse.NO_DATASET)),
        (dimse.STATUS, _U16.pack(status)),
        (dimse.AFFECTED_SOP_INSTANCE_UID, _pad_uid(STORAGE_COMMITMENT_SOP_INSTANCE)),
    ]
    if event_type is not None:
        elements.append((EVENT_TYPE_ID, _U16.pack(event_type)))
    return _command(elements)


def command_us(command: dimse.Command, tag: int) -> int | None:
    """A US element of an N command (dimse's decoder keeps N-only tags as raw bytes)."""
    value = command.elements.get(tag)
    if isinstance(value, int):
        return value
    if isinstance(value, bytes) and len(value) == 2:
        return int(_U16.unpack(value)[0])
    return None


# ------------------------------------------------------------------ datasets


@dataclass(frozen=True, slots=True)
class CommitmentRequest:
    """The N-ACTION-RQ dataset (PS3.4 J.3.2.1.1)."""

    transaction_uid: str
    references: tuple[Reference, ...]


@dataclass(frozen=True, slots=True)
class CommitmentReport:
    """The N-EVENT-REPORT-RQ dataset (PS3.4 J.3.3.1.1).

    ``failed`` holds (class UID, instance UID, failure reason) triples.
    """

    transaction_uid: str
    committed: tuple[Reference, ...]
    failed: tuple[tuple[str, str, int], ...]

    @property
    def event_type(self) -> int:
        """1 when nothing failed, else 2 (PS3.4 J.3.3.1)."""
        return EVENT_FAILURES if self.failed else EVENT_ALL_COMMITTED


def _header(tag: int, vr: bytes, length: int, explicit: bool) -> bytes:
    group_elem = _TAG.pack(tag >> 16, tag & 0xFFFF)
    if not explicit:
        return group_elem + _U32.pack(length)
    if vr in _LONG_VRS:
        return group_elem + vr + b"\x00\x00" + _U32.pack(length)
    return group_elem + vr + _U16.pack(length)


def _elem(tag: int, value: bytes, explicit: bool) -> bytes:
    return _header(tag, _VR_OF[tag], len(value), explicit) + value


def _sequence(tag: int, items: list[bytes], explicit: bool) -> bytes:
    body = b"".join(_TAG.pack(0xFFFE, 0xE000) + _U32.pack(len(item)) + item for item in items)
    return _header(tag, b"SQ", len(body), explicit) + body


def _ref_item(sop_class: str, instance: str, explicit: bool) -> bytes:
    return _elem(REFERENCED_SOP_CLASS_UID, _pad_uid(sop_class), explicit) + _elem(
        REFERENCED_SOP_INSTANCE_UID, _pad_uid(instance), explicit
    )


def encode_request(request: CommitmentRequest, explicit: bool = False) -> bytes:
    """Encode the N-ACTION dataset, implicit (default) or explicit VR little endian."""
    items = [_ref_item(c, i, explicit) for c, i in request.references]
    return _elem(TRANSACTION_UID, _pad_uid(request.transaction_uid), explicit) + _sequence(
        REFERENCED_SOP_SEQUENCE, items, explicit
    )


def encode_report(report: CommitmentReport, explicit: bool = False) -> bytes:
    """Encode the N-EVENT-REPORT dataset; sequences that would be empty are left out."""
    out = _elem(TRANSACTION_UID, _pad_uid(report.transaction_uid), explicit)
    if report.failed:
        # Tags ascend: (0008,1198) Failed before (0008,1199) Referenced.
        items = [
            _ref_item(c, i, explicit) + _elem(FAILURE_REASON, _U16.pack(reason), explicit)
            for c, i, reason in report.failed
        ]
        out += _sequence(FAILED_SOP_SEQUENCE, items, explicit)
    if report.committed:
        items = [_ref_item(c, i, explicit) for c, i in report.committed]
        out += _sequence(REFERENCED_SOP_SEQUENCE, items, explicit)
    return out


_Value = bytes | list["_Elements"]
_Elements = dict[int, _Value]


class _Parser:
    """A bounded walk over little endian elements (implicit or explicit VR)."""

    def __init__(self, data: bytes | bytearray | memoryview, explicit: bool) -> None:
        if len(data) > MAX_DATASET:
            raise _error(f"dataset of {len(data)} bytes exceeds {MAX_DATASET}")
        self.data = bytes(data)
        self.explicit = explicit
        self.items = 0

    def elements(
        self, offset: int, end: int, depth: int, until: int | None
    ) -> tuple[_Elements, int]:
        """Parse elements in [offset, end); stop after the delimiter `until` when given."""
        out: _Elements = {}
        while offset < end:
            tag, vr, length, offset = self._header(offset, end)
            if until is not None and tag == until:
                return out, offset
            if tag in _SEQUENCES or (length == _UNDEFINED and vr in (b"SQ", b"UN", None)):
                items, offset = self._sequence(offset, end, length, depth)
                if tag in _SEQUENCES:
                    out[tag] = items
                continue
            if length == _UNDEFINED:
                raise _error(f"element ({tag >> 16:04X},{tag & 0xFFFF:04X}) of undefined length")
            out[tag] = self.data[offset : offset + length]
            offset += length
        if until is not None:
            raise _error("item or sequence without its delimiter")
        return out, offset

    def _header(self, offset: int, end: int) -> tuple[int, bytes | None, int, int]:
        if end - offset < 8:
            raise _error(f"truncated element header at offset {offset}")
        group, element = _TAG.unpack_from(self.data, offset)
        tag = group << 16 | element
        vr: bytes | None = None
        if group == 0xFFFE or not self.explicit:
            length = _U32.unpack_from(self.data, offset + 4)[0]
            offset += 8
        else:
            vr = self.data[offset + 4 : offset + 6]
            if vr in _LONG_VRS:
                if end - offset < 12:
                    raise _error(f"truncated element header at offset {offset}")
                length = _U32.unpack_from(self.data, offset + 8)[0]
                offset += 12
            else:
                length = _U16.unpack_from(self.data, offset + 6)[0]
                offset += 8
        if length != _UNDEFINED and length > end - offset:
            raise _error(
                f"element ({group:04X},{element:04X}) claims {length} bytes, {end - offset} remain"
            )
        return tag, vr, length, offset

    def _sequence(
        self, offset: int, end: int, length: int, depth: int
    ) -> tuple[list[_Elements], int]:
        if depth >= _MAX_DEPTH:
            raise _error(f"sequences nested deeper than {_MAX_DEPTH}")
        stop = end if length == _UNDEFINED else offset + length
        items: list[_Elements] = []
        while offset < stop:
            tag, _, item_length, offset = self._header(offset, stop)
            if tag == _SEQUENCE_END and length == _UNDEFINED:
                return items, offset
            if tag != _ITEM:
                raise _error(
                    f"expected an item in a sequence, found ({tag >> 16:04X},{tag & 0xFFFF:04X})"
                )
            self.items += 1
            if self.items > MAX_REFERENCES:
                raise _error(f"more than {MAX_REFERENCES} sequence items")
            if item_length == _UNDEFINED:
                item, offset = self.elements(offset, stop, depth + 1, _ITEM_END)
            else:
                item, _ = self.elements(offset, offset + item_length, depth + 1, None)
                offset += item_length
            items.append(item)
        if length == _UNDEFINED:
            raise _error("sequence of undefined length without its delimiter")
        return items, offset


def _uid_value(elements: _Elements, tag: int, what: str) -> str:
    raw = elements.get(tag)
    if not isinstance(raw, bytes) or not raw:
        raise _error(f"{what} missing")
    if len(raw) > _MAX_UID + 1:
        raise _error(f"{what} longer than {_MAX_UID} characters")
    text = raw.decode("ascii", "replace").rstrip("\x00 ")
    if not text or not all(c.isdigit() or c == "." for c in text):
        raise _error(f"{what} {text!r} is not a UID")
    return text


def _references(elements: _Elements, tag: int, what: str) -> list[tuple[str, str, _Elements]]:
    items = elements.get(tag, [])
    if isinstance(items, bytes):
        raise _error(f"{what} is not a sequence")
    return [
        (
            _uid_value(item, REFERENCED_SOP_CLASS_UID, f"{what}: Referenced SOP Class UID"),
            _uid_value(item, REFERENCED_SOP_INSTANCE_UID, f"{what}: Referenced SOP Instance UID"),
            item,
        )
        for item in items
    ]


def _parse(data: bytes | bytearray | memoryview, explicit: bool) -> _Elements:
    parser = _Parser(data, explicit)
    elements, _ = parser.elements(0, len(parser.data), 0, None)
    return elements


def decode_request(
    data: bytes | bytearray | memoryview, explicit: bool = False
) -> CommitmentRequest:
    """Decode an N-ACTION dataset (our SCP's side).

    Raises
    ------
    RemoteProtocolError
        Malformed, over a bound, or without Transaction UID.
    """
    elements = _parse(data, explicit)
    refs = _references(elements, REFERENCED_SOP_SEQUENCE, "Referenced SOP Sequence")
    return CommitmentRequest(
        _uid_value(elements, TRANSACTION_UID, "Transaction UID"),
        tuple((c, i) for c, i, _ in refs),
    )


def decode_report(data: bytes | bytearray | memoryview, explicit: bool = False) -> CommitmentReport:
    """Decode an N-EVENT-REPORT dataset (PS3.4 J.3.3.1.1).

    A Failed SOP Sequence item without a Failure Reason is kept as failed with
    0x0110 (processing failure): it is never read as committed.

    Raises
    ------
    RemoteProtocolError
        Malformed, over a bound, or without Transaction UID.
    """
    elements = _parse(data, explicit)
    committed = _references(elements, REFERENCED_SOP_SEQUENCE, "Referenced SOP Sequence")
    failed = []
    for sop_class, instance, item in _references(
        elements, FAILED_SOP_SEQUENCE, "Failed SOP Sequence"
    ):
        raw = item.get(FAILURE_REASON)
        reason = _U16.unpack(raw)[0] if isinstance(raw, bytes) and len(raw) == 2 else 0x0110
        failed.append((sop_class, instance, reason))
    return CommitmentReport(
        _uid_value(elements, TRANSACTION_UID, "Transaction UID"),
        tuple((c, i) for c, i, _ in committed),
        tuple(failed),
    )
