"""Old import path of :mod:`storescu.net.tls`, kept so that existing code keeps working.

The module moved when the package was laid out in layers (docs/ARCHITECTURE.md);
this name is the same module object (``storescu.tls is storescu.net.tls``), now a
package. Its submodules (``storescu.net.tls.profiles`` and the others) are new and
have no old path: import them by the new one, not through this name.
"""

import sys

from storescu.net import tls as _module
from storescu.net.tls import *  # noqa: F403  (the names, for type checkers)

sys.modules[__name__] = _module
