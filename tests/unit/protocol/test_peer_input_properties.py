"""Property tests for every decoder that reads peer bytes (RELIABILITY.md, DESIGN.md 2).

Any bytes give an event or a protocol error -- never another exception, never
an allocation beyond the bounds. The targets live in tests/faults/targets.py
and fill the gaps of the older property tests (test_pdu.py: PDU decoders and
framing; test_association.py: the state machine; test_dimse.py: command sets):
the item decoders on their own, PDV reassembly, AC validation against the
proposal, the client's whole response path and association set-up, response
validation, and the SCP's request path. Inputs are random bytes or mutated
valid seeds. ``python -m tests.fuzz`` runs the same targets for longer.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.faults.targets import SEEDS, TARGETS, mutate


def inputs(name: str) -> st.SearchStrategy[bytes]:
    """Random bytes, or one of the target's seeds with a few edits."""
    edits = st.lists(
        st.tuples(st.integers(0, 4), st.integers(0, 1 << 16), st.integers(0, 255)),
        min_size=1,
        max_size=6,
    )
    mutated = st.builds(mutate, st.sampled_from(SEEDS[name]), edits)
    return st.one_of(st.binary(max_size=600), mutated)


CI = settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_seeds_pass(name: str) -> None:
    """The valid seeds themselves exercise the happy path of each target."""
    for seed in SEEDS[name]:
        TARGETS[name](seed)


def _property(name: str) -> Callable[[], None]:
    target = TARGETS[name]

    @CI
    @given(inputs(name))
    def run(data: bytes) -> None:
        target(data)

    return run


test_pdu_stream = _property("pdu_stream")
test_user_information = _property("user_information")
test_presentation_context = _property("presentation_context")
test_command_set = _property("command_set")
test_message_assembler = _property("message_assembler")
test_accepted_contexts = _property("accepted_contexts")
test_store_response = _property("store_response")
test_response_validation = _property("response_validation")
test_association_open = _property("association_open")
test_scp_request = _property("scp_request")
test_association_acceptor = _property("association_acceptor")


def test_every_target_has_a_property_test() -> None:
    assert {n for n in TARGETS} == {
        n.removeprefix("test_") for n in globals() if n.startswith("test_") and n[5:] in TARGETS
    }
