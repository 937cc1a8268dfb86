"""The option table: every option storescu knows, one row each, in ``--help`` order.

Theory of operation
-------------------
:data:`OPTION_TABLE` lists every option of the seed manual, of DCMTK 3.6.7 and of
DCMTK 3.7, and our own, one frozen :class:`~storescu.cli.spec.OptionSpec` row
each: spellings, arguments, the :class:`~storescu.cli.options.Options` field it
sets (``dest``) and the value it stores, help text, and a ``status``. Options
whose feature belongs to a later issue are ``"pending:<topic>"``
(:func:`~storescu.cli.spec.pending`): they parse with their real arity (so the
rest of the line is read correctly) and are then refused with a
:class:`~storescu.kernel.errors.UsageError`, never ignored.
Supporting one later means: flip ``status``, give it a ``dest``, add the field.

The rows live in one module per topic; this module splices them together. The
order is DCMTK's ``--help`` order, and ``--help`` is generated from it
(:mod:`storescu.cli.helptext`): consecutive rows of one group and subgroup
share a heading. So a topic may come in two runs (the network rows around the
transfer syntaxes), and one heading may span topics (DCMTK's "other network
options" holds timeouts, operations and rewriting rows, in that order).
"""

from __future__ import annotations

from typing import Final

from storescu.cli.spec import OptionSpec
from storescu.cli.table import (
    cluster,
    commitment,
    general,
    inputs,
    network,
    operations,
    rewriting,
    syntaxes,
    tls,
)

__all__ = ["OPTION_TABLE", "PARAMETERS"]

OPTION_TABLE: Final[tuple[OptionSpec, ...]] = (
    *general.ROWS,
    *inputs.ROWS,
    *network.PEER_ROWS,
    *syntaxes.ROWS,
    *network.ASSOCIATION_ROWS,
    *operations.ROWS,
    *cluster.ROWS,
    *rewriting.ROWS,
    *commitment.ROWS,
    *tls.ROWS,
)

#: The operands, as (name, help); the first two are needed always, the files
#: unless an option names them or needs none (:func:`storescu.cli.parser.parse_args`).
PARAMETERS: Final = (
    ("peer", "host name or IP address of the storage SCP"),
    ("port", "its TCP port, 1..65535"),
    ("dcmfile-in", "DICOM files, DICOMDIRs or directories (+sd)"),
)
