"""Helpers shared by the benchmark scripts (machine description, tables, clocks).

Benchmark-only code: nothing in ``skscor`` imports it.
"""

from __future__ import annotations

import os
import platform
import time
from contextlib import contextmanager

import numpy as np
import torch


def cpu_model() -> str:
    """CPU model name from /proc/cpuinfo (Linux), else platform.processor()."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def load_average() -> str:
    try:
        return " ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:
        return "n/a"


def source_version() -> str:
    """Commit of the checkout (read-only git), '+' when skscor/ has local edits."""
    import subprocess

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "skscor"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return head + ("+" if dirty else "")


def machine_info(device: str) -> dict:
    """What the reader needs to compare numbers: cores, CPU, torch, threads, load."""
    info = {
        "nproc": os.cpu_count(),
        "cpu": cpu_model(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "device": device,
        "load_average_1_5_15": load_average(),
    }
    if device.startswith("cuda") and torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(0)
    try:
        import sklearn
        import skorch

        import skscor

        info["skscor"] = f"{skscor.__version__} (commit {source_version()})"
        info["skorch"] = skorch.__version__
        info["sklearn"] = sklearn.__version__
    except ImportError:  # pragma: no cover - the benchmarks need all three
        pass
    return info


def markdown_table(header: list[str], rows: list[list]) -> str:
    def cell(v):
        if isinstance(v, float):
            if np.isnan(v):
                return "n/a"
            return f"{v:.3g}" if abs(v) < 1e4 else f"{v:,.0f}"
        return str(v)

    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---" for _ in header) + "|",
    ]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def set_threads(n: int) -> None:
    """torch intra-op threads and every BLAS/OpenMP pool (threadpoolctl) to n.

    On this kind of shared 2-core machine an unrestricted OpenBLAS pool made
    scikit-learn's LogisticRegression 50x slower (8.5 s instead of 0.17 s)."""
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(n)
    threadpool_limits(n)


def sync(device: str) -> None:
    if str(device).startswith("cuda"):
        torch.cuda.synchronize()


@contextmanager
def clocks(device: str, out: dict):
    """Measure wall time (after a CUDA sync) and process CPU time of a block."""
    sync(device)
    w0, c0 = time.perf_counter(), time.process_time()
    yield
    sync(device)
    out["wall"] = time.perf_counter() - w0
    out["cpu"] = time.process_time() - c0


def resolve_device(device: str) -> str:
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda was given but CUDA is not available.")
    return device
