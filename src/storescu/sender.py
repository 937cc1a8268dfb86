"""Old import path of :mod:`storescu.run.sender`, kept so that existing code keeps working.

The module moved when the package was laid out in layers (docs/ARCHITECTURE.md);
this name is the same module object (``storescu.sender is storescu.run.sender``).
"""

import sys

from storescu.run import sender as _module
from storescu.run.sender import *  # noqa: F403  (the names, for type checkers)

sys.modules[__name__] = _module
