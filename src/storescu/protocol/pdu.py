"""Upper Layer PDUs and items (PS3.8 section 9.3): pure encode/decode.

Every PDU is a small frozen dataclass with ``encode() -> bytes`` and a decoder
that takes the PDU body (the bytes after the 6-byte header). Decoders treat
every length in the body as untrusted: each one is checked against what
remains before it is used, and a violation raises
:class:`~storescu.kernel.errors.RemoteProtocolError` carrying the A-ABORT reason the
state machine should send back (PS3.8 9.3.8: 1 unrecognized PDU, 2 unexpected
PDU, 4 unrecognized PDU parameter, 6 invalid PDU parameter value).

The state machine never packs bytes; this module never decides transitions.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Final

from storescu.kernel.errors import RemoteProtocolError
from storescu.kernel.records import dataclass, field

# PDU types (PS3.8 Table 9-11 .. 9-26).
A_ASSOCIATE_RQ: Final = 0x01
A_ASSOCIATE_AC: Final = 0x02
A_ASSOCIATE_RJ: Final = 0x03
P_DATA_TF: Final = 0x04
A_RELEASE_RQ: Final = 0x05
A_RELEASE_RP: Final = 0x06
A_ABORT: Final = 0x07

# Item types (PS3.8 9.3.2, Annex D).
ITEM_APPLICATION_CONTEXT: Final = 0x10
ITEM_PRESENTATION_CONTEXT_RQ: Final = 0x20
ITEM_PRESENTATION_CONTEXT_AC: Final = 0x21
ITEM_ABSTRACT_SYNTAX: Final = 0x30
ITEM_TRANSFER_SYNTAX: Final = 0x40
ITEM_USER_INFORMATION: Final = 0x50
SUB_MAX_LENGTH: Final = 0x51
SUB_IMPLEMENTATION_CLASS_UID: Final = 0x52
SUB_ASYNC_OPS_WINDOW: Final = 0x53
SUB_ROLE_SELECTION: Final = 0x54
SUB_IMPLEMENTATION_VERSION_NAME: Final = 0x55
SUB_SOP_EXTENDED: Final = 0x56
SUB_SOP_COMMON_EXTENDED: Final = 0x57
SUB_USER_IDENTITY_RQ: Final = 0x58
SUB_USER_IDENTITY_AC: Final = 0x59

# Presentation context results in an A-ASSOCIATE-AC (PS3.8 Table 9-18).
PC_ACCEPTANCE: Final = 0
PC_USER_REJECTION: Final = 1
PC_NO_REASON: Final = 2
PC_ABSTRACT_SYNTAX_NOT_SUPPORTED: Final = 3
PC_TRANSFER_SYNTAXES_NOT_SUPPORTED: Final = 4

PC_RESULT_TEXT: Final = {
    PC_ACCEPTANCE: "acceptance",
    PC_USER_REJECTION: "user-rejection",
    PC_NO_REASON: "no-reason (provider rejection)",
    PC_ABSTRACT_SYNTAX_NOT_SUPPORTED: "abstract-syntax-not-supported (provider rejection)",
    PC_TRANSFER_SYNTAXES_NOT_SUPPORTED: "transfer-syntaxes-not-supported (provider rejection)",
}

# A-ABORT reasons (PS3.8 Table 9-26), source 2 = service provider.
ABORT_NOT_SPECIFIED: Final = 0
ABORT_UNRECOGNIZED_PDU: Final = 1
ABORT_UNEXPECTED_PDU: Final = 2
ABORT_UNRECOGNIZED_PARAMETER: Final = 4
ABORT_UNEXPECTED_PARAMETER: Final = 5
ABORT_INVALID_PARAMETER: Final = 6

_HEADER = struct.Struct(">BBL")
_ITEM_HEADER = struct.Struct(">BBH")
_U16 = struct.Struct(">H")
_U32 = struct.Struct(">L")

Buffer = bytes | bytearray | memoryview


def _invalid(message: str, reason: int = ABORT_INVALID_PARAMETER) -> RemoteProtocolError:
    return RemoteProtocolError(message, abort_source=2, abort_reason=reason)


def _ascii(data: Buffer, what: str) -> str:
    try:
        return bytes(data).decode("ascii")
    except UnicodeDecodeError:
        raise _invalid(f"{what} is not ASCII") from None


def _uid(data: Buffer, what: str) -> str:
    # PS3.8 9.3.2.2: UIDs in items are not padded, but tolerate a trailing NUL
    # or space the way DCMTK does.
    return _ascii(data, what).rstrip("\x00 ")


def _item(item_type: int, value: bytes) -> bytes:
    if len(value) > 0xFFFF:
        raise ValueError(f"item 0x{item_type:02X} too long ({len(value)} bytes)")
    return _ITEM_HEADER.pack(item_type, 0, len(value)) + value


def _ae(title: str) -> bytes:
    raw = title.encode("ascii")
    if not 1 <= len(raw) <= 16:
        raise ValueError(f"AE title must be 1..16 characters: {title!r}")
    return raw.ljust(16, b" ")


def iter_items(data: Buffer, what: str) -> list[tuple[int, memoryview]]:
    """Split ``data`` into ``(item_type, value)`` pairs (PS3.8 9.3.2 item layout).

    Raises
    ------
    RemoteProtocolError
        When an item header or length runs past the end of ``data``.
    """
    view = memoryview(data)
    items: list[tuple[int, memoryview]] = []
    offset = 0
    end = len(view)
    while offset < end:
        if end - offset < 4:
            raise _invalid(f"truncated item header in {what}")
        item_type, _, length = _ITEM_HEADER.unpack_from(view, offset)
        offset += 4
        if length > end - offset:
            raise _invalid(
                f"item 0x{item_type:02X} in {what} claims {length} bytes, "
                f"only {end - offset} remain"
            )
        items.append((item_type, view[offset : offset + length]))
        offset += length
    return items


# ---------------------------------------------------------------------- items


@dataclass(frozen=True, slots=True)
class PresentationContextRQ:
    """A proposed presentation context (PS3.8 9.3.2.2)."""

    context_id: int
    abstract_syntax: str
    transfer_syntaxes: tuple[str, ...]

    def encode(self) -> bytes:
        """Encode as a 0x20 item."""
        body = bytearray((self.context_id, 0, 0, 0))
        body += _item(ITEM_ABSTRACT_SYNTAX, self.abstract_syntax.encode("ascii"))
        for ts in self.transfer_syntaxes:
            body += _item(ITEM_TRANSFER_SYNTAX, ts.encode("ascii"))
        return _item(ITEM_PRESENTATION_CONTEXT_RQ, bytes(body))

    @classmethod
    def decode(cls, value: Buffer) -> PresentationContextRQ:
        """Decode the value of a 0x20 item."""
        if len(value) < 4:
            raise _invalid("presentation context item too short")
        context_id = value[0]
        abstract = ""
        syntaxes: list[str] = []
        for sub_type, sub in iter_items(value[4:], "presentation context"):
            if sub_type == ITEM_ABSTRACT_SYNTAX:
                abstract = _uid(sub, "abstract syntax")
            elif sub_type == ITEM_TRANSFER_SYNTAX:
                syntaxes.append(_uid(sub, "transfer syntax"))
            else:
                raise _invalid(
                    f"unexpected sub-item 0x{sub_type:02X} in presentation context",
                    ABORT_UNRECOGNIZED_PARAMETER,
                )
        if not abstract or not syntaxes:
            raise _invalid(f"presentation context {context_id} lacks abstract or transfer syntax")
        return cls(context_id, abstract, tuple(syntaxes))


@dataclass(frozen=True, slots=True)
class PresentationContextAC:
    """A presentation context answer in an A-ASSOCIATE-AC (PS3.8 9.3.3.2)."""

    context_id: int
    result: int
    transfer_syntax: str

    @property
    def accepted(self) -> bool:
        """True when the result is acceptance (0)."""
        return self.result == PC_ACCEPTANCE

    def encode(self) -> bytes:
        """Encode as a 0x21 item."""
        body = bytes((self.context_id, 0, self.result, 0))
        body += _item(ITEM_TRANSFER_SYNTAX, self.transfer_syntax.encode("ascii"))
        return _item(ITEM_PRESENTATION_CONTEXT_AC, body)

    @classmethod
    def decode(cls, value: Buffer) -> PresentationContextAC:
        """Decode the value of a 0x21 item."""
        if len(value) < 4:
            raise _invalid("presentation context item too short")
        context_id, result = value[0], value[2]
        syntax = ""
        for sub_type, sub in iter_items(value[4:], "presentation context"):
            if sub_type == ITEM_TRANSFER_SYNTAX:
                syntax = _uid(sub, "transfer syntax")
            else:
                raise _invalid(
                    f"unexpected sub-item 0x{sub_type:02X} in presentation context",
                    ABORT_UNRECOGNIZED_PARAMETER,
                )
        # PS3.8 9.3.3.2: when the context is rejected the syntax is not significant
        # (and may be missing), so only an accepted context needs one.
        if result == PC_ACCEPTANCE and not syntax:
            raise _invalid(f"accepted presentation context {context_id} has no transfer syntax")
        return cls(context_id, result, syntax)


@dataclass(frozen=True, slots=True)
class RoleSelection:
    """SCP/SCU role selection sub-item (PS3.7 D.3.3.4)."""

    sop_class_uid: str
    scu_role: int
    scp_role: int


@dataclass(frozen=True, slots=True)
class UserIdentity:
    """User identity negotiation request sub-item (PS3.7 D.3.3.7.1)."""

    identity_type: int
    positive_response_requested: bool
    primary: bytes
    secondary: bytes = b""


@dataclass(frozen=True, slots=True)
class UserInformation:
    """The user information item (PS3.8 9.3.2.3, PS3.7 Annex D.3.3).

    Sub-items this program does not interpret are kept raw in ``other`` so a
    decode/encode round trip is lossless.
    """

    max_length: int = 16384
    implementation_class_uid: str = ""
    implementation_version_name: str = ""
    async_ops: tuple[int, int] | None = None
    role_selections: tuple[RoleSelection, ...] = ()
    user_identity: UserIdentity | None = None
    user_identity_response: bytes | None = None
    other: tuple[tuple[int, bytes], ...] = ()

    def encode(self) -> bytes:
        """Encode as a 0x50 item."""
        body = bytearray(_item(SUB_MAX_LENGTH, _U32.pack(self.max_length)))
        if self.implementation_class_uid:
            body += _item(SUB_IMPLEMENTATION_CLASS_UID, self.implementation_class_uid.encode())
        if self.async_ops is not None:
            body += _item(SUB_ASYNC_OPS_WINDOW, struct.pack(">HH", *self.async_ops))
        for role in self.role_selections:
            uid = role.sop_class_uid.encode()
            value = _U16.pack(len(uid)) + uid + bytes((role.scu_role, role.scp_role))
            body += _item(SUB_ROLE_SELECTION, value)
        if self.implementation_version_name:
            body += _item(
                SUB_IMPLEMENTATION_VERSION_NAME, self.implementation_version_name.encode()
            )
        if self.user_identity is not None:
            ident = self.user_identity
            value = bytes((ident.identity_type, int(ident.positive_response_requested)))
            value += _U16.pack(len(ident.primary)) + ident.primary
            value += _U16.pack(len(ident.secondary)) + ident.secondary
            body += _item(SUB_USER_IDENTITY_RQ, value)
        if self.user_identity_response is not None:
            response = self.user_identity_response
            body += _item(SUB_USER_IDENTITY_AC, _U16.pack(len(response)) + response)
        for sub_type, raw in self.other:
            body += _item(sub_type, raw)
        return _item(ITEM_USER_INFORMATION, bytes(body))

    @classmethod
    def decode(cls, value: Buffer) -> UserInformation:
        """Decode the value of a 0x50 item."""
        max_length: int | None = None
        impl_uid = ""
        impl_version = ""
        async_ops: tuple[int, int] | None = None
        roles: list[RoleSelection] = []
        identity: UserIdentity | None = None
        identity_response: bytes | None = None
        other: list[tuple[int, bytes]] = []
        for sub_type, sub in iter_items(value, "user information"):
            if sub_type == SUB_MAX_LENGTH:
                if len(sub) != 4:
                    raise _invalid("maximum length sub-item must be 4 bytes")
                max_length = _U32.unpack(sub)[0]
            elif sub_type == SUB_IMPLEMENTATION_CLASS_UID:
                impl_uid = _uid(sub, "implementation class UID")
            elif sub_type == SUB_IMPLEMENTATION_VERSION_NAME:
                impl_version = _ascii(sub, "implementation version name").rstrip("\x00 ")
            elif sub_type == SUB_ASYNC_OPS_WINDOW:
                if len(sub) != 4:
                    raise _invalid("asynchronous operations window sub-item must be 4 bytes")
                invoked, performed = struct.unpack(">HH", sub)
                async_ops = (invoked, performed)
            elif sub_type == SUB_ROLE_SELECTION:
                roles.append(_decode_role(sub))
            elif sub_type == SUB_USER_IDENTITY_RQ:
                identity = _decode_identity(sub)
            elif sub_type == SUB_USER_IDENTITY_AC:
                identity_response = _decode_sized(sub, 0, "user identity response")[0]
            else:
                other.append((sub_type, bytes(sub)))
        if max_length is None:
            # PS3.7 D.3.3.1: the maximum length sub-item is mandatory.
            raise _invalid("user information lacks the maximum length sub-item")
        return cls(
            max_length=max_length,
            implementation_class_uid=impl_uid,
            implementation_version_name=impl_version,
            async_ops=async_ops,
            role_selections=tuple(roles),
            user_identity=identity,
            user_identity_response=identity_response,
            other=tuple(other),
        )


def _decode_sized(data: Buffer, offset: int, what: str) -> tuple[bytes, int]:
    """Read a 2-byte length and that many bytes at ``offset``."""
    if len(data) - offset < 2:
        raise _invalid(f"truncated {what}")
    (length,) = _U16.unpack_from(data, offset)
    offset += 2
    if length > len(data) - offset:
        raise _invalid(f"{what} claims {length} bytes, only {len(data) - offset} remain")
    return bytes(data[offset : offset + length]), offset + length


def _decode_role(data: Buffer) -> RoleSelection:
    uid, offset = _decode_sized(data, 0, "role selection UID")
    if len(data) - offset != 2:
        raise _invalid("role selection sub-item has a bad length")
    return RoleSelection(_uid(uid, "role selection UID"), data[offset], data[offset + 1])


def _decode_identity(data: Buffer) -> UserIdentity:
    if len(data) < 2:
        raise _invalid("truncated user identity sub-item")
    primary, offset = _decode_sized(data, 2, "user identity primary field")
    secondary, offset = _decode_sized(data, offset, "user identity secondary field")
    return UserIdentity(data[0], bool(data[1]), primary, secondary)


# ----------------------------------------------------------------------- PDUs


@dataclass(frozen=True, slots=True)
class AAssociateRQ:
    """A-ASSOCIATE-RQ PDU (PS3.8 9.3.2)."""

    called_ae: str
    calling_ae: str
    presentation_contexts: tuple[PresentationContextRQ, ...]
    user_information: UserInformation = field(default_factory=UserInformation)
    application_context: str = "1.2.840.10008.3.1.1.1"
    protocol_version: int = 1

    pdu_type = A_ASSOCIATE_RQ

    def encode(self) -> bytes:
        """Encode the whole PDU, header included."""
        return _encode_associate(self)

    @classmethod
    def decode(cls, body: Buffer) -> AAssociateRQ:
        """Decode a PDU body (the bytes after the 6-byte header)."""
        version, called, calling, app, items, user = _decode_associate(body, "A-ASSOCIATE-RQ")
        contexts = tuple(
            PresentationContextRQ.decode(value)
            for item_type, value in items
            if item_type == ITEM_PRESENTATION_CONTEXT_RQ
        )
        return cls(called, calling, contexts, user, app, version)


@dataclass(frozen=True, slots=True)
class AAssociateAC:
    """A-ASSOCIATE-AC PDU (PS3.8 9.3.3)."""

    called_ae: str
    calling_ae: str
    presentation_contexts: tuple[PresentationContextAC, ...]
    user_information: UserInformation = field(default_factory=UserInformation)
    application_context: str = "1.2.840.10008.3.1.1.1"
    protocol_version: int = 1

    pdu_type = A_ASSOCIATE_AC

    def encode(self) -> bytes:
        """Encode the whole PDU, header included."""
        return _encode_associate(self)

    @classmethod
    def decode(cls, body: Buffer) -> AAssociateAC:
        """Decode a PDU body (the bytes after the 6-byte header)."""
        version, called, calling, app, items, user = _decode_associate(body, "A-ASSOCIATE-AC")
        contexts = tuple(
            PresentationContextAC.decode(value)
            for item_type, value in items
            if item_type == ITEM_PRESENTATION_CONTEXT_AC
        )
        return cls(called, calling, contexts, user, app, version)


def _encode_associate(pdu: AAssociateRQ | AAssociateAC) -> bytes:
    """Encode an A-ASSOCIATE-RQ or -AC: the two share their layout (PS3.8 9.3.2, 9.3.3).

    In the AC the AE title fields are reserved but should echo the RQ.
    """
    body = bytearray(_U16.pack(pdu.protocol_version) + b"\x00\x00")
    body += _ae(pdu.called_ae) + _ae(pdu.calling_ae) + bytes(32)
    body += _item(ITEM_APPLICATION_CONTEXT, pdu.application_context.encode("ascii"))
    for context in pdu.presentation_contexts:
        body += context.encode()
    body += pdu.user_information.encode()
    return _HEADER.pack(pdu.pdu_type, 0, len(body)) + body


def _decode_associate(
    body: Buffer, what: str
) -> tuple[int, str, str, str, list[tuple[int, memoryview]], UserInformation]:
    if len(body) < 68:
        raise _invalid(f"truncated {what} ({len(body)} bytes, at least 68 expected)")
    view = memoryview(body)
    (version,) = _U16.unpack_from(view, 0)
    # AE titles are not checked for ASCII strictly: some peers echo junk here and
    # the field is reserved in the AC (PS3.8 9.3.3).
    called = bytes(view[4:20]).decode("ascii", "replace").strip()
    calling = bytes(view[20:36]).decode("ascii", "replace").strip()
    items = iter_items(view[68:], what)
    app = ""
    user: UserInformation | None = None
    for item_type, value in items:
        if item_type == ITEM_APPLICATION_CONTEXT:
            app = _uid(value, "application context name")
        elif item_type == ITEM_USER_INFORMATION:
            user = UserInformation.decode(value)
        elif item_type not in (ITEM_PRESENTATION_CONTEXT_RQ, ITEM_PRESENTATION_CONTEXT_AC):
            raise _invalid(
                f"unexpected item 0x{item_type:02X} in {what}", ABORT_UNRECOGNIZED_PARAMETER
            )
    if not app:
        raise _invalid(f"{what} lacks the application context item")
    if user is None:
        raise _invalid(f"{what} lacks the user information item")
    return version, called, calling, app, items, user


@dataclass(frozen=True, slots=True)
class AAssociateRJ:
    """A-ASSOCIATE-RJ PDU (PS3.8 9.3.4)."""

    result: int
    source: int
    reason: int

    pdu_type = A_ASSOCIATE_RJ

    def encode(self) -> bytes:
        """Encode the whole PDU, header included."""
        return _HEADER.pack(self.pdu_type, 0, 4) + bytes((0, self.result, self.source, self.reason))

    @classmethod
    def decode(cls, body: Buffer) -> AAssociateRJ:
        """Decode a PDU body."""
        if len(body) != 4:
            raise _invalid(f"A-ASSOCIATE-RJ must have 4 bytes of body, not {len(body)}")
        return cls(body[1], body[2], body[3])


@dataclass(frozen=True, slots=True)
class PDV:
    """One presentation data value (PS3.8 9.3.5.1, Annex E.2).

    ``data`` is a fragment of a command set or dataset; ``is_command`` and
    ``is_last`` are bits 0 and 1 of the message control header.
    """

    context_id: int
    is_command: bool
    is_last: bool
    data: bytes


@dataclass(frozen=True, slots=True)
class PDataTF:
    """P-DATA-TF PDU (PS3.8 9.3.5)."""

    pdvs: tuple[PDV, ...]

    pdu_type = P_DATA_TF

    def encode(self) -> bytes:
        """Encode the whole PDU, header included."""
        body = bytearray()
        for pdv in self.pdvs:
            control = int(pdv.is_command) | (int(pdv.is_last) << 1)
            body += _U32.pack(len(pdv.data) + 2) + bytes((pdv.context_id, control)) + pdv.data
        return _HEADER.pack(self.pdu_type, 0, len(body)) + body

    @classmethod
    def decode(cls, body: Buffer) -> PDataTF:
        """Decode a PDU body; every PDV must lie within the PDU."""
        view = memoryview(body)
        pdvs: list[PDV] = []
        offset = 0
        end = len(view)
        while offset < end:
            if end - offset < 6:
                raise _invalid("truncated PDV header in P-DATA-TF")
            (length,) = _U32.unpack_from(view, offset)
            # PS3.8 9.3.5.1: the length covers the 2 header bytes and the value.
            if length < 2 or length > end - offset - 4:
                raise _invalid(
                    f"PDV length {length} does not fit in its P-DATA-TF "
                    f"({end - offset - 4} bytes remain)"
                )
            context_id = view[offset + 4]
            control = view[offset + 5]
            data = bytes(view[offset + 6 : offset + 4 + length])
            pdvs.append(PDV(context_id, bool(control & 1), bool(control & 2), data))
            offset += 4 + length
        if not pdvs:
            raise _invalid("P-DATA-TF without any PDV")
        return cls(tuple(pdvs))


@dataclass(frozen=True, slots=True)
class AReleaseRQ:
    """A-RELEASE-RQ PDU (PS3.8 9.3.6)."""

    pdu_type = A_RELEASE_RQ

    def encode(self) -> bytes:
        """Encode the whole PDU, header included."""
        return _HEADER.pack(self.pdu_type, 0, 4) + bytes(4)

    @classmethod
    def decode(cls, body: Buffer) -> AReleaseRQ:
        """Decode a PDU body."""
        if len(body) != 4:
            raise _invalid(f"A-RELEASE-RQ must have 4 bytes of body, not {len(body)}")
        return cls()


@dataclass(frozen=True, slots=True)
class AReleaseRP:
    """A-RELEASE-RP PDU (PS3.8 9.3.7)."""

    pdu_type = A_RELEASE_RP

    def encode(self) -> bytes:
        """Encode the whole PDU, header included."""
        return _HEADER.pack(self.pdu_type, 0, 4) + bytes(4)

    @classmethod
    def decode(cls, body: Buffer) -> AReleaseRP:
        """Decode a PDU body."""
        if len(body) != 4:
            raise _invalid(f"A-RELEASE-RP must have 4 bytes of body, not {len(body)}")
        return cls()


@dataclass(frozen=True, slots=True)
class AAbort:
    """A-ABORT PDU (PS3.8 9.3.8).

    ``source``: 0 service user, 2 service provider. ``reason`` is significant
    only for source 2.
    """

    source: int = 0
    reason: int = 0

    pdu_type = A_ABORT

    def encode(self) -> bytes:
        """Encode the whole PDU, header included."""
        return _HEADER.pack(self.pdu_type, 0, 4) + bytes((0, 0, self.source, self.reason))

    @classmethod
    def decode(cls, body: Buffer) -> AAbort:
        """Decode a PDU body."""
        if len(body) != 4:
            raise _invalid(f"A-ABORT must have 4 bytes of body, not {len(body)}")
        return cls(body[2], body[3])


PDU = AAssociateRQ | AAssociateAC | AAssociateRJ | PDataTF | AReleaseRQ | AReleaseRP | AAbort

#: Names of the PDU types, for messages.
PDU_NAMES: Final = {
    A_ASSOCIATE_RQ: "A-ASSOCIATE-RQ",
    A_ASSOCIATE_AC: "A-ASSOCIATE-AC",
    A_ASSOCIATE_RJ: "A-ASSOCIATE-RJ",
    P_DATA_TF: "P-DATA-TF",
    A_RELEASE_RQ: "A-RELEASE-RQ",
    A_RELEASE_RP: "A-RELEASE-RP",
    A_ABORT: "A-ABORT",
}

_DECODERS: Final[dict[int, Callable[[Buffer], PDU]]] = {
    A_ASSOCIATE_RQ: AAssociateRQ.decode,
    A_ASSOCIATE_AC: AAssociateAC.decode,
    A_ASSOCIATE_RJ: AAssociateRJ.decode,
    P_DATA_TF: PDataTF.decode,
    A_RELEASE_RQ: AReleaseRQ.decode,
    A_RELEASE_RP: AReleaseRP.decode,
    A_ABORT: AAbort.decode,
}


def decode_pdu(pdu_type: int, body: Buffer) -> PDU:
    """Decode one PDU body of the given type.

    Raises
    ------
    RemoteProtocolError
        Unknown type (abort reason 1) or a malformed body (reason 6 or 4).
    """
    decoder = _DECODERS.get(pdu_type)
    if decoder is None:
        raise _invalid(f"unrecognized PDU type 0x{pdu_type:02X}", ABORT_UNRECOGNIZED_PDU)
    return decoder(body)


class PDUReader:
    """Frames PDUs out of a byte stream, enforcing length bounds before buffering.

    Parameters
    ----------
    max_pdata_length : int
        Our advertised maximum length of a P-DATA-TF variable field (PS3.8 D.1);
        0 means unlimited and is replaced by ``unlimited_cap``.
    max_association_length : int
        Bound on every other PDU type (association negotiation PDUs are small).
    """

    def __init__(
        self,
        max_pdata_length: int,
        max_association_length: int = 1024 * 1024,
        unlimited_cap: int = 64 * 1024 * 1024,
    ) -> None:
        self._buffer = bytearray()
        self._start = 0
        self.max_pdata_length = max_pdata_length or unlimited_cap
        self.max_association_length = max_association_length

    def feed(self, data: Buffer) -> None:
        """Append received bytes."""
        if self._start and self._start > len(self._buffer) // 2:
            # Compact lazily so that many small PDUs do not cost O(n^2) copies.
            del self._buffer[: self._start]
            self._start = 0
        self._buffer += data

    @property
    def buffered(self) -> int:
        """Bytes received but not yet framed into a PDU."""
        return len(self._buffer) - self._start

    def partial(self) -> str | None:
        """Describe the incomplete PDU still buffered, or None when there is none.

        For messages when the connection ends or times out in the middle of a
        PDU (RELIABILITY rows 23, 24): ``truncated A-ASSOCIATE-AC: 84 of 584 bytes``.
        """
        available = len(self._buffer) - self._start
        if not available:
            return None
        if available < 6:
            return f"truncated PDU header: {available} of 6 bytes"
        pdu_type, _, length = _HEADER.unpack_from(self._buffer, self._start)
        name = PDU_NAMES.get(pdu_type, f"PDU type 0x{pdu_type:02X}")
        return f"truncated {name}: {available - 6} of {length} bytes"

    def next_frame(self) -> tuple[int, memoryview] | None:
        """Return ``(pdu_type, body)`` for the next complete PDU, or None.

        Raises
        ------
        RemoteProtocolError
            When the header announces a length beyond the bounds (checked as
            soon as the 6-byte header is in, before waiting for the body).
        """
        available = len(self._buffer) - self._start
        if available < 6:
            return None
        pdu_type, _, length = _HEADER.unpack_from(self._buffer, self._start)
        if pdu_type not in _DECODERS:
            raise _invalid(f"unrecognized PDU type 0x{pdu_type:02X}", ABORT_UNRECOGNIZED_PDU)
        if pdu_type == P_DATA_TF:
            # The PDU length covers the variable field, which is what max length bounds.
            if length > self.max_pdata_length:
                raise _invalid(
                    f"P-DATA-TF of {length} bytes exceeds our maximum of {self.max_pdata_length}"
                )
        elif length > self.max_association_length:
            raise _invalid(
                f"PDU type 0x{pdu_type:02X} claims {length} bytes "
                f"(bound {self.max_association_length})"
            )
        if available < 6 + length:
            return None
        start = self._start + 6
        # Copy the body out so the buffer can be compacted later without
        # invalidating a view the caller still holds.
        body = memoryview(bytes(self._buffer[start : start + length]))
        self._start = start + length
        if self._start == len(self._buffer):
            self._buffer.clear()
            self._start = 0
        return pdu_type, body


def pdata_header(length: int) -> bytes:
    """Return the 6-byte P-DATA-TF header for a variable field of ``length`` bytes."""
    return _HEADER.pack(P_DATA_TF, 0, length)


_PDV_HEADER = struct.Struct(">BBLLBB")


def pdata_pdv_header(context_id: int, data_length: int, is_command: bool, is_last: bool) -> bytes:
    """Return PDU header + PDV header (12 bytes) for a P-DATA-TF with one PDV.

    The sender uses this on its hot path to put ``[header, data]`` into one
    scatter-gather write without copying ``data`` (PS3.8 9.3.5, Annex E.2).
    """
    control = int(is_command) | (int(is_last) << 1)
    return _PDV_HEADER.pack(P_DATA_TF, 0, data_length + 6, data_length + 2, context_id, control)
