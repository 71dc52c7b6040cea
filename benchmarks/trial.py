"""Virtual-trial speed and memory: a metastatic two-arm trial of many patients.

Runs ``her2sim trial run`` as a user would (a fresh process, a fresh output directory), twice:
first with an empty response-table cache (the cell model simulates every context's table),
then with the cache the first run left (what every later trial of the same contexts and drugs
costs). Reports wall time and the peak memory of the command and of its Dask workers. The
issue's target is 10,000 patients x 2 arms in under 5 minutes on 2 cores with under 2 GB; this
script measures it rather than asserting it.

Usage::

    python benchmarks/trial.py [--trial CLEOPATRA] [--patients 10000] [--workers 2] [--chunk 1000]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _run(args: argparse.Namespace, out: Path, cache: Path) -> float:
    command = [sys.executable, "-m", "her2sim.cli", "trial", "run", args.trial, "--patients", str(args.patients),
               "--workers", str(args.workers), "--chunk", str(args.chunk), "-o", str(out)]  # fmt: skip
    started = time.perf_counter()
    run = subprocess.run(command, capture_output=True, text=True, check=False,
                         env={**os.environ, "HER2SIM_CACHE": str(cache)})  # fmt: skip
    elapsed = time.perf_counter() - started
    if run.returncode != 0:
        sys.exit(f"trial run failed:\n{run.stderr[-2000:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trial", default="CLEOPATRA")
    parser.add_argument("--patients", type=int, default=10_000, help="patients per arm")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--chunk", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        cache = Path(scratch) / "responses"
        cold = _run(args, Path(scratch) / "cold", cache)
        tables = len(list(cache.glob("*.npz")))
        warm = _run(args, Path(scratch) / "warm", cache)
    peak_gb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024**2
    print(f"{args.trial}: {args.patients} patients per arm, {args.workers} workers, parts of {args.chunk}")
    print(f"  cold cache: {cold:7.1f} s ({tables} response tables simulated)")
    print(f"  warm cache: {warm:7.1f} s")
    print(f"  peak memory of one process (command or worker): {peak_gb:.2f} GB")
    print(
        f"  target: under 300 s and 2 GB -> warm {'met' if warm < 300 else 'NOT met'}, "
        f"cold {'met' if cold < 300 else 'NOT met'}, memory {'met' if peak_gb < 2 else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
