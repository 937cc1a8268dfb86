"""storescu: a DICOM Storage SCU (C-STORE sender) and a Python API for it.

The public names below are imported lazily (PEP 562) so that ``import
storescu`` and the command line start fast.

Main entry points: :func:`send_files`, :func:`send_datasets`, :func:`echo`;
:class:`AssociationSettings` and :class:`SendOptions` configure a run
(:class:`Conversion`: decompression, deflate level, ``-u``; :func:`load_profile`:
a DCMTK ``-xf`` profile);
:class:`RunResult` / :class:`FileResult` / :class:`Outcome` report it;
:class:`InputOptions` scans directories and :class:`ReportWriter` writes the
per-file report (``--report``);
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
    "TlsOptions": "storescu.tls",
    "InputOptions": "storescu.inputs",
    "ReportWriter": "storescu.report",
    "RewriteOptions": "storescu.rewrite",
    "Conversion": "storescu.conversion",
    "load_profile": "storescu.asconfig",
}

__all__ = [
    "AssociationSettings",
    "Conversion",
    "FileResult",
    "InputOptions",
    "Outcome",
    "ReportWriter",
    "RewriteOptions",
    "RunResult",
    "SendOptions",
    "Status",
    "StoreAssociation",
    "StoreSCP",
    "TlsOptions",
    "__version__",
    "echo",
    "load_profile",
    "send_datasets",
    "send_files",
]

if TYPE_CHECKING:
    from storescu.api import echo, send_datasets, send_files
    from storescu.asconfig import load_profile
    from storescu.client import AssociationSettings, StoreAssociation
    from storescu.conversion import Conversion
    from storescu.inputs import InputOptions
    from storescu.report import ReportWriter
    from storescu.rewrite import RewriteOptions
    from storescu.scp import StoreSCP
    from storescu.sender import FileResult, Outcome, RunResult, SendOptions
    from storescu.status import Status
    from storescu.tls import TlsOptions


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'storescu' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
