"""--compress in the proposal: the lossless syntaxes in contexts of their own (planning)."""

from __future__ import annotations

from storescu.kernel.constants import (
    DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN,
    EXPLICIT_VR_LITTLE_ENDIAN,
    IMPLICIT_VR_LITTLE_ENDIAN,
    MAX_PRESENTATION_CONTEXTS,
)
from storescu.protocol.negotiation import AcceptedContext, AcceptedContexts
from storescu.protocol.planning import ProposalSpec, plan

CT = "1.2.840.10008.5.1.4.1.1.2"
MR = "1.2.840.10008.5.1.4.1.1.4"
SR = "1.2.840.10008.5.1.4.1.1.88.22"
JLS = "1.2.840.10008.1.2.4.80"
J2K = "1.2.840.10008.1.2.4.90"
RLE = "1.2.840.10008.1.2.5"
BASE = ((EXPLICIT_VR_LITTLE_ENDIAN,), (IMPLICIT_VR_LITTLE_ENDIAN,))


def _contexts(
    spec: ProposalSpec, needs: list[tuple[str, str] | None]
) -> list[tuple[str, tuple[str, ...]]]:
    (batch,) = plan(spec, needs)
    return [(c.abstract_syntax, tuple(c.transfer_syntaxes)) for c in batch.contexts]


def test_native_input_gets_the_codec_after_its_uncompressed_contexts() -> None:
    spec = ProposalSpec(base=BASE, input_classes=True, compress=((JLS,),))
    got = _contexts(spec, [(CT, EXPLICIT_VR_LITTLE_ENDIAN)])
    assert got == [(CT, BASE[0]), (CT, BASE[1]), (CT, (JLS,))]


def test_without_compress_nothing_is_added() -> None:
    spec = ProposalSpec(base=BASE, input_classes=True)
    assert _contexts(spec, [(CT, EXPLICIT_VR_LITTLE_ENDIAN)]) == [(CT, BASE[0]), (CT, BASE[1])]


def test_an_already_compressed_input_adds_no_codec_context() -> None:
    # Files already compressed go as they are: their own syntax (+fs), no other codec.
    spec = ProposalSpec(base=BASE, input_classes=True, compress=((RLE,),))
    got = _contexts(spec, [(MR, J2K)])
    assert got == [(MR, BASE[0]), (MR, BASE[1]), (MR, (J2K,))]


def test_native_and_compressed_inputs_of_one_class() -> None:
    spec = ProposalSpec(base=BASE, input_classes=True, compress=((RLE,),))
    got = _contexts(spec, [(CT, J2K), (CT, IMPLICIT_VR_LITTLE_ENDIAN)])
    assert got == [(CT, BASE[0]), (CT, BASE[1]), (CT, (RLE,)), (CT, (J2K,))]


def test_auto_proposes_one_context_per_codec() -> None:
    spec = ProposalSpec(base=BASE, input_classes=True, compress=((JLS,), (J2K,), (RLE,)))
    got = _contexts(spec, [(CT, EXPLICIT_VR_LITTLE_ENDIAN)])
    assert got[2:] == [(CT, (JLS,)), (CT, (J2K,)), (CT, (RLE,))]


def test_a_syntax_the_base_already_proposes_is_not_repeated() -> None:
    # A -xf profile (or -xd) that lists it already: no second context.
    base = ((EXPLICIT_VR_LITTLE_ENDIAN,), (DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN,))
    spec = ProposalSpec(
        base=base, input_classes=True, compress=((DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN,),)
    )
    assert _contexts(spec, [(SR, EXPLICIT_VR_LITTLE_ENDIAN)]) == [(SR, base[0]), (SR, base[1])]


def test_profile_classes_get_the_codec_too() -> None:
    profile: dict[str, tuple[tuple[str, ...], ...]] = {CT: ((EXPLICIT_VR_LITTLE_ENDIAN,),)}
    spec = ProposalSpec(classes=(CT,), profile=profile, compress=((JLS,),))
    got = _contexts(spec, [(CT, EXPLICIT_VR_LITTLE_ENDIAN)])
    assert got == [(CT, (EXPLICIT_VR_LITTLE_ENDIAN,)), (CT, (JLS,))]


def test_classes_without_inputs_get_no_codec_context() -> None:
    spec = ProposalSpec(classes=(CT, MR), base=BASE, compress=((JLS,),))
    got = _contexts(spec, [(MR, EXPLICIT_VR_LITTLE_ENDIAN)])
    assert (CT, (JLS,)) not in got and (MR, (JLS,)) in got


def test_over_128_contexts_the_classes_spread_over_associations() -> None:
    # 50 classes x (2 base + 4 codecs) = 300 contexts: at most 128 per association,
    # every input in exactly one batch whose proposal has its class's codec context.
    classes = [f"1.2.3.{n}" for n in range(50)]
    codecs = ((JLS,), (J2K,), ("1.2.840.10008.1.2.4.201",), (RLE,))
    spec = ProposalSpec(base=BASE, input_classes=True, compress=codecs)
    needs: list[tuple[str, str] | None] = [(c, EXPLICIT_VR_LITTLE_ENDIAN) for c in classes]
    batches = plan(spec, needs)
    assert len(batches) == 3
    seen = sorted(i for b in batches for i in b.items)
    assert seen == list(range(50))
    for batch in batches:
        assert len(batch.contexts) <= MAX_PRESENTATION_CONTEXTS
        proposed = {(c.abstract_syntax, tuple(c.transfer_syntaxes)) for c in batch.contexts}
        for index in batch.items:
            assert all((classes[index], codec) in proposed for codec in codecs)


def test_context_for_finds_the_exact_syntax() -> None:
    accepted = AcceptedContexts(
        [
            AcceptedContext(1, CT, EXPLICIT_VR_LITTLE_ENDIAN),
            AcceptedContext(3, CT, JLS),
            AcceptedContext(5, MR, RLE),
        ]
    )
    assert accepted.context_for(CT, JLS) == AcceptedContext(3, CT, JLS)
    assert accepted.context_for(CT, RLE) is None
    assert accepted.context_for(MR, RLE) == AcceptedContext(5, MR, RLE)
    # The ordinary choice for a native file never picks the codec context.
    assert accepted.select(CT, IMPLICIT_VR_LITTLE_ENDIAN) == AcceptedContext(
        1, CT, EXPLICIT_VR_LITTLE_ENDIAN
    )
