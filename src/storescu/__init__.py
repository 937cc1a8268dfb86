"""storescu: a DICOM Storage SCU (C-STORE sender) and a Python API for it.

The public names below are imported lazily (PEP 562) so that ``import
storescu`` and the command line start fast.

Main entry points: :func:`send_files`, :func:`send_datasets`, :func:`echo`,
:func:`request_commitment` (Storage Commitment: :class:`CommitmentOptions`,
:class:`CommitmentRun`; :class:`CommitmentConfig` for :class:`StoreSCP`);
:class:`AssociationSettings` and :class:`SendOptions` configure a run
(:class:`Conversion`: decompression, deflate level, ``-u``; :func:`load_profile`:
a DCMTK ``-xf`` profile);
:class:`RunResult` / :class:`FileResult` / :class:`Outcome` report it;
:class:`InputOptions` scans directories and :class:`ReportWriter` writes the
per-file report (``--report``);
:class:`StoreAssociation` is the lower-level association object, and
:class:`StoreSCP` a small receiving SCP.

The package is laid out in layers, each a folder that imports only the ones
below it (docs/ARCHITECTURE.md; import-linter checks it): ``cli`` -> ``api`` ->
``run`` / ``scp`` -> ``net`` / ``dataset`` -> ``protocol`` (the sans-IO core) ->
``kernel`` (errors, UIDs, records).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from storescu.kernel.version import __version__

_EXPORTS = {
    "send_files": "storescu.api",
    "send_datasets": "storescu.api",
    "echo": "storescu.api",
    "request_commitment": "storescu.api",
    "CommitmentOptions": "storescu.run.commitment",
    "CommitmentRun": "storescu.run.results",
    "CommitmentConfig": "storescu.scp.commitment",
    "AssociationSettings": "storescu.net.client",
    "StoreAssociation": "storescu.net.client",
    "SendOptions": "storescu.run.options",
    "RunResult": "storescu.run.results",
    "FileResult": "storescu.run.results",
    "Outcome": "storescu.run.results",
    "Status": "storescu.protocol.status",
    "StoreSCP": "storescu.scp",
    "TlsOptions": "storescu.net.tls",
    "InputOptions": "storescu.run.inputs",
    "ReportWriter": "storescu.run.report",
    "RewriteOptions": "storescu.dataset.rewriteopts",
    "Conversion": "storescu.dataset.conversion",
    "load_profile": "storescu.run.asconfig",
}

__all__ = [
    "AssociationSettings",
    "CommitmentConfig",
    "CommitmentOptions",
    "CommitmentRun",
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
    "request_commitment",
    "send_datasets",
    "send_files",
]

if TYPE_CHECKING:
    from storescu.api import echo, request_commitment, send_datasets, send_files
    from storescu.dataset.conversion import Conversion
    from storescu.dataset.rewriteopts import RewriteOptions
    from storescu.net.client import AssociationSettings, StoreAssociation
    from storescu.net.tls import TlsOptions
    from storescu.protocol.status import Status
    from storescu.run.asconfig import load_profile
    from storescu.run.commitment import CommitmentOptions
    from storescu.run.inputs import InputOptions
    from storescu.run.options import SendOptions
    from storescu.run.report import ReportWriter
    from storescu.run.results import CommitmentRun, FileResult, Outcome, RunResult
    from storescu.scp import StoreSCP
    from storescu.scp.commitment import CommitmentConfig


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'storescu' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
