"""Never lose track: even a bug in the middle of a run accounts for every input.

Found by this suite: an exception that was not a StorescuError (here it was a
UnicodeEncodeError from a UID, RELIABILITY row 6) left the sender's run with no
result for the file being sent nor for any input after it -- the report ended
early and the CLI printed only "internal error". Now the run records them (as
for Ctrl-C, with the error's name) and then lets the exception surface.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from storescu.net.client import AssociationSettings
from storescu.run import items as items_module
from storescu.run.items import inspect_inputs
from storescu.run.options import SendOptions
from storescu.run.results import Outcome
from storescu.run.sender import Sender
from tests.helpers.hostile import HostilePeer, scenarios


def test_unexpected_exception_still_accounts_for_every_input(
    hostile: Callable[..., HostilePeer], ct: Path, mr: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    peer = hostile(scenarios.good())
    original = items_module._Item.open
    calls = {"n": 0}

    def flaky(self: items_module._Item, *args: object, **kwargs: object) -> object:
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("a bug")
        return original(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(items_module._Item, "open", flaky)
    rows: list[tuple[str, Outcome, str | None]] = []
    run = Sender(
        peer.host,
        peer.port,
        AssociationSettings(acse_timeout=5, dimse_timeout=5),
        SendOptions(),
        on_result=lambda r: rows.append((r.path, r.outcome, r.error)),
    )
    with pytest.raises(RuntimeError, match="a bug"):
        run.run(inspect_inputs([str(ct), str(mr), str(ct)], "auto"))
    peer.wait_idle()
    assert [(p, o) for p, o, _ in rows] == [
        (str(ct), Outcome.SENT),
        (str(mr), Outcome.NOT_SENT),
        (str(ct), Outcome.NOT_SENT),
    ]
    assert all("internal error: RuntimeError" in (e or "") for _, o, e in rows[1:])
    assert not run.run_result.interrupted
    assert peer.sessions[0].ending == "abort"  # the association was aborted, not left open
