"""Old import path of :mod:`storescu.protocol.status`, kept so that existing code keeps working.

The module moved when the package was laid out in layers (docs/ARCHITECTURE.md);
this name is the same module object (``storescu.status is storescu.protocol.status``).
"""

import sys

from storescu.protocol import status as _module
from storescu.protocol.status import *  # noqa: F403  (the names, for type checkers)

sys.modules[__name__] = _module
