"""Probe: class weights between none and balanced, the prior divided out after.

A probe measures a candidate feature before it is built, so unlike the
benchmarks it patches skscor's internals (see ``benchmarks/probes/__init__.py``).
``class_weight='balanced'`` weighs a class of ``n_k`` rows by ``1 / n_k``:
on a noisy binary task at ratio 18, each minority row counts 18 times a
majority row, which is what lets a long run memorise them; unweighted
training with offsets chosen on the held-out rows lost to it (stop 28). Here
each estimator's requested weights are raised to the power ``--power`` (0.5:
a minority row counts ``sqrt(18) = 4.2`` times) before the one class-weight
resolver scales them, and ``logit_adjustment='post-hoc'`` divides the prior the
network trained under back out (``tau = 1``), so that the default output, the
members' epoch selection and the decision offsets all see balanced logits, as
at the defaults. The question it asks: does a milder weighting generalise
better on the noisy natural tasks without costing the others? Then the
natural benchmark runs the method with it.

    python -m benchmarks.probes.tempered_weights --power 0.5 --seeds 0,1,2 --out FILE
"""

from __future__ import annotations

import sys

from skscor import _training

from . import probe_parser, run_natural_as


def _install(power: float) -> None:
    base = _training.resolve_balance

    def tempered(mass, weight, **kwargs):
        if weight is not None:
            weight = weight**power
        final = kwargs.get("final_weight")
        if final is not None:
            kwargs["final_weight"] = final**power
        return base(mass, weight, **kwargs)

    _training.resolve_balance = tempered


def main(argv=None) -> None:
    parser = probe_parser(__doc__, cut=True)
    parser.add_argument("--power", type=float, default=0.5)
    args = parser.parse_args(argv)
    _install(args.power)
    run_natural_as(
        f"weights^{args.power:g}", args, logit_adjustment="post-hoc", tau=1.0
    )


if __name__ == "__main__":
    main(sys.argv[1:])
