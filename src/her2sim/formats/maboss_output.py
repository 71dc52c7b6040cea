"""MaBoSS's output files, written from a :class:`~her2sim.engine.maboss_run.MabossRun`.

``MaBoSS -o PREFIX`` writes tab-separated files, which this module reproduces byte for byte
in layout and number format (MaBoSS 2.6.6):

- ``PREFIX_probtraj.csv``: a header ``Time TH ErrorTH H HD=0 .. HD=R`` followed by one
  ``State Proba ErrorProba`` group per state of the fullest window; then a row per window,
  listing only the states visited in it (rows have different lengths). Times, TH, ErrorTH,
  H and HD are written with 4 decimals, probabilities and errors with 6.
- ``PREFIX_fp.csv``: ``Fixed Points (N)``, then ``FP Proba State`` and every node's name,
  and a row ``#i``, fraction of trajectories, state name and the state's 0/1 per node.
- ``PREFIX_statdist.csv``: empty unless ``statdist_traj_count`` > 0; else each trajectory's
  stationary distribution, each cluster's trajectories, and each cluster's mean
  distribution with errors (10 significant digits).
- ``PREFIX_run.txt``: run times, settings, the network and its parameters. MaBoSS's
  ``Generated Number Count`` has no her2sim equivalent: the number of flips is given instead.
- ``PREFIX_statdist_cluster.csv``, ``PREFIX_statdist_distrib.csv``,
  ``PREFIX_observed_graph.csv`` and ``PREFIX_observed_durations.csv``: empty, as MaBoSS
  leaves them in CSV mode (the observed graph is filled only for ``in_graph`` nodes, which
  her2sim does not track).

With ``hexfloat`` the statistics are written as C's ``%a`` does (``0x1.8p-2``), as MaBoSS's
``--hexfloat``; times keep their decimals, as in MaBoSS.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import TYPE_CHECKING

from her2sim.files import atomic_write
from her2sim.formats.maboss import write_bnd

if TYPE_CHECKING:
    import pandas as pd

    from her2sim.engine.maboss_run import MabossRun

__all__ = [
    "MABOSS_VERSION",
    "finalprob_csv",
    "fixed_points_csv",
    "hexfloat",
    "probtraj_csv",
    "run_txt",
    "statdist_csv",
    "write_maboss_outputs",
]

#: The MaBoSS release whose command line and output formats her2sim follows.
MABOSS_VERSION = "2.6.6"
#: Files MaBoSS writes empty in CSV mode (or, for the observed graph, without in_graph nodes).
_EMPTY_SUFFIXES = ("_statdist_cluster.csv", "_statdist_distrib.csv", "_observed_graph.csv", "_observed_durations.csv")


def hexfloat(x: float) -> str:
    """``x`` as C's ``printf("%a")`` writes it (MaBoSS's ``--hexfloat``).

    Examples
    --------
    >>> hexfloat(0.375), hexfloat(1.0), hexfloat(0.0)
    ('0x1.8p-2', '0x1p+0', '0x0p+0')
    """
    if not math.isfinite(x):
        return "nan" if math.isnan(x) else ("-inf" if x < 0 else "inf")
    text = float(x).hex()
    mantissa, exponent = text.split("p")
    return mantissa.rstrip("0").rstrip(".") + "p" + exponent


def _fixed(x: float, digits: int, hexa: bool) -> str:
    return hexfloat(x) if hexa else f"{x:.{digits}f}"


def _general(x: float, digits: int, hexa: bool) -> str:
    """C++'s default stream format with ``digits`` significant digits (``%g``)."""
    return hexfloat(x) if hexa else f"{x:.{digits}g}"


def probtraj_csv(run: MabossRun, hexa: bool = False) -> str:
    """The ``_probtraj.csv`` table."""
    head = ["Time", "TH", "ErrorTH", "H", *(f"HD={k}" for k in range(run.hamming.shape[1]))]
    head += ["State", "Proba", "ErrorProba"] * run.max_states_per_window
    lines = ["\t".join(head)]
    names = run.state_names
    for w, t in enumerate(run.times):
        cells = [f"{t:.4f}", *(_fixed(v, 4, hexa) for v in (run.th[w], run.th_error[w], run.entropy[w]))]
        cells += [_fixed(v, 4, hexa) for v in run.hamming[w]]
        rows = run.window_rows(w)
        for s, p, e in zip(run.state[rows], run.probability[rows], run.error[rows], strict=True):
            cells += [names[s], _fixed(p, 6, hexa), _fixed(e, 6, hexa)]
        lines.append("\t".join(cells))
    return "\n".join(lines) + "\n"


def fixed_points_csv(run: MabossRun, hexa: bool = False) -> str:
    """The ``_fp.csv`` table."""
    table = run.fixed_points
    lines = [f"Fixed Points ({len(table)})"]
    if len(table):
        lines.append("\t".join(["FP", "Proba", "State", *run.model.names]))
        bits = table[list(run.model.names)].to_numpy()
        for i, (state, p) in enumerate(zip(table["state"], table["probability"], strict=True)):
            lines.append("\t".join([f"#{i + 1}", _general(p, 6, hexa), state, *map(str, bits[i])]))
    return "\n".join(lines) + "\n"


