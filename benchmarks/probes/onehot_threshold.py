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

import functools
import sys

from skscor import _base
from skscor._preprocessing import TabularEncoder

from . import probe_parser, run_natural_as, run_preprocessing_builtin


def main(argv=None) -> None:
    parser = probe_parser(__doc__, tasks="lending_club,mlc_churn", bench=True)
    parser.add_argument("--levels", type=int, required=True)
    args = parser.parse_args(argv)
    _base.TabularEncoder = functools.partial(
        TabularEncoder, max_onehot_levels=args.levels
    )
    if args.bench == "natural":
        run_natural_as(f"onehot{args.levels}", args)
    else:
        run_preprocessing_builtin(args)


if __name__ == "__main__":
    main(sys.argv[1:])
