"""Old import path of :mod:`storescu.run.inputs`, kept so that existing code keeps working.

The module moved when the package was laid out in layers (docs/ARCHITECTURE.md);
this name is the same module object (``storescu.inputs is storescu.run.inputs``).
"""

import sys

from storescu.run import inputs as _module
from storescu.run.inputs import *  # noqa: F403  (the names, for type checkers)

sys.modules[__name__] = _module
