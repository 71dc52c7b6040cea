"""Calibration speed and memory: the HER2 model's space against its own measurements.

Runs ``her2sim calibrate`` as a user would (a fresh process, a fresh directory) and reports
the wall time, the evaluations per second, the best loss and the process's peak memory. The
issue's target is about 30 factors against about 60 measurements in under 30 minutes on 2
cores with under 2 GB; this script measures it rather than asserting it.

Usage::

    python benchmarks/calibration.py [--budget 1500] [--samples 200] [--method bo]
        [--measurements TABLE ...]

Without tables, the model's own measurements are used (its literature table and
``her2/data/measurements``).
"""

from __future__ import annotations

import argparse
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=int, default=1500)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--method", default="bo")
    parser.add_argument("--measurements", nargs="*", default=[])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "fit"
        command = [sys.executable, "-m", "her2sim.cli", "calibrate", *args.measurements, "-o", str(out),
                   "--budget", str(args.budget), "--samples", str(args.samples), "--method", args.method]  # fmt: skip
        started = time.perf_counter()
        run = subprocess.run(command, capture_output=True, text=True, check=False)
        elapsed = time.perf_counter() - started
        if run.returncode != 0:
            sys.exit(
                f"calibrate failed: {run.stderr.strip().splitlines()[-1] if run.stderr.strip() else run.returncode}"
            )
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # KiB on Linux
        header = next(line for line in run.stdout.splitlines() if line.startswith("fitting"))
        # progress lines: "... best loss 1.42, 12 s elapsed ..." and at the end "... best loss 1.32 in 3 min"
        losses = [float(m.group(1)) for m in re.finditer(r"best loss ([0-9.eE+-]+)", run.stderr)]
        print(header)
        print(f"wall time {elapsed:.0f} s ({elapsed / 60:.1f} min), {args.budget / elapsed:.2f} evaluations/s, "
              f"best loss {losses[-1] if losses else float('nan'):.4g}, peak memory {peak:.0f} MiB")  # fmt: skip


if __name__ == "__main__":
    main()
