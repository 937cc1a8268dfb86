"""Old import path of :mod:`storescu.dataset.conversion`, kept so that existing code keeps working.

The module moved when the package was laid out in layers (docs/ARCHITECTURE.md);
this name is the same module object (``storescu.conversion is storescu.dataset.conversion``).
"""

import sys

from storescu.dataset import conversion as _module
from storescu.dataset.conversion import *  # noqa: F403  (the names, for type checkers)

sys.modules[__name__] = _module
