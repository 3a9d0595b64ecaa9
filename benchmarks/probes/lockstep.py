"""Probe: the ensemble's members in lockstep against one after the other.

The estimators train their members in lockstep (``skscor._lockstep``: one
fused step for all members) where that step is exact; ``_lockstep = False`` on
an instance trains them one after the other, the way 0.3 did. Both train the
same networks up to float rounding, so this measures fit time, and checks on
real tasks that the members stop at the same epochs and the test scores agree.
For each task, method and seed the two fits run in one process, alternated
(sequential first on even seeds), 1 thread; one JSON record per pair.

    python -m benchmarks.probes.lockstep --tasks all --method scor,mr2 \
        --seeds 0 --out FILE
"""

from __future__ import annotations

import sys

from skscor._variants import VARIANTS

from . import fit_and_score, probe_parser, run_alternated


def _fit(method, X, y, Xt, yt, seed, lockstep):
    est = VARIANTS[method].build(random_state=seed, n_threads=1)
    est._lockstep = lockstep
    return fit_and_score(est, X, y, Xt, yt)


def main(argv=None):
    args = probe_parser(__doc__, tasks="all").parse_args(argv)
    run_alternated(args, _fit, ("sequential", "lockstep"))


if __name__ == "__main__":
    sys.exit(main())
