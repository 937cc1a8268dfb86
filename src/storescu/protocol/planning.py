"""Planning the associations of a run: which contexts, which files on which.

Theory of operation
-------------------
DCMTK storescu proposes one fixed set of presentation contexts and fails with
"Too many presentation contexts" past 128 (PS3.8 9.3.2.2: context IDs are odd
numbers 1..255). Here the sender hands the planner the inputs of a *window*
(up to :data:`WINDOW` inputs read ahead; all of them for most runs) and the
planner returns *batches*: a proposal of at most 128 contexts and the inputs
to send on it, in order.

* The *base* contexts of a SOP class are DCMTK's: the preferred syntax and
  the fallback syntaxes (one context each, or one combined context with
  ``+C``), or the contexts a ``-xf`` profile lists for the class.
* Beyond DCMTK (``+fs``, on by default): an input whose own syntax is
  encapsulated (compressed, PS3.5 A.4) and not proposed for its class gets a
  context of its own with that syntax, as dcmsend does, so compressed files
  go out as they are instead of being decompressed or refused. Uncompressed
  and deflated files never add contexts: they convert to what is proposed
  without touching pixel data, and ``-xi`` keeps meaning implicit VR only.
* ``--compress`` (:mod:`storescu.run.compressing`): a class with an input
  whose own syntax is not encapsulated (native Pixel Data, or none) also
  gets the *compress* contexts -- one per lossless syntax the run may
  produce -- after its base ones, unless a base context already lists that
  syntax. The uncompressed contexts stay, so a peer that refuses the
  compressed ones still gets every file.
* Classes: the built-in list (62), the inputs' classes with ``-R``, or the
  profile's. With ``+fc`` (on by default, as dcmsend; ``-fc`` is DCMTK's
  behaviour) the inputs' classes missing from the built-in list are added
  after it, so the list and its order stay DCMTK's.
* When everything fits in 128 contexts there is one batch, proposed in
  DCMTK's order (classes in list order, each with its base contexts, then
  its own-syntax contexts), with every input in input order. Otherwise the
  classes no input needs are dropped, the needed classes (in order of first
  appearance) are packed greedily into groups of at most 128 contexts, the
  unused classes fill what room the last group has left, and each group is
  one batch: its inputs in input order, batches in the order of their first
  input. Inputs that need no context (invalid files, inputs already sent) or
  whose class nobody proposes go with the first batch.

Every input is in exactly one batch. Pure: no I/O, no pydicom.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from storescu.kernel.constants import MAX_PRESENTATION_CONTEXTS
from storescu.kernel.errors import NegotiationError
from storescu.kernel.records import dataclass, field
from storescu.kernel.syntaxes import is_encapsulated
from storescu.protocol.pdu import PresentationContextRQ

__all__ = ["WINDOW", "Batch", "Need", "ProposalSpec", "covers", "plan"]

#: Inputs read ahead and planned together (the sender's look-ahead).
WINDOW: Final = 1024

#: One input's need: (SOP Class UID, its own transfer syntax), or None.
Need = tuple[str, str] | None


@dataclass(frozen=True, slots=True)
class ProposalSpec:
    """How contexts are proposed.

    Parameters
    ----------
    classes : tuple of str
        The SOP classes proposed whatever the inputs are: the built-in list,
        a profile's classes, or empty (``-R``: the inputs' classes).
    base : tuple of tuple of str
        The syntax lists proposed for each class (one context each), when
        `profile` has no entry for it.
    profile : dict, optional
        ``-xf``: class -> its syntax lists, in the profile's order.
    input_classes : bool
        Propose the inputs' classes missing from `classes` (``-R`` and ``+fc``).
    input_syntaxes : bool
        ``+fs``: propose an input's own encapsulated syntax when its class
        has no context with it.
    compress : tuple of tuple of str
        ``--compress``: syntax lists (one context each) proposed for a class
        that has an input in a native (not encapsulated) syntax.
    """

    classes: tuple[str, ...] = ()
    base: tuple[tuple[str, ...], ...] = ()
    profile: dict[str, tuple[tuple[str, ...], ...]] | None = None
    input_classes: bool = False
    input_syntaxes: bool = True
    compress: tuple[tuple[str, ...], ...] = ()

    def base_for(self, sop_class: str) -> tuple[tuple[str, ...], ...]:
        """The syntax lists of the class's base contexts."""
        if self.profile is not None:
            return self.profile.get(sop_class, ())
        return self.base


@dataclass(slots=True)
class Batch:
    """One association's proposal and the inputs (indices) to send on it."""

    contexts: tuple[PresentationContextRQ, ...]
    items: list[int] = field(default_factory=list)


