"""Probes: measurements of candidate features before they are built.

Unlike the benchmarks one level up, a probe may patch skscor's private modules
(for example to swap the default network), because what it measures is not in
the package yet; its records are labelled with its own method names and its
results are reported as a probe in ``benchmarks/README.md``.
"""

from __future__ import annotations

import argparse


def probe_parser(
    doc, *, tasks="all", bench=False, out_required=True
) -> argparse.ArgumentParser:
    """The options every probe takes: ``--seeds``, ``--tasks``, ``--method``
    (comma-separated) and ``--out`` (optional where ``out_required`` is False,
    for a probe that can also only print); with ``bench``, ``--bench`` choosing the
    natural benchmark or the preprocessing benchmark's raw-frame arm (where
    ``--seeds`` is a count, as there). The probe adds its own options."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    if bench:
        parser.add_argument(
            "--bench", choices=("natural", "preprocessing"), default="natural"
        )
    parser.add_argument("--seeds", default="0", help="natural: list; else a count")
    parser.add_argument("--tasks", default=tasks)
    parser.add_argument("--method", default="scor", help="comma-separated")
    parser.add_argument("--out", required=out_required)
    return parser


def register_as(suffix, methods, **overrides) -> list[str]:
    """Register each of ``methods`` (comma-separated) as ``f"{method}+{suffix}"``.

    The same estimator and parameters under the probe's own name, so that its
    records never pass for the defaults'; ``overrides`` change parameters.
    Returns the new names.
    """
    from skscor._variants import VARIANTS, Variant

    names = []
    for method in methods.split(","):
        names.append(f"{method}+{suffix}")
        base = VARIANTS[method]
        VARIANTS[names[-1]] = (
            Variant(
                base.estimator,
                {**base.params, **overrides},
                f"{base.description}; probe {suffix}: {overrides}",
                base.kind,
            )
            if overrides
            else base
        )
    return names


def run_natural_as(suffix, args, **overrides) -> None:
    """Run the natural benchmark on ``--method`` under :func:`register_as`'s
    names (with ``overrides`` of the estimators' parameters)."""
    from .. import natural

    names = register_as(suffix, args.method, **overrides)
    natural.main([
        "--tasks", args.tasks, "--methods", ",".join(names),
        "--seeds", args.seeds, "--out", args.out,
    ])  # fmt: skip


def run_preprocessing_builtin(args) -> None:
    """Run the preprocessing benchmark's raw-frame arm (``builtin``) for each
    ``--method``; its records keep the method name ``builtin``, so ``--out``
    should be a file of the probe's own."""
    from .. import preprocessing

    preprocessing.main([
        "quality", "--seeds", args.seeds, "--tasks", *args.tasks.split(","),
        "--methods", "builtin", "--estimators", *args.method.split(","),
        "--threads", "1", "--json", args.out, "--resume",
    ])  # fmt: skip


def run_natural(mlp_class, suffix, args) -> None:
    """Run the natural benchmark with ``mlp_class`` as every estimator's network,
    under :func:`run_natural_as`'s names."""
    from skscor import _training

    _training.MLP = mlp_class
    run_natural_as(suffix, args)
