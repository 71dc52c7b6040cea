"""Sobol indices of one readout of one scenario over the HER2 model's declared space.

Sobol (Saltelli) design over the first ``--factors`` factors of ``her2/data/uncertainty.yaml``
with ``--base`` base samples and second-order terms (N (2D + 2) scenarios); every point is run
with enough trajectories for the readout's standard error to stay below ``--target-se`` (set
from a pilot at the nominal point, checked at every point). Printed: scenarios, trajectories,
wall time, the largest standard error seen, the top indices and the peak resident memory.

Usage::

    python benchmarks/sensitivity.py [--factors 20] [--base 512] [--target-se 0.01]
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np
import psutil
from SALib.analyze import sobol as analyze
from SALib.sample import sobol as sample

from her2sim.experiments.sensitivity import Space, her2_space
from her2sim.her2.model import load_config
from her2sim.her2.scenario import Her2Simulator


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--factors", type=int, default=20)
    parser.add_argument("--base", type=int, default=512)
    parser.add_argument("--target-se", type=float, default=0.01)
    parser.add_argument("--context", default="ERBB2:amp; PIK3CA:H1047R")
    parser.add_argument("--therapy", default="trastuzumab+pertuzumab+alpelisib")
    parser.add_argument("--readout", default="proliferation")
    args = parser.parse_args(argv)

    space = Space(her2_space().factors[: args.factors])
    problem = space.problem()
    rows = sample.sample(problem, args.base, calc_second_order=True, seed=1)
    pilot = Her2Simulator(load_config(samples=1000))
    pair = (pilot.context(args.context), pilot.regimen(args.therapy))
    se = pilot.readout_errors([pair])[0][args.readout]
    samples = max(200, math.ceil(1.3 * 1000 * (se / args.target_se) ** 2))  # 30% margin over the pilot's need
    config = load_config(samples=samples)
    print(f"{len(rows):,} scenarios ({args.base} base samples, {len(space.factors)} factors, second order); "
          f"{samples} trajectories each (pilot standard error {se:.4f} at 1,000)")  # fmt: skip
    process = psutil.Process()
    peak = process.memory_info().rss
    started = time.perf_counter()
    y, worst = np.empty(len(rows)), 0.0
    for i, row in enumerate(rows):
        sim = Her2Simulator(config, space.perturbation(space.natural(row)))
        y[i] = sim.readouts([pair])[0][args.readout]
        worst = max(worst, sim.readout_errors([pair])[0][args.readout])
        if i % 500 == 0:
            peak = max(peak, process.memory_info().rss)
    wall = time.perf_counter() - started
    peak = max(peak, process.memory_info().rss)
    result = analyze.analyze(problem, y, calc_second_order=True, seed=1)
    order = np.argsort(result["ST"])[::-1][:5]
    print(f"wall {wall:.0f} s ({len(rows) * samples / wall:,.0f} trajectories/s), largest standard error "
          f"{worst:.4f}, peak memory {peak / 2**30:.2f} GB")  # fmt: skip
    for j in order:
        print(f"  {problem['names'][j]:32s} S1 {result['S1'][j]:+.3f} +- {result['S1_conf'][j]:.3f}   "
              f"ST {result['ST'][j]:.3f} +- {result['ST_conf'][j]:.3f}")  # fmt: skip


if __name__ == "__main__":
    main()
