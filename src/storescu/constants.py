"""Old import path of :mod:`storescu.kernel.constants`, kept so that existing code keeps working.

The module moved when the package was laid out in layers (docs/ARCHITECTURE.md);
this name is the same module object (``storescu.constants is storescu.kernel.constants``).
"""

import sys

from storescu.kernel import constants as _module
from storescu.kernel.constants import *  # noqa: F403  (the names, for type checkers)

sys.modules[__name__] = _module
