"""The Upper Layer state table (storescu.protocol.state) against PS3.8 section 9.2.

The expected table below is transcribed independently from PS3.8 Table 9-10
("DICOM Upper Layer Protocol State Transition Table"), one row per event and
one column per state; ``.`` is a blank cell. The next states come from the
action definitions in PS3.8 Tables 9-6 (association establishment), 9-7 (data
transfer), 9-8 (association release) and 9-9 (association abort).
"""

from __future__ import annotations

import pytest

from storescu.protocol.state import LOCAL_EVENTS, NEXT_STATE, TABLE, Action, Event, State, lookup

# PS3.8 Table 9-10.
EXPECTED_TABLE = """
         Sta1  Sta2  Sta3  Sta4  Sta5  Sta6  Sta7  Sta8  Sta9  Sta10 Sta11 Sta12 Sta13
Evt1     AE-1  .     .     .     .     .     .     .     .     .     .     .     .
Evt2     .     .     .     AE-2  .     .     .     .     .     .     .     .     .
Evt3     .     AA-1  AA-8  .     AE-3  AA-8  AA-8  AA-8  AA-8  AA-8  AA-8  AA-8  AA-6
Evt4     .     AA-1  AA-8  .     AE-4  AA-8  AA-8  AA-8  AA-8  AA-8  AA-8  AA-8  AA-6
Evt5     AE-5  .     .     .     .     .     .     .     .     .     .     .     .
Evt6     .     AE-6  AA-8  .     AA-8  AA-8  AA-8  AA-8  AA-8  AA-8  AA-8  AA-8  AA-7
Evt7     .     .     AE-7  .     .     .     .     .     .     .     .     .     .
Evt8     .     .     AE-8  .     .     .     .     .     .     .     .     .     .
Evt9     .     .     .     .     .     DT-1  .     AR-7  .     .     .     .     .
Evt10    .     AA-1  AA-8  .     AA-8  DT-2  AR-6  AA-8  AA-8  AA-8  AA-8  AA-8  AA-6
Evt11    .     .     .     .     .     AR-1  .     .     .     .     .     .     .
Evt12    .     AA-1  AA-8  .     AA-8  AR-2  AR-8  AA-8  AA-8  AA-8  AA-8  AA-8  AA-6
Evt13    .     AA-1  AA-8  .     AA-8  AA-8  AR-3  AA-8  AA-8  AR-10 AR-3  AA-8  AA-6
Evt14    .     .     .     .     .     .     .     AR-4  AR-9  .     .     AR-4  .
Evt15    .     .     AA-1  AA-2  AA-1  AA-1  AA-1  AA-1  AA-1  AA-1  AA-1  AA-1  .
Evt16    .     AA-2  AA-3  .     AA-3  AA-3  AA-3  AA-3  AA-3  AA-3  AA-3  AA-3  AA-2
Evt17    .     AA-5  AA-4  AA-4  AA-4  AA-4  AA-4  AA-4  AA-4  AA-4  AA-4  AA-4  AR-5
Evt18    .     AA-2  .     .     .     .     .     .     .     .     .     .     AA-2
Evt19    .     AA-1  AA-8  .     AA-8  AA-8  AA-8  AA-8  AA-8  AA-8  AA-8  AA-8  AA-7
"""

# PS3.8 Tables 9-6..9-9: "Next state is ...". AE-6 may also go to Sta13 (RQ not
# acceptable), AR-8 to Sta10 (acceptor side); the table holds the first choice.
EXPECTED_NEXT_STATE = """
AE-1 Sta4   AE-2 Sta5   AE-3 Sta6   AE-4 Sta1   AE-5 Sta2   AE-6 Sta3   AE-7 Sta6   AE-8 Sta13
DT-1 Sta6   DT-2 Sta6
AR-1 Sta7   AR-2 Sta8   AR-3 Sta1   AR-4 Sta13  AR-5 Sta1   AR-6 Sta7   AR-7 Sta8   AR-8 Sta9
AR-9 Sta11  AR-10 Sta12
AA-1 Sta13  AA-2 Sta1   AA-3 Sta1   AA-4 Sta1   AA-5 Sta1   AA-6 Sta13  AA-7 Sta13  AA-8 Sta13
"""


