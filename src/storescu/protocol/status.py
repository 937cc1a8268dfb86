"""DIMSE status codes: classes and texts (PS3.7 Annex C, PS3.4 B.2.3).

The texts for the C-STORE codes are the ones DCMTK prints, so logs compare
line by line; the general codes of PS3.7 Annex C get names too (DCMTK prints
"Unknown Status" for them).
"""

from __future__ import annotations

from enum import Enum
from typing import Final

from storescu.kernel.records import dataclass


class StatusClass(Enum):
    """How a status counts for a C-STORE."""

    SUCCESS = "success"
    WARNING = "warning"
    FAILURE = "failure"


_EXACT: Final[dict[int, tuple[StatusClass, str]]] = {
    0x0000: (StatusClass.SUCCESS, "Success"),
    # PS3.7 C.3 warnings
    0x0001: (StatusClass.WARNING, "Warning: RequestedOptionalAttributesNotSupported"),
    0x0107: (StatusClass.WARNING, "Warning: AttributeListError"),
    0x0116: (StatusClass.WARNING, "Warning: AttributeValueOutOfRange"),
    # PS3.4 B.2.3 storage warnings
    0xB000: (StatusClass.WARNING, "Warning: CoercionOfDataElements"),
    0xB006: (StatusClass.WARNING, "Warning: ElementsDiscarded"),
    0xB007: (StatusClass.WARNING, "Warning: DataSetDoesNotMatchSOPClass"),
    # PS3.7 C.5 general failures
    0x0105: (StatusClass.FAILURE, "Failure: NoSuchAttribute"),
    0x0106: (StatusClass.FAILURE, "Failure: InvalidAttributeValue"),
    0x0110: (StatusClass.FAILURE, "Failure: ProcessingFailure"),
    0x0111: (StatusClass.FAILURE, "Failure: DuplicateSOPInstance"),
    0x0112: (StatusClass.FAILURE, "Failure: NoSuchSOPInstance"),
    0x0117: (StatusClass.FAILURE, "Failure: InvalidObjectInstance"),
    0x0118: (StatusClass.FAILURE, "Failure: NoSuchSOPClass"),
    0x0119: (StatusClass.FAILURE, "Failure: ClassInstanceConflict"),
    0x0120: (StatusClass.FAILURE, "Failure: MissingAttribute"),
    0x0121: (StatusClass.FAILURE, "Failure: MissingAttributeValue"),
    0x0122: (StatusClass.FAILURE, "Refused: SOPClassNotSupported"),
    0x0123: (StatusClass.FAILURE, "Failure: NoSuchActionType"),
    0x0124: (StatusClass.FAILURE, "Refused: NotAuthorized"),
    0x0210: (StatusClass.FAILURE, "Failure: DuplicateInvocation"),
    0x0211: (StatusClass.FAILURE, "Failure: UnrecognizedOperation"),
    0x0212: (StatusClass.FAILURE, "Failure: MistypedArgument"),
    0x0213: (StatusClass.FAILURE, "Failure: ResourceLimitation"),
    0xFE00: (StatusClass.FAILURE, "Cancel"),
    # Pending makes no sense for C-STORE (PS3.4 B.2.3): a failure here.
    0xFF00: (StatusClass.FAILURE, "Pending (invalid for C-STORE)"),
    0xFF01: (StatusClass.FAILURE, "Pending (invalid for C-STORE)"),
}


@dataclass(frozen=True, slots=True)
class Status:
    """A DIMSE status with its class and DCMTK-style text."""

    code: int
    status_class: StatusClass
    text: str

    @property
    def is_success(self) -> bool:
        """True for 0x0000."""
        return self.status_class is StatusClass.SUCCESS

    @property
    def is_warning(self) -> bool:
        """True for warning codes (the instance was stored)."""
        return self.status_class is StatusClass.WARNING

    @property
    def is_failure(self) -> bool:
        """True for every code that does not mean "stored"."""
        return self.status_class is StatusClass.FAILURE

    @property
    def hex(self) -> str:
        """The code as ``0xA700``."""
        return f"0x{self.code:04X}"


def classify(code: int) -> Status:
    """Return the :class:`Status` for a C-STORE response status code.

    Unknown codes are failures: only success and the warning codes mean the
    instance was stored (PS3.4 B.2.3).
    """
    exact = _EXACT.get(code)
    if exact is not None:
        return Status(code, *exact)
    high = code & 0xFF00
    if high == 0xA700:
        return Status(code, StatusClass.FAILURE, "Refused: OutOfResources")
    if high == 0xA900:
        return Status(code, StatusClass.FAILURE, "Error: DataSetDoesNotMatchSOPClass")
    if code & 0xF000 == 0xC000:
        return Status(code, StatusClass.FAILURE, "Error: CannotUnderstand")
    if code & 0xF000 == 0xB000:
        return Status(code, StatusClass.WARNING, f"Warning: 0x{code:04X}")
    if code & 0xF000 == 0xA000:
        return Status(code, StatusClass.FAILURE, f"Failure: 0x{code:04X}")
    return Status(code, StatusClass.FAILURE, f"Unknown Status: 0x{code:04X}")
