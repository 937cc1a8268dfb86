"""Planning proposals and associations (storescu.protocol.planning): PS3.8 9.3.2.2 allows 128
presentation contexts per association; files needing more go over several."""

from __future__ import annotations

import pytest

from storescu.kernel.constants import MAX_PRESENTATION_CONTEXTS, STORAGE_SOP_CLASSES
from storescu.kernel.errors import NegotiationError
from storescu.protocol.negotiation import build_proposal, sop_classes_to_propose
from storescu.protocol.planning import ProposalSpec, covers, plan

ELE, EBE, ILE = "1.2.840.10008.1.2.1", "1.2.840.10008.1.2.2", "1.2.840.10008.1.2"
DEFLATED = "1.2.840.10008.1.2.1.99"
JPEG, RLE, J2K = "1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.5", "1.2.840.10008.1.2.4.90"
CT, MR = "1.2.840.10008.5.1.4.1.1.2", "1.2.840.10008.5.1.4.1.1.4"
ENHANCED_CT = "1.2.840.10008.5.1.4.1.1.2.1"
BUILTIN = tuple(uid for uid, _ in STORAGE_SOP_CLASSES)
DEFAULT = ProposalSpec(classes=BUILTIN, base=((ELE,), (EBE, ILE)))


def test_uncompressed_inputs_get_exactly_dcmtks_proposal() -> None:
    needs = [(CT, ELE), (MR, EBE), (CT, ILE), (CT, DEFLATED), None]
    (batch,) = plan(DEFAULT, needs)
    classes = sop_classes_to_propose(False, [])
    assert batch.contexts == build_proposal(classes, (ELE,), (EBE, ILE))
    assert batch.items == [0, 1, 2, 3, 4]


def test_a_compressed_input_adds_its_own_syntax_for_its_class() -> None:
    (batch,) = plan(DEFAULT, [(CT, JPEG), (CT, JPEG), (MR, RLE), (CT, ELE)])
    assert len(batch.contexts) == 124 + 2
    ct = [c.transfer_syntaxes for c in batch.contexts if c.abstract_syntax == CT]
    assert ct == [(ELE,), (EBE, ILE), (JPEG,)]
    mr = [c.transfer_syntaxes for c in batch.contexts if c.abstract_syntax == MR]
    assert mr == [(ELE,), (EBE, ILE), (RLE,)]
    assert [c.context_id for c in batch.contexts] == list(range(1, 2 * 126, 2))


def test_own_syntax_already_proposed_or_switched_off() -> None:
    xs = ProposalSpec(classes=BUILTIN, base=((RLE,), (ELE, EBE, ILE)))
    assert len(plan(xs, [(CT, RLE)])[0].contexts) == 124
    off = ProposalSpec(classes=BUILTIN, base=((ELE,), (EBE, ILE)), input_syntaxes=False)
    assert len(plan(off, [(CT, JPEG)])[0].contexts) == 124


def test_implicit_only_stays_implicit_only_for_uncompressed_inputs() -> None:
    xi = ProposalSpec(classes=BUILTIN, base=((ILE,),))
    (batch,) = plan(xi, [(CT, ELE), (MR, EBE)])
    assert {c.transfer_syntaxes for c in batch.contexts} == {(ILE,)}


def test_classes_outside_the_list_only_with_input_classes() -> None:
    (batch,) = plan(DEFAULT, [(ENHANCED_CT, ELE)])
    assert ENHANCED_CT not in {c.abstract_syntax for c in batch.contexts}
    assert batch.items == [0]  # still accounted for: "No presentation context" at send time
    plus = ProposalSpec(classes=BUILTIN, base=((ELE,), (EBE, ILE)), input_classes=True)
    (batch,) = plan(plus, [(ENHANCED_CT, ELE)])
    assert [c.abstract_syntax for c in batch.contexts[-2:]] == [ENHANCED_CT] * 2


def test_more_than_128_contexts_are_split_every_input_exactly_once() -> None:
    classes = [f"1.2.840.10008.5.1.4.1.1.9999.{i}" for i in range(70)]
    required = ProposalSpec(base=((ELE,), (EBE, ILE)), input_classes=True)  # -R
    needs = [(classes[i % 70], ELE) for i in range(140)] + [None]
    batches = plan(required, needs)
    assert len(batches) == 2
    assert all(len(b.contexts) <= MAX_PRESENTATION_CONTEXTS for b in batches)
    assert sorted(i for b in batches for i in b.items) == list(range(141))
    for batch in batches:
        assert batch.items == sorted(batch.items)  # input order within an association
        ids = [c.context_id for c in batch.contexts]
        assert ids == list(range(1, 2 * len(ids), 2))
        proposed = {c.abstract_syntax for c in batch.contexts}
        assert all(needs[i] is None or needs[i][0] in proposed for i in batch.items)  # type: ignore[index]
    assert batches[0].items[0] == 0  # associations go in the order of their first input
    assert 140 in batches[0].items  # inputs needing nothing go with the first


def test_split_default_proposal_keeps_unused_classes_where_room_is_left() -> None:
    classes = [f"1.2.840.10008.5.1.4.1.1.9999.{i}" for i in range(3)]
    spec = ProposalSpec(classes=BUILTIN, base=((ELE,), (EBE, ILE)), input_classes=True)
    needs = [(c, ELE) for c in classes] + [(CT, JPEG), (MR, RLE)]  # 124 + 6 + 2 > 128
    batches = plan(spec, needs)
    assert len(batches) == 1  # the needed 10 contexts, then unused classes up to 128
    assert len(batches[0].contexts) == MAX_PRESENTATION_CONTEXTS
    assert batches[0].items == [0, 1, 2, 3, 4]


def test_profile_proposal() -> None:
    profile = {CT: ((JPEG,), (ELE, ILE)), MR: ((ELE, ILE),)}
    spec = ProposalSpec(classes=(CT, MR), profile=profile)
    (batch,) = plan(spec, [(CT, RLE), (MR, ELE), (ENHANCED_CT, ELE)])
    assert [(c.abstract_syntax, c.transfer_syntaxes) for c in batch.contexts] == [
        (CT, (JPEG,)),
        (CT, (ELE, ILE)),
        (CT, (RLE,)),  # the file's own syntax, beyond the profile (+fs)
        (MR, (ELE, ILE)),
    ]


def test_one_class_needing_more_than_128_contexts_is_an_error() -> None:
    spec = ProposalSpec(base=tuple((f"1.2.3.{i}",) for i in range(129)), input_classes=True)
    with pytest.raises(NegotiationError, match="Too many presentation contexts"):
        plan(spec, [(CT, ELE)])


def test_covers() -> None:
    (big,) = plan(DEFAULT, [(CT, JPEG)])
    (small,) = plan(DEFAULT, [(CT, ELE)])
    assert covers(big.contexts, small.contexts)
    assert not covers(small.contexts, big.contexts)
    assert covers(small.contexts, big.contexts, {MR})
