"""The project's Storage SCP: the demo's receiver and a test peer.

:class:`StoreSCP` (in :mod:`storescu.scp.server`) accepts associations on the
same sans-IO core as the sender; :mod:`storescu.scp.cli` is its command line
(``storescu-scp``, ``python -m storescu.scp``).
"""

from __future__ import annotations

from storescu.scp.cli import main, run
from storescu.scp.server import ACCEPTED_SYNTAXES, ReceivedInstance, StoreSCP, is_storage_class

__all__ = ["ACCEPTED_SYNTAXES", "ReceivedInstance", "StoreSCP", "is_storage_class", "main", "run"]
