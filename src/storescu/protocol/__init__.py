"""The sans-IO protocol core: bytes in -> events out, primitives in -> buffers out.

PS3.8 Upper Layer (:mod:`~storescu.protocol.pdu` PDUs and items, section 9.3;
:mod:`~storescu.protocol.state` Table 9-10 as data; :mod:`~storescu.protocol.association`
the connection object), PS3.7 DIMSE (:mod:`~storescu.protocol.dimse` command sets,
:mod:`~storescu.protocol.status` statuses), presentation contexts
(:mod:`~storescu.protocol.negotiation` DCMTK's proposal and per-file selection,
:mod:`~storescu.protocol.planning` spreading more than 128 contexts over associations).

Imports only the standard library's pure modules and :mod:`storescu.kernel`: no
socket, ssl, select, threading, asyncio, time, logging, pydicom or file access
(import-linter contracts in ``pyproject.toml``, and tests/unit/protocol/test_core_imports.py).
"""
