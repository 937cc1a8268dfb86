"""storescu: a DICOM Storage SCU (C-STORE sender) and a Python API for it.

The public names below are imported lazily (PEP 562) so that ``import
storescu`` and the command line start fast.

Main entry points: :func:`send_files`, :func:`send_datasets`, :func:`echo`;
:class:`AssociationSettings` and :class:`SendOptions` configure a run;
:class:`RunResult` / :class:`FileResult` / :class:`Outcome` report it;
:class:`StoreAssociation` is the lower-level association object, and
:class:`StoreSCP` a small receiving SCP.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "send_files": "storescu.api",
    "send_datasets": "storescu.api",
    "echo": "storescu.api",
    "AssociationSettings": "storescu.client",
    "StoreAssociation": "storescu.client",
    "SendOptions": "storescu.sender",
    "RunResult": "storescu.sender",
    "FileResult": "storescu.sender",
    "Outcome": "storescu.sender",
    "Status": "storescu.status",
    "StoreSCP": "storescu.scp",
}

__all__ = [
    "AssociationSettings",
    "FileResult",
    "Outcome",
    "RunResult",
    "SendOptions",
    "Status",
    "StoreAssociation",
    "StoreSCP",
    "__version__",
    "echo",
    "send_datasets",
    "send_files",
]

if TYPE_CHECKING:
    from storescu.api import echo, send_datasets, send_files
    from storescu.client import AssociationSettings, StoreAssociation
    from storescu.scp import StoreSCP
    from storescu.sender import FileResult, Outcome, RunResult, SendOptions
    from storescu.status import Status


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'storescu' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
