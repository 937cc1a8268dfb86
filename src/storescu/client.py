"""Old import path of :mod:`storescu.net.client`, kept so that existing code keeps working.

The module moved when the package was laid out in layers (docs/ARCHITECTURE.md);
this name is the same module object (``storescu.client is storescu.net.client``).
"""

import sys

from storescu.net import client as _module
from storescu.net.client import *  # noqa: F403  (the names, for type checkers)

sys.modules[__name__] = _module
