"""Test infrastructure shared by the unit and interop suites.

Nothing in here talks to the network at import time or starts processes by itself:
modules expose helpers and small classes; fixtures in ``tests/conftest.py`` and
``tests/interop/conftest.py`` wire them into pytest.
"""
