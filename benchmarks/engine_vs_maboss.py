"""her2sim against cMaBoSS on the same model files, measured in the same run.

For each model both simulators run the same ``.bnd``/``.cfg`` pair (written by her2sim from
the published model) with the same sample count, max time, time tick and thread count, and
both keep node and full-state probabilities per window, every state kept (her2sim's
``max_states`` is raised so that nothing overflows, as cMaBoSS keeps all states), and both
hand back the same tables: node probabilities and the state probability table (cMaBoSS's
``get_nodes_probtraj``/``get_probtraj``, her2sim's ``nodes()``/``states()``). Printed per
model: trajectories per second, flips per second and nanoseconds per flip (per thread, for
simulating with statistics), then two ratios her2sim / cMaBoSS: ``ratio sim`` for simulating
and reading the node table (the statistics, state tables included, are computed either way),
and ``ratio`` for everything including the state table handed back as a DataFrame (her2sim)
or NumPy arrays and a list of names (cMaBoSS). For her2sim also: nanoseconds per flip of a run
that keeps node statistics only, and the share of the simulation spent after the threads'
runs (merging the threads' statistics and reading them out). her2sim's compile time (first
call in the process: Numba's cache load or compilation) is shown apart and excluded from the
timed run. Then a batch of scenarios of one
network through one compiled kernel against as many cMaBoSS runs.

Usage::

    python benchmarks/engine_vs_maboss.py [--samples 100000] [--max-time 50] [--threads 2]
        [--models DIR_OR_FILES ...] [--batch 100] [--cli | --cli-only]

Models default to the published ERBB/breast-cancer models in ``../shared/models`` (20 to
104 nodes). MaBoSS ``.bnd`` files (with a ``.cfg`` beside them) may be given too, e.g. from a
MaBoSS checkout's ``engine/examples``; their own settings are replaced by the benchmark's.
"""

from __future__ import annotations

import argparse
import importlib
import math
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from her2sim.engine import Scenario, SimulationConfig, compile_model, simulate, simulate_batch
from her2sim.errors import Her2simError
from her2sim.formats import read_model
from her2sim.formats.maboss import read_maboss, write_maboss

DEFAULT_MODELS = [
    "bbm_096_ERBB-REGULATED-G1-S-TRANSITION.bnet",
    "bbm_035_BT474-BREAST-CELL-LINE-SHORT-TERM.bnet",
    "bbm_033_BT474-BREAST-CELL-LINE-LONG-TERM.bnet",
    "breast_cancer_zanudo2017_reduced__ExaStoLog.bnet",
    "jgtz_BreastCancerModelv2__BreastCancerModel_ZanudoEtAl2017.booleannet",
    "bbm_209_ABERRANT-CELL-CYCLE-PROGRESSION.bnet",
    "bbm_018_EGFR-ERBB-SIGNALING.bnet",
]


def cmaboss_module(n_nodes: int):
    """The cMaBoSS build whose node cap fits the model (the default one stops at 64)."""
    for cap, name in ((64, "cmaboss"), (128, "cmaboss_128n"), (256, "cmaboss_256n"), (512, "cmaboss_512n")):
        if n_nodes <= cap:
            return importlib.import_module(name)
    return importlib.import_module("cmaboss_1024n")


def load(path: Path):
    return read_maboss(path)[0] if path.suffix == ".bnd" else read_model(path)


def run_cmaboss(module, bnd: Path, cfg: Path) -> tuple[float, float]:
    """Seconds for (simulating and reading the node table, then reading the state table)."""
    started = time.perf_counter()
    sim = module.MaBoSSSim(network=str(bnd), config=str(cfg))
    result = sim.run()
    result.get_nodes_probtraj()
    simulated = time.perf_counter()
    result.get_probtraj()
    return simulated - started, time.perf_counter() - simulated


