"""C-STORE status classes and texts (storescu.protocol.status), PS3.4 B.2.3 and PS3.7 Annex C.

The expected classes and DCMTK texts are those of docs/BEHAVIOUR.md section 3.
"""

from __future__ import annotations

import pytest

from storescu.protocol.status import Status, StatusClass, classify

S, W, F = StatusClass.SUCCESS, StatusClass.WARNING, StatusClass.FAILURE

# (code, class, text). The texts DCMTK's DU_cstoreStatusString gives (BEHAVIOUR.md 3).
DCMTK_TEXTS = [
    (0x0000, S, "Success"),
    (0xA700, F, "Refused: OutOfResources"),  # PS3.4 B.2.3: A7xx out of resources
    (0xA701, F, "Refused: OutOfResources"),
    (0xA7FF, F, "Refused: OutOfResources"),
    (0xA900, F, "Error: DataSetDoesNotMatchSOPClass"),  # A9xx
    (0xA9FF, F, "Error: DataSetDoesNotMatchSOPClass"),
    (0xC000, F, "Error: CannotUnderstand"),  # Cxxx
    (0xC123, F, "Error: CannotUnderstand"),
    (0xCFFF, F, "Error: CannotUnderstand"),
    (0xB000, W, "Warning: CoercionOfDataElements"),
    (0xB006, W, "Warning: ElementsDiscarded"),
    (0xB007, W, "Warning: DataSetDoesNotMatchSOPClass"),
    (0x0122, F, "Refused: SOPClassNotSupported"),  # PS3.7 C.5.2
    (0x1234, F, "Unknown Status: 0x1234"),
    (0x01FF, F, "Unknown Status: 0x01FF"),  # 01xx without a name: failure
    (0x02FF, F, "Unknown Status: 0x02FF"),
]

# Codes that BEHAVIOUR.md lists with a class but for which DCMTK prints "Unknown
# Status"; storescu.protocol.status deliberately names them after PS3.7 Annex C instead
# (its module docstring says so). The class is what BEHAVIOUR.md requires.
NAMED_BEYOND_DCMTK = [
    (0x0001, W, "Warning: RequestedOptionalAttributesNotSupported"),  # PS3.7 C.3
    (0x0107, W, "Warning: AttributeListError"),
    (0x0116, W, "Warning: AttributeValueOutOfRange"),
    (0x0124, F, "Refused: NotAuthorized"),  # PS3.7 C.5.x
    (0x0211, F, "Failure: UnrecognizedOperation"),
    (0xFF00, F, "Pending (invalid for C-STORE)"),  # pending makes no sense for C-STORE
    (0xFE00, F, "Cancel"),
]


@pytest.mark.parametrize(
    ("code", "status_class", "text"),
    DCMTK_TEXTS + NAMED_BEYOND_DCMTK,
    ids=[f"{c:04X}" for c, _, _ in DCMTK_TEXTS + NAMED_BEYOND_DCMTK],
)
def test_classify(code: int, status_class: StatusClass, text: str) -> None:
    status = classify(code)
    assert status == Status(code, status_class, text)
    assert status.hex == f"0x{code:04X}"
    assert status.is_success == (status_class is S)
    assert status.is_warning == (status_class is W)
    assert status.is_failure == (status_class is F)


def test_other_warning_and_failure_ranges() -> None:
    """BEHAVIOUR.md 3: Bxxx warnings, Axxx failures, anything unknown a failure."""
    assert classify(0xB123).status_class is W
    assert classify(0xB123).text == "Warning: 0xB123"
    assert classify(0xA801).status_class is F
    assert classify(0xA801).text == "Failure: 0xA801"
    assert classify(0xFF01).status_class is F


def test_every_16_bit_code_has_exactly_one_class() -> None:
    """Only 0000 is success; warnings are 0001, 0107, 0116 and Bxxx; everything else fails."""
    warnings = {0x0001, 0x0107, 0x0116}
    for code in range(0x10000):
        status = classify(code)
        assert [status.is_success, status.is_warning, status.is_failure].count(True) == 1
        if code == 0:
            assert status.is_success
        elif code in warnings or code & 0xF000 == 0xB000:
            assert status.is_warning, hex(code)
        else:
            assert status.is_failure, hex(code)
        assert status.text
