"""Probe: the one-hot threshold of the estimators' own input conditioning.

A probe measures a candidate setting before it is adopted, so unlike the
benchmarks it patches skscor's internals (see ``benchmarks/probes/__init__.py``).
The estimators build ``TabularEncoder(max_onehot_levels=9)``: a categorical
column with more levels gets a learned embedding (8 dimensions) instead of
one-hot columns. This sets the threshold for the process and runs the natural
benchmark (``--bench natural``, method ``{method}+onehot{N}``) or the
preprocessing benchmark's raw-frame arm (``--bench preprocessing``; the records
keep the method name ``builtin``, so write them to a file of their own), the
estimators at their defaults otherwise. In the natural suite a threshold of
51 or more changes ``lending_club`` (columns of 12, 35 and 50 levels) and
``mlc_churn`` (51), nothing else.

    python -m benchmarks.probes.onehot_threshold --levels 64 \
        --tasks lending_club,mlc_churn --method scor --seeds 0,1,2 --out FILE
"""

from __future__ import annotations

import argparse
import functools
import sys

from skscor import _base
from skscor._preprocessing import TabularEncoder

from .. import natural, preprocessing


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--levels", type=int, required=True)
    parser.add_argument(
        "--bench", choices=("natural", "preprocessing"), default="natural"
    )
    parser.add_argument("--seeds", default="0", help="natural: list; else a count")
    parser.add_argument("--tasks", default="lending_club,mlc_churn")
    parser.add_argument("--method", default="scor", help="comma-separated")
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    _base.TabularEncoder = functools.partial(
        TabularEncoder, max_onehot_levels=args.levels
    )
    if args.bench == "preprocessing":
        preprocessing.main([
            "quality", "--seeds", args.seeds, "--tasks", *args.tasks.split(","),
            "--methods", "builtin", "--estimators", *args.method.split(","),
            "--threads", "1", "--json", args.out, "--resume",
        ])  # fmt: skip
        return
    from skscor._variants import VARIANTS

    names = []
    for method in args.method.split(","):
        name = f"{method}+onehot{args.levels}"
        VARIANTS[name] = VARIANTS[method]
        names.append(name)
    natural.main([
        "--tasks", args.tasks, "--methods", ",".join(names),
        "--seeds", args.seeds, "--out", args.out,
    ])  # fmt: skip


if __name__ == "__main__":
    main(sys.argv[1:])
