"""``python -m storescu.scp``: run the project's Storage SCP."""

from storescu.scp.cli import run

run()