def bench_model(path: Path, config: SimulationConfig, work: Path, repeats: int) -> dict[str, float | str | int]:
    model = load(path)
    bnd, cfg = write_maboss(model, config)
    bnd_path, cfg_path = work / f"{path.stem}.bnd", work / f"{path.stem}.cfg"
    bnd_path.write_text(bnd)
    cfg_path.write_text(cfg)
    started = time.perf_counter()
    compiled = compile_model(model)
    simulate(compiled, config.with_(sample_count=min(200, config.sample_count))).nodes()  # loads pandas too
    compile_s = time.perf_counter() - started
    ours = []
    kernel = []
    flips = 0
    for _ in range(repeats):
        started = time.perf_counter()
        result = simulate(compiled, config)
        result.nodes()
        simulated = time.perf_counter()
        result.states()
        ours.append((simulated - started, time.perf_counter() - simulated))
        kernel.append(float(result.meta["elapsed_s"]))  # the threads' runs, final sorts included
        flips = int(result.meta["flips"])
    nodes_only = []
    for _ in range(repeats):
        started = time.perf_counter()
        simulate(compiled, config, states=False).nodes()
        nodes_only.append(time.perf_counter() - started)
    if result.state_overflow > 0:
        print(f"  warning: {result.state_overflow:.1%} of the state probability overflowed", file=sys.stderr)
    theirs = [run_cmaboss(cmaboss_module(len(model)), bnd_path, cfg_path) for _ in range(repeats)]
    sim_ours, table_ours = (statistics.median(t[i] for t in ours) for i in (0, 1))
    sim_theirs, table_theirs = (statistics.median(t[i] for t in theirs) for i in (0, 1))
    t_ours, t_theirs = sim_ours + table_ours, sim_theirs + table_theirs
    n = config.sample_count
    return {
        "model": path.stem[:38],
        "nodes": len(model),
        "flips/traj": flips / n,
        "compile_s": compile_s,
        "her2sim traj/s": n / t_ours,
        "cMaBoSS traj/s": n / t_theirs,
        "her2sim ns/flip": 1e9 * sim_ours / max(flips, 1) * config.thread_count,
        "ns/flip without states": 1e9 * statistics.median(nodes_only) / max(flips, 1) * config.thread_count,
        "post-processing share": 1 - statistics.median(kernel) / sim_ours,
        "cMaBoSS ns/flip": 1e9 * sim_theirs / max(flips, 1) * config.thread_count,
        "her2sim Mflips/s": flips / sim_ours / 1e6,
        "ratio sim": sim_theirs / sim_ours,
        "state table s": table_ours,
        "cMaBoSS state table s": table_theirs,
        "ratio": t_theirs / t_ours,
    }


def bench_cli(path: Path, config: SimulationConfig, work: Path, repeats: int) -> dict[str, float | str]:
    """Whole processes: ``her2sim simulate MODEL.bnd MODEL.cfg -o out.parquet --states`` (which
    writes the node and state tables) against a Python process that runs the same pair in
    cMaBoSS and reads its tables (her2sim's kernel is already in the disk cache)."""
    model = load(path)
    bnd, cfg = write_maboss(model, config)
    bnd_path, cfg_path = work / f"{path.stem}.bnd", work / f"{path.stem}.cfg"
    bnd_path.write_text(bnd)
    cfg_path.write_text(cfg)
    module = cmaboss_module(len(model)).__name__
    ours = [sys.executable, "-m", "her2sim.cli", "simulate", str(bnd_path), str(cfg_path),
            "--max-states", str(config.max_states), "-o", str(work / "out.parquet"), "--states"]  # fmt: skip
    theirs = [sys.executable, "-c",
              f"import {module} as m; r = m.MaBoSSSim(network={str(bnd_path)!r}, config={str(cfg_path)!r}).run(); "
              "r.get_nodes_probtraj(); r.get_probtraj()"]  # fmt: skip

    def timed(command: list[str], who: str = "cMaBoSS") -> float:
        """Seconds the process took; NaN when it failed (cMaBoSS is killed for want of memory
        on the large models at 300,000 trajectories), which is said on stderr."""
        started = time.perf_counter()
        done = subprocess.run(command, capture_output=True)
        if done.returncode != 0:
            how = f"killed by signal {-done.returncode}" if done.returncode < 0 else f"exit {done.returncode}"
            print(f"  {path.stem}: {who} failed ({how})", file=sys.stderr)
            return math.nan
        return time.perf_counter() - started

    timed(ours, "her2sim")  # warm the kernel cache
    t_ours = statistics.median(timed(ours, "her2sim") for _ in range(repeats))
    t_theirs = statistics.median(timed(theirs) for _ in range(repeats))
    return {"model": path.stem[:38], "her2sim_s": t_ours, "cMaBoSS_s": t_theirs, "ratio": t_theirs / t_ours}


