"""The ``storescu`` command line: argv -> options -> a library call -> an exit code.

The only layer that prints to people or exits. The option table (DCMTK's spellings
and grammar), the scanner and parser, ``--help``/``--version``, and the wiring of
options onto :mod:`storescu.run` and :mod:`storescu.net`.
"""
