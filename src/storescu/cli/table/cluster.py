"""Cluster options: the same run, fanned out over a Dask cluster (``--dask``).

Our own (DCMTK has no such options); they need the ``storescu[dask]`` extra
and are described in :mod:`storescu.run.cluster`. ``--help`` lists them
inside DCMTK's "other network options", after the operations.
"""

from __future__ import annotations

from typing import Final

from storescu.cli.spec import INT32_MAX, NETWORK_GROUP, OptionSpec, in_group

_O = OptionSpec

ROWS: Final[tuple[OptionSpec, ...]] = (
    *in_group(
        NETWORK_GROUP,
        "other network options",
        _O(
            None,
            "--dask",
            "send as tasks on a Dask cluster (needs\n"
            "storescu[dask]): the scheduler's address\n"
            "(tcp://host:8786), or local:N for N worker\n"
            "processes on this machine; the workers read\n"
            "the files, this process writes the report",
            "dask",
            args=("ADDRESS",),
            arg_help="ADDRESS: tcp://host:port or local:N",
        ),
        _O(
            None,
            "--dask-partition",
            "at most N files per task (default: 1000)",
            "dask_partition",
            args=("N",),
            arg_help="N: integer >= 1",
            kind="int",
            minimum=1,
            maximum=INT32_MAX,
        ),
        _O(
            None,
            "--dask-associations",
            "at most N associations at once across the\n"
            "cluster, -P per task (default: -P times the\n"
            "cluster's worker threads)",
            "dask_associations",
            args=("N",),
            arg_help="N: integer >= 1",
            kind="int",
            minimum=1,
            maximum=INT32_MAX,
        ),
    ),
)
