"""Presentation context proposal and per-file selection (storescu.protocol.negotiation).

PS3.8 9.3.2.2: presentation context IDs are odd integers 1..255 (so at most
128 per association); PS3.8 9.3.3.2: the acceptor answers each proposed
context, accepting at most one of the transfer syntaxes proposed in it.
"""

from __future__ import annotations

import pytest

from storescu.kernel.constants import (
    EXPLICIT_VR_BIG_ENDIAN as EBE,
)
from storescu.kernel.constants import (
    EXPLICIT_VR_LITTLE_ENDIAN as ELE,
)
from storescu.kernel.constants import (
    IMPLICIT_VR_LITTLE_ENDIAN as ILE,
)
from storescu.kernel.constants import (
    STORAGE_SOP_CLASSES,
)
from storescu.kernel.errors import NegotiationError, UsageError
from storescu.protocol.negotiation import (
    AcceptedContext,
    AcceptedContexts,
    accepted_contexts,
    build_proposal,
    sop_classes_to_propose,
    transfer_syntax_lists,
)
from storescu.protocol.pdu import PresentationContextAC, PresentationContextRQ

CT = "1.2.840.10008.5.1.4.1.1.2"
MR = "1.2.840.10008.5.1.4.1.1.4"
SC = "1.2.840.10008.5.1.4.1.1.7"
JPEG = "1.2.840.10008.1.2.4.50"
RLE = "1.2.840.10008.1.2.5"


def proposal(
    propose: str = "uncompr", combine: bool = False, classes: list[str] | None = None
) -> tuple[PresentationContextRQ, ...]:
    preferred, fallback = transfer_syntax_lists(propose)
    sop_classes = sop_classes_to_propose(classes is not None, classes or [])
    return build_proposal(sop_classes, preferred, fallback, combine)


# ------------------------------------------------------------------ proposal


def test_default_proposal_is_124_contexts() -> None:
    """DCMTK storescu's default: the 62 built-in classes x 2 contexts = 124, IDs 1,3..247."""
    contexts = proposal()
    assert len(STORAGE_SOP_CLASSES) == 62
    assert len(contexts) == 124
    assert [c.context_id for c in contexts] == list(range(1, 248, 2))
    classes = [uid for uid, _ in STORAGE_SOP_CLASSES]
    assert [c.abstract_syntax for c in contexts[::2]] == classes
    assert [c.abstract_syntax for c in contexts[1::2]] == classes
    assert all(c.transfer_syntaxes == (ELE,) for c in contexts[::2])
    assert all(c.transfer_syntaxes == (EBE, ILE) for c in contexts[1::2])


def test_little_is_the_same_as_uncompressed() -> None:
    """-xe: explicit VR little endian preferred, like the default on a little-endian host."""
    assert proposal("little") == proposal("uncompr")


def test_big_endian_preferred() -> None:
    """-xb: [explicit BE] + [explicit LE, implicit LE]."""
    contexts = proposal("big")
    assert len(contexts) == 124
    assert contexts[0].transfer_syntaxes == (EBE,)
    assert contexts[1].transfer_syntaxes == (ELE, ILE)


def test_implicit_only() -> None:
    """-xi: one context per class, implicit VR little endian only."""
    contexts = proposal("implicit")
    assert len(contexts) == 62
    assert [c.context_id for c in contexts] == list(range(1, 124, 2))
    assert all(c.transfer_syntaxes == (ILE,) for c in contexts)


def test_combine() -> None:
    """+C: one context per class with all three uncompressed syntaxes, preferred first."""
    contexts = proposal(combine=True)
    assert len(contexts) == 62
    assert all(c.transfer_syntaxes == (ELE, EBE, ILE) for c in contexts)
    assert proposal("big", combine=True)[0].transfer_syntaxes == (EBE, ELE, ILE)
    assert proposal("implicit", combine=True)[0].transfer_syntaxes == (ILE,)


def test_required_only() -> None:
    """-R: only the files' classes, in first-seen order, without duplicates."""
    contexts = proposal(classes=[MR, CT, MR, SC, CT])
    assert [(c.context_id, c.abstract_syntax) for c in contexts] == [
        (1, MR),
        (3, MR),
        (5, CT),
        (7, CT),
        (9, SC),
        (11, SC),
    ]
    assert sop_classes_to_propose(True, []) == []
    assert sop_classes_to_propose(False, [CT])[0] == STORAGE_SOP_CLASSES[0][0]


def test_required_only_with_an_unknown_class() -> None:
    """-R proposes whatever class a file has, listed or not."""
    contexts = proposal(classes=["1.2.3.4.5"])
    assert [c.abstract_syntax for c in contexts] == ["1.2.3.4.5", "1.2.3.4.5"]


def test_128_contexts_fit_129_do_not() -> None:
    """PS3.8 9.3.2.2: odd IDs 1..255 -> at most 128 contexts (RELIABILITY #13)."""
    classes = [f"1.2.3.{i}" for i in range(64)]
    contexts = build_proposal(classes, (ELE,), (EBE, ILE))
    assert len(contexts) == 128
    assert contexts[-1].context_id == 255
    with pytest.raises(NegotiationError, match="130"):
        build_proposal([*classes, "1.2.3.999"], (ELE,), (EBE, ILE))
    assert len(build_proposal([f"1.2.{i}" for i in range(128)], (ILE,), ())) == 128
    with pytest.raises(NegotiationError):
        build_proposal([f"1.2.{i}" for i in range(129)], (ILE,), ())


def test_unknown_proposal_mode() -> None:
    with pytest.raises(UsageError):
        transfer_syntax_lists("bogus")


