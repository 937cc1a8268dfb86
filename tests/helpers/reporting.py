"""Show peer state and logs in the report of a failed test."""

from __future__ import annotations

from typing import Protocol

import pytest


class Describable(Protocol):
    def describe(self) -> str: ...


PEERS_KEY = pytest.StashKey[list[tuple[str, Describable]]]()


def attach_peer(node: pytest.Item, label: str, peer: Describable) -> None:
    """Show ``peer.describe()`` (its state and log) if the test fails."""
    node.stash.setdefault(PEERS_KEY, []).append((label, peer))


def peer_sections(node: pytest.Item) -> list[tuple[str, str]]:
    sections = []
    for label, peer in node.stash.get(PEERS_KEY, []):
        try:
            text = peer.describe()
        except Exception as exc:  # a report must not fail
            text = f"<could not describe peer: {exc}>"
        sections.append((f"peer {label}", text))
    return sections
