"""Dask is an optional extra: nothing imports it unless a run asks for a cluster."""

from __future__ import annotations

import subprocess
import sys

_PROBE = """
import sys
import storescu, storescu.api, storescu.cli.main, storescu.run.factory, storescu.run.parallel
from storescu.cli.parser import parse_args
parse_args(["--dask", "local:2", "host", "104", "a.dcm"])
storescu.send_files  # the API's lazy export
loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("dask", "distributed"))
print(",".join(loaded))
"""


def test_nothing_imports_dask_unless_asked() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == ""
