"""Probe: the constant of the robust scaling's smooth clipping.

A probe measures a candidate setting before it is adopted, so unlike the
benchmarks it patches skscor's internals (see ``benchmarks/probes/__init__.py``).
``preprocessing='robust'`` maps each numeric column to ``z / sqrt(1 + (z/c)^2)``
with ``z`` the median/IQR-scaled value and ``c = 3`` (RealMLP-TD's). Columns
with a long tail (10% of ``phoneme``'s rows in two of its five columns lie
beyond ``|z| = 3``) have that tail compressed toward ``+-c``. This sets ``c``
for the process (``skscor._preprocessing._CLIP``) and runs either the natural
benchmark (``--bench natural``; method ``{method}+clip{c}``) or the
preprocessing benchmark's raw-frame arm (``--bench preprocessing``; the records
keep the method name ``builtin``, so write them to a file of their own).

    python -m benchmarks.probes.clip_constant --clip 10 --bench natural \
        --tasks magic,satimage --seeds 0,1,2 --out FILE
"""

from __future__ import annotations

import sys

from skscor import _preprocessing

from . import probe_parser, run_natural_as, run_preprocessing_builtin


def main(argv=None) -> None:
    parser = probe_parser(__doc__, bench=True)
    parser.add_argument("--clip", type=float, required=True)
    args = parser.parse_args(argv)
    _preprocessing._CLIP = args.clip
    if args.bench == "natural":
        run_natural_as(f"clip{args.clip:g}", args)
    else:
        run_preprocessing_builtin(args)


if __name__ == "__main__":
    main(sys.argv[1:])
