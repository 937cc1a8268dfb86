"""Old import path of :mod:`storescu.kernel.errors`, kept so that existing code keeps working.

The module moved when the package was laid out in layers (docs/ARCHITECTURE.md);
this name is the same module object (``storescu.errors is storescu.kernel.errors``).
"""

import sys

from storescu.kernel import errors as _module
from storescu.kernel.errors import *  # noqa: F403  (the names, for type checkers)

sys.modules[__name__] = _module
