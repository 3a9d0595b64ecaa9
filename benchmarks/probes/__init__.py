"""Probes: measurements of candidate features before they are built.

Unlike the benchmarks one level up, a probe may patch skscor's private modules
(for example to swap the default network), because what it measures is not in
the package yet; its records are labelled with its own method names and its
results are reported as a probe in ``benchmarks/README.md``.
"""
