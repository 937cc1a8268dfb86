"""The DICOM Upper Layer state machine as data (PS3.8 section 9.2, Table 9-10).

Theory of operation
-------------------
PS3.8 describes the protocol as 13 states (Sta1..Sta13), 19 events
(Evt1..Evt19) and 28 actions (AE-1..8, DT-1..2, AR-1..10, AA-1..8). Table 9-10
says, for each (event, state), which action runs; Tables 9-6..9-9 say what each
action does and which state follows. Both are transcribed here once, as plain
dictionaries, so they can be reviewed row by row against the standard. Nothing
else in the package decides a transition: :mod:`storescu.protocol.association` looks
up ``TRANSITIONS[(event, state)]`` and performs the action's side effects
(send a PDU, raise an indication, ask the driver to close the transport).

A (event, state) pair missing from the table is a blank cell in Table 9-10.
For local primitives (Evt1, 2, 5, 7, 8, 9, 11, 14, 15) that is a misuse of the
API (:class:`~storescu.kernel.errors.LocalProtocolError`). For PDUs and transport
events it cannot happen in a correct driver: PS3.8 defines every state in
which a connection exists.
"""

from __future__ import annotations

from enum import Enum, unique
from typing import Final


@unique
class State(Enum):
    """PS3.8 Table 9-1 states."""

    # Members are singletons compared by identity: hash them by identity too.
    # Enum's own __hash__ is Python code (hash of the name), run for every
    # table lookup -- three per PDU.
    __hash__ = object.__hash__

    Sta1 = "Idle"
    Sta2 = "Transport connection open (awaiting A-ASSOCIATE-RQ PDU)"
    Sta3 = "Awaiting local A-ASSOCIATE response primitive"
    Sta4 = "Awaiting transport connection opening to complete"
    Sta5 = "Awaiting A-ASSOCIATE-AC or A-ASSOCIATE-RJ PDU"
    Sta6 = "Association established and ready for data transfer"
    Sta7 = "Awaiting A-RELEASE-RP PDU"
    Sta8 = "Awaiting local A-RELEASE response primitive"
    Sta9 = "Release collision requestor side; awaiting A-RELEASE response primitive"
    Sta10 = "Release collision acceptor side; awaiting A-RELEASE-RP PDU"
    Sta11 = "Release collision requestor side; awaiting A-RELEASE-RP PDU"
    Sta12 = "Release collision acceptor side; awaiting A-RELEASE response primitive"
    Sta13 = "Awaiting Transport Connection Close Indication"


@unique
class Event(Enum):
    """PS3.8 Table 9-10 events."""

    __hash__ = object.__hash__  # as State's

    Evt1 = "A-ASSOCIATE request (local user)"
    Evt2 = "Transport connect confirmation (local transport service)"
    Evt3 = "A-ASSOCIATE-AC PDU (received on transport connection)"
    Evt4 = "A-ASSOCIATE-RJ PDU (received on transport connection)"
    Evt5 = "Transport connection indication (local transport service)"
    Evt6 = "A-ASSOCIATE-RQ PDU (received on transport connection)"
    Evt7 = "A-ASSOCIATE response primitive (accept)"
    Evt8 = "A-ASSOCIATE response primitive (reject)"
    Evt9 = "P-DATA request primitive"
    Evt10 = "P-DATA-TF PDU (received on transport connection)"
    Evt11 = "A-RELEASE request primitive"
    Evt12 = "A-RELEASE-RQ PDU (received on transport connection)"
    Evt13 = "A-RELEASE-RP PDU (received on transport connection)"
    Evt14 = "A-RELEASE response primitive"
    Evt15 = "A-ABORT request primitive"
    Evt16 = "A-ABORT PDU (received on transport connection)"
    Evt17 = "Transport connection closed indication (local transport service)"
    Evt18 = "ARTIM timer expired (Association reject/release timer)"
    Evt19 = "Unrecognized or invalid PDU received"


