"""Old import path of :mod:`storescu.run.report`, kept so that existing code keeps working.

The module moved when the package was laid out in layers (docs/ARCHITECTURE.md);
this name is the same module object (``storescu.report is storescu.run.report``).
"""

import sys

from storescu.run import report as _module
from storescu.run.report import *  # noqa: F403  (the names, for type checkers)

sys.modules[__name__] = _module