def parse_table() -> dict[tuple[Event, State], Action | None]:
    lines = [line.split() for line in EXPECTED_TABLE.strip().splitlines()]
    header, rows = lines[0], lines[1:]
    assert len(header) == 13
    assert len(rows) == 19
    cells: dict[tuple[Event, State], Action | None] = {}
    for row in rows:
        assert len(row) == 14, row
        event = Event[row[0]]
        for state_name, cell in zip(header, row[1:], strict=True):
            action = None if cell == "." else Action[cell.replace("-", "_")]
            cells[(event, State[state_name])] = action
    return cells


EXPECTED = parse_table()


def test_enumerations_have_the_standard_sizes() -> None:
    """PS3.8 9.2: 13 states, 19 events, 28 actions."""
    assert [s.name for s in State] == [f"Sta{i}" for i in range(1, 14)]
    assert [e.name for e in Event] == [f"Evt{i}" for i in range(1, 20)]
    assert len(Action) == 28
    names = {a.name for a in Action}
    assert names == (
        {f"AE_{i}" for i in range(1, 9)}
        | {"DT_1", "DT_2"}
        | {f"AR_{i}" for i in range(1, 11)}
        | {f"AA_{i}" for i in range(1, 9)}
    )


@pytest.mark.parametrize("enum", [State, Event, Action], ids=lambda e: e.__name__)
def test_no_enum_aliases(enum: type[State] | type[Event] | type[Action]) -> None:
    """Equal Enum values silently alias members (AR-5 and AA-5 share PS3.8's wording)."""
    assert len(enum.__members__) == len(enum)
    assert Action.AA_5 is not Action.AR_5
    assert lookup(Event.Evt17, State.Sta2).name == "AA_5"  # type: ignore[union-attr]
    assert lookup(Event.Evt17, State.Sta13).name == "AR_5"  # type: ignore[union-attr]


def test_expected_grid_is_complete() -> None:
    assert len(EXPECTED) == 19 * 13


@pytest.mark.parametrize("event", list(Event), ids=lambda e: e.name)
def test_table_row_matches_ps38_table_9_10(event: Event) -> None:
    """Cell by cell, including blanks (missing keys), for one event row."""
    for state in State:
        assert lookup(event, state) is EXPECTED[(event, state)], (event.name, state.name)


def test_table_has_exactly_the_non_blank_cells() -> None:
    non_blank = {key for key, action in EXPECTED.items() if action is not None}
    actual = {(event, state) for event, row in TABLE.items() for state in row}
    assert actual == non_blank
    assert set(TABLE) == set(Event)


def test_lookup_returns_none_for_blank_cells() -> None:
    blanks = [key for key, action in EXPECTED.items() if action is None]
    assert blanks  # there are many
    for event, state in blanks:
        assert lookup(event, state) is None


def test_every_action_is_used() -> None:
    used = {action for row in TABLE.values() for action in row.values()}
    assert used == set(Action)


def test_next_state_covers_all_28_actions() -> None:
    expected: dict[Action, State] = {}
    tokens = EXPECTED_NEXT_STATE.split()
    for name, state in zip(tokens[::2], tokens[1::2], strict=True):
        expected[Action[name.replace("-", "_")]] = State[state]
    assert len(expected) == 28
    assert expected == NEXT_STATE


def test_local_events_are_the_local_primitives() -> None:
    """Evt1,2,5,7,8,9,11,14,15 are issued by the local user or transport service (Table 9-10)."""
    assert {e.name for e in LOCAL_EVENTS} == {
        "Evt1",
        "Evt2",
        "Evt5",
        "Evt7",
        "Evt8",
        "Evt9",
        "Evt11",
        "Evt14",
        "Evt15",
    }


def test_received_pdus_defined_wherever_a_connection_exists() -> None:
    """PS3.8 9.2: every PDU event (Evt3,4,6,10,12,13,16,19) has an action in Sta2, 3, 5..13."""
    pdu_events = [Event[f"Evt{i}"] for i in (3, 4, 6, 10, 12, 13, 16, 19)]
    connected = [s for s in State if s not in (State.Sta1, State.Sta4)]
    for event in pdu_events:
        for state in connected:
            assert lookup(event, state) is not None, (event.name, state.name)
        assert lookup(event, State.Sta1) is None
        assert lookup(event, State.Sta4) is None
