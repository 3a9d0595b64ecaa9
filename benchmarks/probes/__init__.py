"""Probes: measurements of candidate features before they are built.

Unlike the benchmarks one level up, a probe may patch skscor's private modules
(for example to swap the default network), because what it measures is not in
the package yet; its records are labelled with its own method names and its
results are reported as a probe in ``benchmarks/README.md``.
"""


def run_natural(mlp_class, suffix, args) -> None:
    """Run the natural benchmark with ``mlp_class`` as every estimator's network.

    ``args``: parsed ``--tasks``, ``--seeds``, ``--method`` and ``--out``. The
    records name the method ``f"{args.method}+{suffix}"`` (the same estimator
    and parameters under the probe's own name).
    """
    from skscor import _training
    from skscor._variants import VARIANTS

    from .. import natural

    _training.MLP = mlp_class
    name = f"{args.method}+{suffix}"
    VARIANTS[name] = VARIANTS[args.method]
    natural.main([
        "--tasks", args.tasks, "--methods", name,
        "--seeds", args.seeds, "--out", args.out,
    ])  # fmt: skip