def _class_contexts(
    spec: ProposalSpec, sop_class: str, own: list[str], native: bool
) -> list[tuple[str, ...]]:
    lists = list(spec.base_for(sop_class))
    proposed = {ts for syntaxes in lists for ts in syntaxes}
    if native:
        # --compress: each lossless syntax in a context of its own, so the
        # peer's answer to one does not decide the others (PS3.8 9.3.2.2: an
        # acceptor picks a single transfer syntax per context).
        extra = [s for s in spec.compress if not proposed.issuperset(s)]
        lists += extra
        proposed.update(ts for syntaxes in extra for ts in syntaxes)
    lists += [(ts,) for ts in own if ts not in proposed]
    return lists


def _numbered(pairs: Sequence[tuple[str, tuple[str, ...]]]) -> tuple[PresentationContextRQ, ...]:
    return tuple(
        PresentationContextRQ(2 * index + 1, sop_class, syntaxes)
        for index, (sop_class, syntaxes) in enumerate(pairs)
    )


def plan(spec: ProposalSpec, needs: Sequence[Need]) -> list[Batch]:
    """Plan the batches for a window of inputs (see the module docstring).

    Parameters
    ----------
    spec : ProposalSpec
        What to propose.
    needs : sequence of Need
        Per input, in input order: its SOP class and transfer syntax, or None
        for an input that will not be sent (invalid, preset).

    Returns
    -------
    list of Batch
        At least one (possibly with no contexts when nothing is to be sent).

    Raises
    ------
    NegotiationError
        One SOP class alone needs more than 128 contexts.
    """
    proposed_classes = list(spec.classes)
    in_list = set(proposed_classes)
    # Own syntaxes per class, in order of appearance.
    own: dict[str, list[str]] = {}
    native: set[str] = set()  # classes with an input in a native syntax (--compress)
    first_seen: dict[str, int] = {}
    for index, need in enumerate(needs):
        if need is None:
            continue
        sop_class, ts = need
        if sop_class not in in_list:
            if not spec.input_classes:
                continue
            in_list.add(sop_class)
            proposed_classes.append(sop_class)
        if sop_class not in first_seen:
            first_seen[sop_class] = index
            own[sop_class] = []
        if not is_encapsulated(ts):
            native.add(sop_class)
        elif spec.input_syntaxes and ts not in own[sop_class]:
            own[sop_class].append(ts)

    per_class = {c: _class_contexts(spec, c, own.get(c, []), c in native) for c in proposed_classes}
    total = sum(len(lists) for lists in per_class.values())
    if total <= MAX_PRESENTATION_CONTEXTS:
        pairs = [(c, syntaxes) for c in proposed_classes for syntaxes in per_class[c]]
        return [Batch(_numbered(pairs), list(range(len(needs))))]

    # More than one association: pack the needed classes, in order of first
    # appearance, into groups of at most 128 contexts.
    needed = sorted(first_seen, key=first_seen.__getitem__)
    groups: list[list[str]] = [[]]
    room = MAX_PRESENTATION_CONTEXTS
    for sop_class in needed:
        size = len(per_class[sop_class])
        if size > MAX_PRESENTATION_CONTEXTS:
            raise NegotiationError(
                f"Too many presentation contexts: {size} needed for SOP class {sop_class}, "
                f"at most {MAX_PRESENTATION_CONTEXTS} fit in one association"
            )
        if size > room:
            groups.append([])
            room = MAX_PRESENTATION_CONTEXTS
        groups[-1].append(sop_class)
        room -= size
    # Classes no input needs fill the last group's room (for inputs beyond the window).
    for sop_class in proposed_classes:
        size = len(per_class[sop_class])
        if sop_class not in first_seen and 0 < size <= room:
            groups[-1].append(sop_class)
            room -= size
    group_of = {c: g for g, classes in enumerate(groups) for c in classes}
    batches = [
        Batch(_numbered([(c, syntaxes) for c in classes for syntaxes in per_class[c]]))
        for classes in groups
    ]
    for index, need in enumerate(needs):
        group = group_of.get(need[0], 0) if need is not None else 0
        batches[group].items.append(index)
    # Batches go in the order of their first input.
    return sorted(batches, key=lambda b: b.items[0] if b.items else len(needs))


def covers(
    current: Sequence[PresentationContextRQ],
    wanted: Sequence[PresentationContextRQ],
    classes: set[str] | None = None,
) -> bool:
    """True when every context of `wanted` (of `classes`, if given) is also in `current`.

    The sender keeps an open association for the next batch when it covers
    the contexts that batch's inputs need.
    """
    have = {(c.abstract_syntax, tuple(c.transfer_syntaxes)) for c in current}
    return all(
        (c.abstract_syntax, tuple(c.transfer_syntaxes)) in have
        for c in wanted
        if classes is None or c.abstract_syntax in classes
    )
