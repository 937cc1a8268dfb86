"""Old import path of :mod:`storescu.dataset.rewrite`, kept so that existing code keeps working.

The module moved when the package was laid out in layers (docs/ARCHITECTURE.md);
this name is the same module object (``storescu.rewrite is storescu.dataset.rewrite``).
"""

import sys

from storescu.dataset import rewrite as _module
from storescu.dataset.rewrite import *  # noqa: F403  (the names, for type checkers)

sys.modules[__name__] = _module