# ---------------------------------------------------------- accepted contexts


PROPOSED = (
    PresentationContextRQ(1, CT, (ELE,)),
    PresentationContextRQ(3, CT, (EBE, ILE)),
    PresentationContextRQ(5, MR, (ELE,)),
    PresentationContextRQ(7, MR, (EBE, ILE)),
)


def test_accepted_contexts_normal() -> None:
    answers = [
        PresentationContextAC(1, 0, ELE),
        PresentationContextAC(3, 0, ILE),
        PresentationContextAC(5, 0, ELE),
        PresentationContextAC(7, 4, ""),  # transfer-syntaxes-not-supported
    ]
    accepted, warnings = accepted_contexts(PROPOSED, answers)
    assert warnings == []
    assert accepted.contexts == (
        AcceptedContext(1, CT, ELE),
        AcceptedContext(3, CT, ILE),
        AcceptedContext(5, MR, ELE),
    )
    assert len(accepted) == 3
    assert accepted.by_id[3].transfer_syntax == ILE


def test_accepted_contexts_ignores_what_was_not_proposed() -> None:
    """RELIABILITY #27 / PS3.8 9.3.3.2: unproposed IDs and syntaxes are ignored, with warnings."""
    answers = [
        PresentationContextAC(9, 0, ELE),  # never proposed
        PresentationContextAC(1, 0, ILE),  # ILE was not proposed in context 1
        PresentationContextAC(3, 0, EBE),
        PresentationContextAC(3, 0, ILE),  # answered twice
        PresentationContextAC(5, 1, ELE),  # user-rejection: ignored silently
        PresentationContextAC(7, 3, ""),  # abstract-syntax-not-supported
    ]
    accepted, warnings = accepted_contexts(PROPOSED, answers)
    assert accepted.contexts == (AcceptedContext(3, CT, EBE),)
    assert len(warnings) == 3
    assert "9" in warnings[0]
    assert "not proposed" in warnings[0]
    assert ILE in warnings[1]
    assert "twice" in warnings[2]
    assert accepted.select(MR, ELE) is None


def test_accepted_contexts_empty() -> None:
    accepted, warnings = accepted_contexts(PROPOSED, [])
    assert len(accepted) == 0
    assert warnings == []
    assert accepted.select(CT, ELE) is None


# ----------------------------------------------------------------- selection


def contexts(*pairs: tuple[int, str]) -> AcceptedContexts:
    return AcceptedContexts(AcceptedContext(cid, CT, ts) for cid, ts in pairs)


def test_select_prefers_the_files_own_syntax() -> None:
    accepted = contexts((1, ELE), (3, ILE), (5, JPEG), (7, EBE))
    assert accepted.select(CT, JPEG).context_id == 5  # type: ignore[union-attr]
    assert accepted.select(CT, ILE).context_id == 3  # type: ignore[union-attr]
    assert accepted.select(CT, EBE).context_id == 7  # type: ignore[union-attr]


def test_select_order_explicit_le_be_then_implicit_then_any() -> None:
    """DCMTK's order when the file's own syntax is not accepted."""
    assert contexts((1, ILE), (3, EBE), (5, ELE)).select(CT, JPEG).context_id == 5  # type: ignore[union-attr]
    assert contexts((1, ILE), (3, EBE)).select(CT, JPEG).context_id == 3  # type: ignore[union-attr]
    assert contexts((1, RLE), (3, ILE)).select(CT, JPEG).context_id == 3  # type: ignore[union-attr]
    assert contexts((1, RLE), (3, JPEG)).select(CT, ELE).context_id == 1  # type: ignore[union-attr]


def test_select_unknown_class_is_none() -> None:
    accepted = contexts((1, ELE))
    assert accepted.select(MR, ELE) is None
    assert accepted.select(MR, ELE) is None  # cached answer is the same


def test_select_cache_is_per_class_and_syntax() -> None:
    accepted = AcceptedContexts(
        [AcceptedContext(1, CT, ELE), AcceptedContext(3, CT, ILE), AcceptedContext(5, MR, ILE)]
    )
    assert accepted.select(CT, ILE).context_id == 3  # type: ignore[union-attr]
    assert accepted.select(CT, JPEG).context_id == 1  # type: ignore[union-attr]
    assert accepted.select(MR, ELE).context_id == 5  # type: ignore[union-attr]
    assert accepted.select(CT, ILE).context_id == 3  # type: ignore[union-attr]


DEFLATED = "1.2.840.10008.1.2.1.99"


def test_select_deflated_first_with_xd_for_unencapsulated_files() -> None:
    """DCMTK storescu.cc: with -xd an uncompressed (or deflated) file looks for deflate first."""
    accepted = contexts((1, ELE), (3, DEFLATED), (5, JPEG))
    assert accepted.select(CT, ELE, prefer_deflated=True).context_id == 3  # type: ignore[union-attr]
    assert accepted.select(CT, ELE).context_id == 1  # type: ignore[union-attr]
    # A compressed file keeps its own syntax.
    assert accepted.select(CT, JPEG, prefer_deflated=True).context_id == 5  # type: ignore[union-attr]


def test_select_deflated_before_any_other() -> None:
    """Beyond DCMTK: deflated (reachable from any decodable file) before any other syntax."""
    assert contexts((1, RLE), (3, DEFLATED)).select(CT, JPEG).context_id == 3  # type: ignore[union-attr]


def test_syntaxes_for_a_class() -> None:
    accepted = contexts((1, ELE), (3, ILE), (5, ELE))
    assert accepted.syntaxes_for(CT) == [ELE, ILE]
    assert accepted.syntaxes_for(MR) == []
