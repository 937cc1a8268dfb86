"""The storescu benchmark (issue 6): corpora, receivers, senders, report.

Run it with ``python bench/run.py`` (see ``bench/README.md``). The modules here are
not part of the installed package; ``tests/unit/bench/test_bench_tools.py`` imports the
pure helpers as ``bench.corpus``, ``bench.report`` and ``bench.linkproxy``.
"""