@unique
class Action(Enum):
    """PS3.8 Tables 9-6 to 9-9 actions."""

    __hash__ = object.__hash__  # as State's

    AE_1 = "Issue TRANSPORT CONNECT request primitive to local transport service"
    AE_2 = "Send A-ASSOCIATE-RQ-PDU"
    AE_3 = "Issue A-ASSOCIATE confirmation (accept) primitive"
    AE_4 = "Issue A-ASSOCIATE confirmation (reject) primitive and close transport connection"
    AE_5 = "Issue Transport connection response primitive; start ARTIM timer"
    AE_6 = "Stop ARTIM timer and if A-ASSOCIATE-RQ acceptable issue A-ASSOCIATE indication"
    AE_7 = "Send A-ASSOCIATE-AC PDU"
    AE_8 = "Send A-ASSOCIATE-RJ PDU and start ARTIM timer"
    DT_1 = "Send P-DATA-TF PDU"
    DT_2 = "Send P-DATA indication primitive"
    AR_1 = "Send A-RELEASE-RQ PDU"
    AR_2 = "Issue A-RELEASE indication primitive"
    AR_3 = "Issue A-RELEASE confirmation primitive, and close transport connection"
    AR_4 = "Issue A-RELEASE-RP PDU and start ARTIM timer"
    AR_5 = "Stop ARTIM timer"
    AR_6 = "Issue P-DATA indication"
    AR_7 = "Issue P-DATA-TF PDU"
    AR_8 = "Issue A-RELEASE indication (release collision)"
    AR_9 = "Send A-RELEASE-RP PDU"
    AR_10 = "Issue A-RELEASE confirmation primitive"
    AA_1 = "Send A-ABORT PDU (service-user source) and start (or restart) ARTIM timer"
    AA_2 = "Stop ARTIM timer if running. Close transport connection"
    AA_3 = "Issue A-ABORT or A-P-ABORT indication and close transport connection"
    AA_4 = "Issue A-P-ABORT indication primitive"
    # PS3.8 gives AR-5 and AA-5 the same text; equal Enum values would make AA_5 a mere
    # alias of AR_5 (27 actions instead of 28), so this one says where it applies.
    AA_5 = "Stop ARTIM timer (transport closed while awaiting A-ASSOCIATE-RQ)"
    AA_6 = "Ignore PDU"
    AA_7 = "Send A-ABORT PDU"
    AA_8 = "Send A-ABORT PDU (service-provider source), issue A-P-ABORT indication, start ARTIM"


S = State
E = Event
A = Action

#: The state each action leads to (PS3.8 Tables 9-6..9-9). AE-6 and AR-8 have
#: two possible next states; the association object picks one (see there).
NEXT_STATE: Final[dict[Action, State]] = {
    A.AE_1: S.Sta4,
    A.AE_2: S.Sta5,
    A.AE_3: S.Sta6,
    A.AE_4: S.Sta1,
    A.AE_5: S.Sta2,
    A.AE_6: S.Sta3,  # or Sta13 when the RQ is not acceptable
    A.AE_7: S.Sta6,
    A.AE_8: S.Sta13,
    A.DT_1: S.Sta6,
    A.DT_2: S.Sta6,
    A.AR_1: S.Sta7,
    A.AR_2: S.Sta8,
    A.AR_3: S.Sta1,
    A.AR_4: S.Sta13,
    A.AR_5: S.Sta1,
    A.AR_6: S.Sta7,
    A.AR_7: S.Sta8,
    A.AR_8: S.Sta9,  # Sta9 for the requestor, Sta10 for the acceptor
    A.AR_9: S.Sta11,
    A.AR_10: S.Sta12,
    A.AA_1: S.Sta13,
    A.AA_2: S.Sta1,
    A.AA_3: S.Sta1,
    A.AA_4: S.Sta1,
    A.AA_5: S.Sta1,
    A.AA_6: S.Sta13,
    A.AA_7: S.Sta13,
    A.AA_8: S.Sta13,
}

_ESTABLISHED_TO_COLLISION = (S.Sta6, S.Sta7, S.Sta8, S.Sta9, S.Sta10, S.Sta11, S.Sta12)
_AFTER_RELEASE = (S.Sta8, S.Sta9, S.Sta10, S.Sta11, S.Sta12)


def _same(states: tuple[State, ...], action: Action) -> dict[State, Action]:
    return dict.fromkeys(states, action)


