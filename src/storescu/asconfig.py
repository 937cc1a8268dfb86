"""Old import path of :mod:`storescu.run.asconfig`, kept so that existing code keeps working.

The module moved when the package was laid out in layers (docs/ARCHITECTURE.md);
this name is the same module object (``storescu.asconfig is storescu.run.asconfig``).
"""

import sys

from storescu.run import asconfig as _module
from storescu.run.asconfig import *  # noqa: F403  (the names, for type checkers)

sys.modules[__name__] = _module