def bench_batch(path: Path, config: SimulationConfig, scenarios: int, work: Path) -> dict[str, float]:
    """``scenarios`` variants of one network (each input node fixed on or off in turn, and
    rate multipliers on one node) through one kernel, against as many cMaBoSS runs."""
    model = load(path)
    names = model.names
    variants = [
        Scenario(
            name=f"s{i}",
            fixed={names[i % len(names)]: bool(i % 2)},
            rate_scale={names[(i * 7) % len(names)]: (0.5 + (i % 5) / 4, 1.0)},
        )
        for i in range(scenarios)
    ]
    compiled = compile_model(model)
    simulate_batch(compiled, variants[:1], config.with_(sample_count=100))
    started = time.perf_counter()
    for result in simulate_batch(compiled, variants, config, states=True):
        result.nodes()
        result.states()
    t_ours = time.perf_counter() - started
    module = cmaboss_module(len(model))
    started = time.perf_counter()
    for scenario in variants:
        mutated = model
        for node, value in scenario.fixed.items():
            mutated = mutated.with_fixed(node, value)
        bnd, cfg = write_maboss(mutated, config)
        (work / "batch.bnd").write_text(bnd)
        (work / "batch.cfg").write_text(cfg)
        sum(run_cmaboss(module, work / "batch.bnd", work / "batch.cfg"))
    t_theirs = time.perf_counter() - started
    return {"scenarios": scenarios, "her2sim_s": t_ours, "cMaBoSS_s": t_theirs, "ratio": t_theirs / t_ours}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=100_000)
    parser.add_argument("--max-time", type=float, default=50.0)
    parser.add_argument("--time-tick", type=float, default=1.0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--max-states", type=int, default=1 << 25,
                        help="her2sim's bound on state-table entries per thread (high: keep every state)")  # fmt: skip
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per simulator and model (median)")
    parser.add_argument("--batch", type=int, default=100, help="scenarios in the batch comparison (0: skip)")
    parser.add_argument("--batch-samples", type=int, default=2000)
    parser.add_argument("--models", nargs="*", type=Path, help="model files or folders")
    parser.add_argument("--cli", action="store_true", help="also time whole processes: her2sim simulate vs cMaBoSS")
    parser.add_argument("--cli-only", action="store_true", help="time whole processes only (implies --cli)")
    args = parser.parse_args(argv)
    shared = Path(__file__).resolve().parents[2] / "shared" / "models"
    paths: list[Path] = []
    for item in args.models or [shared / m for m in DEFAULT_MODELS]:
        paths.extend(sorted(item.glob("*.bnd")) if item.is_dir() else [item])
    config = SimulationConfig(max_time=args.max_time, time_tick=args.time_tick, sample_count=args.samples,
                              seed=1, threads=args.threads, max_states=args.max_states)  # fmt: skip
    print(f"{args.samples} trajectories, max_time {args.max_time}, time_tick {args.time_tick}, "
          f"{args.threads} threads, node and state probabilities per window in both")  # fmt: skip
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for path in [] if args.cli_only else paths:
            if not path.exists():
                print(f"skipped (missing): {path}", file=sys.stderr)
                continue
            try:
                row = bench_model(path, config, Path(tmp), args.repeats)
            except Her2simError as exc:  # e.g. a state table larger than memory: say so, go on
                print(f"skipped: {path.name}: {exc}", file=sys.stderr)
                continue
            rows.append(row)
            print("  ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()),
                  flush=True)  # fmt: skip
        if args.cli or args.cli_only:
            for path in paths:
                if path.exists():
                    row = bench_cli(path, config, Path(tmp), args.repeats)
                    print(f"end to end: {row['model']} her2sim {row['her2sim_s']:.2f} s, "
                          f"cMaBoSS {row['cMaBoSS_s']:.2f} s, ratio {row['ratio']:.1f}x", flush=True)  # fmt: skip
        for key in ("ratio sim", "ratio") if rows else ():
            ratios = [float(r[key]) for r in rows]
            print(f"{key} her2sim/cMaBoSS: median {statistics.median(ratios):.1f}x, "
                  f"min {min(ratios):.1f}x, max {max(ratios):.1f}x")  # fmt: skip
        if args.batch and paths:
            batch_cfg = config.with_(sample_count=args.batch_samples)
            row = bench_batch(paths[0], batch_cfg, args.batch, Path(tmp))
            print(
                f"batch of {row['scenarios']} scenarios x {args.batch_samples} trajectories on {paths[0].stem}: "
                f"her2sim {row['her2sim_s']:.2f} s, cMaBoSS {row['cMaBoSS_s']:.2f} s, ratio {row['ratio']:.1f}x"
            )


if __name__ == "__main__":
    main()