#: PS3.8 Table 9-10, one dictionary per event row; keys are the non-blank states.
TABLE: Final[dict[Event, dict[State, Action]]] = {
    E.Evt1: {S.Sta1: A.AE_1},
    E.Evt2: {S.Sta4: A.AE_2},
    E.Evt3: {
        S.Sta2: A.AA_1,
        S.Sta3: A.AA_8,
        S.Sta5: A.AE_3,
        **_same((S.Sta6, S.Sta7, *_AFTER_RELEASE), A.AA_8),
        S.Sta13: A.AA_6,
    },
    E.Evt4: {
        S.Sta2: A.AA_1,
        S.Sta3: A.AA_8,
        S.Sta5: A.AE_4,
        **_same((S.Sta6, S.Sta7, *_AFTER_RELEASE), A.AA_8),
        S.Sta13: A.AA_6,
    },
    E.Evt5: {S.Sta1: A.AE_5},
    E.Evt6: {
        S.Sta2: A.AE_6,
        S.Sta3: A.AA_8,
        S.Sta5: A.AA_8,
        **_same(_ESTABLISHED_TO_COLLISION, A.AA_8),
        S.Sta13: A.AA_7,
    },
    E.Evt7: {S.Sta3: A.AE_7},
    E.Evt8: {S.Sta3: A.AE_8},
    E.Evt9: {S.Sta6: A.DT_1, S.Sta8: A.AR_7},
    E.Evt10: {
        S.Sta2: A.AA_1,
        S.Sta3: A.AA_8,
        S.Sta5: A.AA_8,
        S.Sta6: A.DT_2,
        S.Sta7: A.AR_6,
        **_same(_AFTER_RELEASE, A.AA_8),
        S.Sta13: A.AA_6,
    },
    E.Evt11: {S.Sta6: A.AR_1},
    E.Evt12: {
        S.Sta2: A.AA_1,
        S.Sta3: A.AA_8,
        S.Sta5: A.AA_8,
        S.Sta6: A.AR_2,
        S.Sta7: A.AR_8,
        **_same(_AFTER_RELEASE, A.AA_8),
        S.Sta13: A.AA_6,
    },
    E.Evt13: {
        S.Sta2: A.AA_1,
        S.Sta3: A.AA_8,
        S.Sta5: A.AA_8,
        S.Sta6: A.AA_8,
        S.Sta7: A.AR_3,
        S.Sta8: A.AA_8,
        S.Sta9: A.AA_8,
        S.Sta10: A.AR_10,
        S.Sta11: A.AR_3,
        S.Sta12: A.AA_8,
        S.Sta13: A.AA_6,
    },
    E.Evt14: {S.Sta8: A.AR_4, S.Sta9: A.AR_9, S.Sta12: A.AR_4},
    E.Evt15: {
        S.Sta3: A.AA_1,
        S.Sta4: A.AA_2,
        S.Sta5: A.AA_1,
        **_same(_ESTABLISHED_TO_COLLISION, A.AA_1),
    },
    E.Evt16: {
        S.Sta2: A.AA_2,
        S.Sta3: A.AA_3,
        S.Sta5: A.AA_3,
        **_same(_ESTABLISHED_TO_COLLISION, A.AA_3),
        S.Sta13: A.AA_2,
    },
    E.Evt17: {
        S.Sta2: A.AA_5,
        S.Sta3: A.AA_4,
        S.Sta4: A.AA_4,
        S.Sta5: A.AA_4,
        **_same(_ESTABLISHED_TO_COLLISION, A.AA_4),
        S.Sta13: A.AR_5,
    },
    E.Evt18: {S.Sta2: A.AA_2, S.Sta13: A.AA_2},
    E.Evt19: {
        S.Sta2: A.AA_1,
        S.Sta3: A.AA_8,
        S.Sta5: A.AA_8,
        **_same(_ESTABLISHED_TO_COLLISION, A.AA_8),
        S.Sta13: A.AA_7,
    },
}

#: Local primitives: a blank cell for these is the caller's error.
LOCAL_EVENTS: Final = frozenset(
    {E.Evt1, E.Evt2, E.Evt5, E.Evt7, E.Evt8, E.Evt9, E.Evt11, E.Evt14, E.Evt15}
)


def lookup(event: Event, state: State) -> Action | None:
    """Return the action of Table 9-10 for ``(event, state)``, or None for a blank cell."""
    return TABLE[event].get(state)
