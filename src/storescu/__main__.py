"""``python -m storescu``: the DCMTK-compatible command line."""

from storescu.cli.main import run

run()
