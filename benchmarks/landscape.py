"""The full resistance landscape against a cMaBoSS loop over the same cells, in one run.

her2sim runs ``her2sim landscape``'s work: every context x therapy of the shipped landscape at
``--doses`` dose multiples, each cell sampled until its proliferation readout's standard
error is below ``--target-se`` (at most 10,000 trajectories a cell), on a local Dask cluster.
Printed: cells, trajectories, wall time, trajectories per second, and the peak resident memory
of the whole process tree (client, scheduler and workers), sampled every 0.2 s.

cMaBoSS then runs a random sample of the same cells one by one, each as a MaBoSS
``.bnd``/``.cfg`` pair written by her2sim (the scenario's parameters and fixed nodes applied)
with the sample count her2sim needed for that cell, the same max time, time tick and thread
count. Its time per trajectory, times all trajectories of the grid (cells and their untreated
baselines), is the extrapolated cMaBoSS time; the ratio is printed.

Usage::

    python benchmarks/landscape.py [--doses 8] [--target-se 0.005] [--workers 2]
        [--cmaboss-cells 8] [--out DIR]
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import random
import tempfile
import threading
import time
from pathlib import Path

import pandas as pd
import psutil

from her2sim.experiments.landscape import landscape_cells, landscape_spec
from her2sim.experiments.runner import run_cells
from her2sim.formats.maboss import write_maboss
from her2sim.her2.scenario import Her2Simulator


class PeakMemory:
    """Peak total RSS of this process and its children, sampled in a background thread."""

    def __init__(self, every: float = 0.2) -> None:
        self.peak = 0
        self._every = every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        me = psutil.Process()
        while not self._stop.is_set():
            total = 0
            for proc in [me, *me.children(recursive=True)]:
                with contextlib.suppress(psutil.Error):  # a worker may exit between listing and reading
                    total += proc.memory_info().rss
            self.peak = max(self.peak, total)
            self._stop.wait(self._every)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def cmaboss_time(sample: pd.DataFrame, threads: int, work: Path) -> tuple[float, int]:
    """Seconds and trajectories cMaBoSS takes for the sampled cells, run one by one."""
    module = importlib.import_module("cmaboss")
    sim = Her2Simulator()
    seconds, trajectories = 0.0, 0
    for i, row in enumerate(sample.itertuples(index=False)):
        context, regimen = sim.context(row.context), sim.regimen(row.therapy)
        ((_, scenario),) = sim.engine_scenarios(context, regimen)
        model = sim.model.with_parameters(scenario.parameters)
        for name, value in scenario.fixed.items():
            model = model.with_fixed(name, value)
        config = sim.config.with_(sample_count=int(row.samples), threads=threads)
        bnd, cfg = write_maboss(model, config)
        (work / f"c{i}.bnd").write_text(bnd)
        (work / f"c{i}.cfg").write_text(cfg)
        started = time.perf_counter()
        result = module.MaBoSSSim(network=str(work / f"c{i}.bnd"), config=str(work / f"c{i}.cfg")).run()
        result.get_nodes_probtraj()
        seconds += time.perf_counter() - started
        trajectories += int(row.samples)
    return seconds, trajectories


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--doses", type=int, default=8)
    parser.add_argument("--target-se", type=float, default=0.005)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--cmaboss-cells", type=int, default=8)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)

    spec = landscape_spec()
    cells = landscape_cells(spec, args.doses)
    out = args.out or Path(tempfile.mkdtemp(prefix="her2sim-landscape-"))
    print(f"{len(spec.contexts)} contexts x {len(spec.therapies)} therapies x {args.doses} doses = {len(cells)} cells; "
          f"target standard error {args.target_se}, {args.workers} workers; results in {out}")  # fmt: skip
    with PeakMemory() as memory:
        started = time.perf_counter()
        table = run_cells(cells, out, workers=args.workers, target_se=args.target_se, readouts=("proliferation",))
        wall = time.perf_counter() - started
    baselines = table.groupby("context")["samples"].max().sum()  # each context's untreated run
    trajectories = int(table["samples"].sum() + baselines)
    print(f"her2sim: {wall:.1f} s wall, {trajectories:,} trajectories ({trajectories / wall:,.0f}/s), "
          f"samples per cell {int(table['samples'].min())}-{int(table['samples'].max())} "
          f"(median {int(table['samples'].median())}), peak memory {memory.peak / 2**30:.2f} GB")  # fmt: skip

    homogeneous = table[~table["context"].str.contains("heterogeneous")]
    rows = random.Random(1).sample(range(len(homogeneous)), min(args.cmaboss_cells, len(homogeneous)))
    with tempfile.TemporaryDirectory() as work:
        seconds, sampled = cmaboss_time(homogeneous.iloc[rows], args.workers, Path(work))
    per_trajectory = seconds / sampled
    extrapolated = per_trajectory * trajectories
    print(f"cMaBoSS: {len(rows)} cells, {sampled:,} trajectories in {seconds:.1f} s "
          f"({sampled / seconds:,.0f}/s, {args.workers} threads); "
          f"extrapolated to the grid: {extrapolated:.0f} s")  # fmt: skip
    print(f"ratio (cMaBoSS loop / her2sim): {extrapolated / wall:.1f}x")


if __name__ == "__main__":
    main()
