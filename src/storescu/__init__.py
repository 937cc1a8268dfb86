"""storescu: a DICOM Storage SCU (C-STORE sender) and a Python API for it."""

from __future__ import annotations

__version__ = "0.1.0"