def statdist_csv(run: MabossRun, hexa: bool = False) -> str:
    """The ``_statdist.csv`` tables: per trajectory, per cluster, and each cluster's mean."""
    if not run.trajectories:
        return ""

    def row(label: str, dist: dict[str, float]) -> str:
        return "\t".join([label, *(f"{s}\t{_general(p, 10, hexa)}" for s, p in dist.items())])

    widest = max(len(d) for d in run.trajectories)
    lines = ["\t".join(["Trajectory", *["State\tProba"] * widest])]
    lines += [row(f"#{i + 1}", d) for i, d in enumerate(run.trajectories)]
    for c, cluster in enumerate(run.clusters):
        lines.append(f"\nTrajectory[cluster=#{c + 1},size={len(cluster.members)}]" + "\tState\tProba" * 4 + " ...")
        lines += [row(f"#{m + 1}", run.trajectories[m]) for m in cluster.members]
    lines.append("\nCluster" + "\tState\tProba\tErrorProba" * 4 + "...")
    for c, cluster in enumerate(run.clusters):
        cells = [f"{s}\t{_general(p, 10, hexa)}\t{_general(e, 10, hexa)}" for s, (p, e) in cluster.distribution.items()]
        lines.append("\t".join([f"#{c + 1}", *cells]))
    return "\n".join(lines) + "\n"


def finalprob_csv(final: pd.DataFrame, hexa: bool = False) -> str:
    """MaBoSS ``--final``'s ``_finalprob.csv``: a ``probability<TAB>state`` line per final state."""
    return "".join(f"{_general(p, 6, hexa)}\t{s}\n" for s, p in zip(final["state"], final["probability"], strict=True))


def _separator(label: str) -> str:
    return "-" * 47 + label + "-" * 47 + "\n"


def run_txt(run: MabossRun) -> str:
    """The ``_run.txt`` report: versions, run times, settings, network and parameters."""
    from her2sim import __version__

    info, config, model = run.info, run.config, run.model
    using = f"using {info.threads} thread{'s' if info.threads > 1 else ''}"
    extra = dict(config.extra)
    outputs = "".join(f"{n.name} " for n in model.nodes if not n.internal)
    parameters = "".join(f"${name} = {value:g};\n" for name, value in sorted(model.parameters))
    return (
        "\n"
        + _separator("--- Run ---")
        + f"her2sim version: {__version__} [MaBoSS {MABOSS_VERSION} command line and output files; no node limit]\n"
        + f"\nRun start time: {info.started.ctime()}\n"
        + f"Run end time: {info.ended.ctime()}\n"
        + f"\nCore user runtime: {info.core_cpu_s:g} secs {using}\n"
        + f"Core elapsed runtime: {info.core_elapsed_s:g} secs {using}\n\n"
        + f"Epilogue elapsed runtime: {info.epilogue_s:g} secs using 1 thread\n\n"
        + f"StatDist elapsed runtime: {info.statdist_s:g} secs using 1 thread\n\n"
        + f"Time Tick: {config.time_tick:g}\n"
        + f"Max Time: {config.max_time:g}\n"
        + f"Sample Count: {config.sample_count}\n"
        + f"StatDist Trajectory Count: {int(extra.get('statdist_traj_count', 0))}\n"
        + f"StatDist Cluster Threshold: {extra.get('statdist_cluster_threshold', 1.0):g}\n"
        + f"Discrete Time: {'TRUE' if config.discrete_time else 'FALSE'}\n"
        + "Random Generator: her2sim (one stream per trajectory)\n"
        + f"Seed Pseudo Random: {config.seed}\n"
        + f"Output nodes: {outputs}\n"
        + f"Transition Count: {info.flips}\n\n"
        + _separator("-----------")
        + "\n"
        + _separator("- Network -")
        + write_bnd(model)
        + _separator("-----------")
        + "\n"
        + _separator(" Variables ")
        + parameters
        + _separator("-----------")
    )


def write_maboss_outputs(run: MabossRun, prefix: str | os.PathLike[str], hexa: bool = False) -> list[Path]:
    """Write every file ``MaBoSS -o PREFIX`` writes in CSV mode; returns their paths."""
    prefix = os.fspath(prefix)
    files = {
        "_probtraj.csv": probtraj_csv(run, hexa),
        "_fp.csv": fixed_points_csv(run, hexa),
        "_statdist.csv": statdist_csv(run, hexa),
        **dict.fromkeys(_EMPTY_SUFFIXES, ""),
        "_run.txt": run_txt(run),
    }
    paths = []
    for suffix, text in files.items():
        path = Path(prefix + suffix)
        atomic_write(path, text)
        paths.append(path)
    return paths
