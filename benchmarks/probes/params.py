"""Probe: the natural benchmark with some estimator parameters changed.

A probe measures a candidate before it is built, so unlike the benchmarks it
may patch skscor's internals (see ``benchmarks/probes/__init__.py``). This one
runs each ``--method`` with ``--set name=value`` overrides (values are Python
literals; several ``--set`` may be given), under the name
``f"{method}+{suffix}"`` so that its records never pass for the defaults'.
The activations ``selu`` and ``mish`` (RealMLP-TD's choices) are made
available to the default MLP in this process, as candidates.

    python -m benchmarks.probes.params --set activation='"selu"' --suffix selu \\
        --seeds 0,1,2 --out FILE

``--bench defaults_study`` runs the 26 small quality tasks instead (``--seeds``
then counts seeds; ``--tasks`` does not apply).
"""

from __future__ import annotations

import ast
import sys

from torch import nn

from skscor import modules
from skscor._variants import VARIANTS

from . import probe_parser, register_as, run_natural_as

_EXTRA_ACTIVATIONS = {"selu": nn.SELU, "mish": nn.Mish}


def _allow_extra_activations() -> None:
    modules._ACTIVATIONS.update(_EXTRA_ACTIVATIONS)
    # every class's own constraints dict (subclasses may hold copies)
    for cls in {c for v in VARIANTS.values() for c in v.estimator.__mro__}:
        constraints = cls.__dict__.get("_parameter_constraints")
        if isinstance(constraints, dict) and "activation" in constraints:
            option = constraints["activation"][0]
            constraints["activation"] = [
                type(option)(set(option.options) | set(_EXTRA_ACTIVATIONS))
            ]


def parse_overrides(items) -> dict:
    """``["name=value", ...]`` to a dict, each value a Python literal."""
    out = {}
    for item in items:
        name, _, value = item.partition("=")
        if not name or not value:
            raise SystemExit(f"--set takes name=value, got {item!r}")
        out[name] = ast.literal_eval(value)
    return out


def main(argv=None) -> None:
    parser = probe_parser(__doc__, cut=True)
    parser.add_argument("--set", action="append", default=[], dest="overrides")
    parser.add_argument("--suffix", required=True)
    parser.add_argument(
        "--bench",
        choices=("natural", "defaults_study"),
        default="natural",
        help="defaults_study: the 26 small quality tasks (--seeds is a count)",
    )
    args = parser.parse_args(argv)
    overrides = parse_overrides(args.overrides)
    _allow_extra_activations()
    if args.cut_minority is not None and args.bench != "natural":
        parser.error("--cut-minority applies to --bench natural only")
    if args.bench == "natural":
        run_natural_as(args.suffix, args, **overrides)
        return
    from .. import defaults_study

    names = register_as(args.suffix, args.method, **overrides)
    defaults_study.main([
        "--seeds", args.seeds, "--methods", ",".join(names), "--jsonl", args.out,
    ])  # fmt: skip


if __name__ == "__main__":
    main(sys.argv[1:])
