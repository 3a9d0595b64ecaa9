"""skscor's benchmarks, run from the repository root as modules.

``python -m benchmarks.speed``, ``python -m benchmarks.quality`` and
``python -m benchmarks.overhead`` (each with ``--smoke`` for a run of seconds,
``--help`` for its options); ``README.md`` has the commands behind every file
in ``results/`` and what the numbers mean. Benchmark-only code: nothing in
``skscor`` imports it, and its extra data packages are never dependencies of
``skscor``.
"""
