"""Simulation results as tidy pandas tables, with the provenance needed to reproduce them.

Probabilities follow MaBoSS's definitions: for window ``w`` (``[w*tick, (w+1)*tick)``) the
probability of a node or a state is the time trajectories spent in it within the window,
divided by ``tick * sample_count``. States leave out internal nodes and are named as MaBoSS
names them: active nodes joined by `` -- ``, or ``<nil>`` when none is active.

State statistics (:class:`StateStatistics`) are kept on request (``simulate(states=True)``)
and bounded (``max_states``). Probability that found no room is never dropped from a table:
it is the row ``<not kept>`` (:data:`NOT_KEPT`), so every state table sums to one and says,
in the table itself, how much of it is not broken down into states.

A result records the content hash of its model (``meta["model_hash"]``) and the scenario it
ran (:attr:`SimulationResult.scenario`); :meth:`SimulationResult.save` writes the whole
result and :meth:`SimulationResult.load` reads it back (see :mod:`her2sim.engine.result_files`).
"""

from __future__ import annotations

import datetime as _dt
import math
import numbers
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from her2sim.engine.provenance import model_hash
from her2sim.engine.scenario import Scenario
from her2sim.errors import ConfigError
from her2sim.model.config import SimulationConfig
from her2sim.model.network import Model

if TYPE_CHECKING:
    from collections.abc import Sequence

    import pandas as pd
    import pyarrow as pa
    from matplotlib.figure import Figure

__all__ = ["NOT_KEPT", "SimulationResult", "StateStatistics", "check_fraction", "state_names"]

#: The state-table row holding probability that found no room in the bounded tables; no
#: node name can hold ``<``, so no state is named this way.
NOT_KEPT = "<not kept>"


def check_fraction(value: object, what: str, example: float) -> float:
    """``value`` as a float when it is a number in [0, 1], else a
    :class:`~her2sim.errors.ConfigError` naming ``what`` and suggesting ``example``.

    >>> check_fraction(0.05, "min_probability", 0.01)
    0.05
    """
    number = isinstance(value, numbers.Real) and not isinstance(value, bool)
    fraction = float(value) if number else math.nan  # type: ignore[arg-type]
    if not 0 <= fraction <= 1:
        raise ConfigError(f"{what} must be a number in [0, 1], got {value!r}: pass {example:g}, say")
    return fraction


def state_names(keys: np.ndarray, names: tuple[str, ...], include: np.ndarray | None = None) -> list[str]:
    """MaBoSS names of packed states: active nodes joined by ' -- ', '<nil>' for none
    (only the nodes flagged in ``include``, all by default)."""
    return _name_array(keys, names, include).to_pylist()


def _name_array(keys: np.ndarray, names: tuple[str, ...], include: np.ndarray | None = None) -> pa.LargeStringArray:
    """:func:`state_names` as an Arrow string array (no Python string per state)."""
    from her2sim.engine._names import state_name_array

    return state_name_array(keys, names, np.ones(len(names), dtype=bool) if include is None else include)


def _categorical(codes: np.ndarray, categories: pd.Index) -> pd.Categorical:
    """A categorical over ``categories`` that are distinct by construction.

    pandas' public constructors check that categories are distinct by hashing every one
    (``from_codes`` with ``validate=False`` too, in pandas 2.3): 1.4 s of the 1.6 s it takes
    for the 2.9 million states of 50,000 HER2 trajectories, 12 s for the 7 million of an
    87-node run, longer than simulating them. State names are distinct because the packed
    states they name are, so the categorical is assembled as pandas assembles its own
    (codes and a dtype made without the check), through its public constructor only when
    that internal path is missing.
    """
    import pandas as pd

    dtype = pd.CategoricalDtype._from_fastpath(categories, ordered=False)
    try:
        from pandas._libs.arrays import NDArrayBacked
        from pandas.core.dtypes.cast import coerce_indexer_dtype
    except ImportError:  # pragma: no cover - a pandas without the internals it uses itself
        return pd.Categorical.from_codes(codes, dtype=dtype, validate=False)
    out = pd.Categorical.__new__(pd.Categorical)
    NDArrayBacked.__init__(out, coerce_indexer_dtype(codes, categories), dtype)
    return out


def _bits(keys: np.ndarray, n: int) -> np.ndarray:
    """(states, n) 0/1 matrix of packed states."""
    out = np.zeros((len(keys), n), dtype=np.uint8)
    for k in range(n):
        out[:, k] = (keys[:, k // 64] >> np.uint64(k % 64)) & np.uint64(1)
    return out


@dataclass(frozen=True)
class StateStatistics:
    """The full-state statistics of a run, kept when it was simulated with ``states=True``.

    States are packed as the kernel packs them (node ``k`` is bit ``k % 64`` of word
    ``k // 64``), the bits of internal nodes zero (left out, as MaBoSS leaves them). The
    rows of the state table are one per (state, window) visited, ordered by window and,
    within a window, by state (``keys`` order); :meth:`SimulationResult.states` puts the
    likeliest first when asked.

    Attributes
    ----------
    keys
        (states, words) uint64: the distinct states visited.
    index
        (rows,) int64: each row's state, a row of ``keys``.
    window
        (rows,) int64: each row's time window.
    probability
        (rows,) float64: each row's share of its window's trajectory time.
    final_keys
        (final states, words) uint64: the distinct states trajectories are in at ``max_time``.
    final_probability
        (final states,) float64: the fraction of trajectories in each final state.
    """

    keys: np.ndarray
    index: np.ndarray
    window: np.ndarray
    probability: np.ndarray
    final_keys: np.ndarray
    final_probability: np.ndarray


#: The kernel's sums of full states: (distinct states, row state, row window, row time) and
#: (distinct final states, trajectories in each), as :mod:`her2sim.engine._merge` returns them.
StateSums = tuple[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class SimulationResult:
    """Node and state probabilities per time window, final states and fixed points.

    Use the methods, which return DataFrames: :meth:`nodes`, :meth:`states`,
    :meth:`final_states`, :meth:`fixed_points`, :meth:`entropy`, :meth:`late_nodes`.
    ``state_statistics`` is None when the run did not keep states, and the state methods
    then raise :class:`~her2sim.errors.ConfigError`. ``scenario`` is the scenario the run
    received; ``meta`` records the model (name, size, ``model_hash``), settings, seed,
    her2sim version and timing.
    """

    node_names: tuple[str, ...]
    internal: np.ndarray
    times: np.ndarray
    node_prob: np.ndarray
    overflow_prob: np.ndarray
    fixed_keys: np.ndarray
    fixed_prob: np.ndarray
    #: per node: sum over trajectories of the late-time fraction on, and of its square
    late_sums: np.ndarray
    state_statistics: StateStatistics | None
    scenario: Scenario = field(default_factory=Scenario)
    meta: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_sums(
        cls,
        model: Model,
        config: SimulationConfig,
        *,
        node_time: np.ndarray,
        states: StateSums | None,
        overflow: np.ndarray,
        fixed_points: tuple[np.ndarray, np.ndarray],
        late: tuple[float, np.ndarray],
        scenario: Scenario | None,
        elapsed: float,
        threads: int,
        flips: int = 0,
        compile_s: float = 0.0,
        refused: tuple[int, int] = (0, 0),
    ) -> SimulationResult:
        """Normalise the kernel's time sums into probabilities.

        ``states`` are the full-state sums (None when states were not kept; their times
        become the probabilities, in place); ``late`` is
        the start of the late-time interval and the per-node sums over it; ``scenario`` is
        the one the run received (None: an empty one). ``refused`` counts the final states
        and the fixed points that found no room in their bounded tables; their fractions of
        the trajectories go into ``meta``.
        """
        from her2sim import __version__

        norm = config.time_tick * config.sample_count
        times = np.arange(config.n_windows) * config.time_tick
        meta = {
            "model": model.name,
            "model_hash": model_hash(model),
            "nodes": len(model),
            "max_time": config.max_time,
            "time_tick": config.time_tick,
            "sample_count": config.sample_count,
            "seed": config.seed,
            "discrete_time": config.discrete_time,
            "threads": threads,
            "max_states": config.max_states,
            "elapsed_s": elapsed,
            "flips": flips,
            "compile_s": compile_s,
            "late_from": late[0],
            "final_overflow": refused[0] / config.sample_count,
            "fixed_point_overflow": refused[1] / config.sample_count,
            "her2sim": __version__,
            "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        }
        statistics = None
        if states is not None:
            (keys, index, window, time), (final_keys, final_counts) = states
            time /= norm  # in place: a table of 28 M entries took 0.5 s to copy into fresh pages
            statistics = StateStatistics(keys, index, window, time, final_keys, final_counts / config.sample_count)
        return cls(
            node_names=model.names,
            internal=np.array([n.internal for n in model.nodes], dtype=bool),
            times=times,
            node_prob=(node_time / norm).T.copy(),
            overflow_prob=overflow / norm,
            fixed_keys=fixed_points[0],
            fixed_prob=fixed_points[1] / config.sample_count,
            late_sums=late[1],
            state_statistics=statistics,
            scenario=Scenario() if scenario is None else scenario,
            meta=meta,
        )

    @property
    def sample_count(self) -> int:
        return int(self.meta["sample_count"])

    # ------------------------------------------------------------------ tables
    def nodes(self, include_internal: bool = False) -> pd.DataFrame:
        """Probability that each node is on, per window (index: window start time)."""
        import pandas as pd

        keep = np.ones(len(self.node_names), dtype=bool) if include_internal else ~self.internal
        cols = [n for n, k in zip(self.node_names, keep, strict=True) if k]
        frame = pd.DataFrame(self.node_prob[:, keep], index=pd.Index(self.times, name="time"), columns=cols)
        frame.columns.name = "node"
        return frame

    def node_errors(self, include_internal: bool = False) -> pd.DataFrame:
        """Upper bound of each node probability's standard error, ``sqrt(p(1-p)/N)``.

        A window's occupancy is a fraction in [0, 1], whose variance is at most ``p(1-p)``.
        """
        p = self.nodes(include_internal)
        return np.sqrt((p * (1 - p)).clip(lower=0) / self.sample_count)

    def require_states(self) -> StateStatistics:
        """The state statistics, or a :class:`~her2sim.errors.ConfigError` saying how to keep
        them when the run did not."""
        if self.state_statistics is None:
            raise ConfigError(
                "this result kept no state statistics: simulate with states=True (--states on the command line)"
            )
        return self.state_statistics

    def states(self, wide: bool = False, min_probability: float = 0.0, likeliest_first: bool = False) -> pd.DataFrame:
        """Probability of each full state (internal nodes left out) per window.

        Long (tidy) by default: columns ``time``, ``state`` (categorical), ``probability``,
        one row per state visited in a window, by window and, within a window, in the
        states' order (or the likeliest first with ``likeliest_first``: a sort a large
        table pays for only when asked). ``wide=True`` gives one column per state, as
        MaBoSS's probtraj table (zeros where a state was not visited). Rows of
        ``min_probability`` or less are left out.

        Raises
        ------
        ConfigError
            When states were not kept, or ``min_probability`` is not a number in [0, 1].
        """
        import pandas as pd

        kept = self.require_states()
        keep = kept.probability > check_fraction(min_probability, "min_probability", 0.01)
        if keep.all():  # the state indices are already 0 .. states-1, each used
            used, state = np.arange(len(kept.keys)), kept.index
        else:
            unique = np.unique(kept.index[keep], return_inverse=True)
            used, state = unique[0], unique[1]
        # Arrow-backed strings: the names stay in the Arrow array they were written into
        # (converting 2.9 million names to Python strings took 0.4 s)
        names = pd.Index(pd.arrays.ArrowStringArray(_name_array(kept.keys[used], self.node_names, ~self.internal)))
        window, probability, state = kept.window[keep], kept.probability[keep], state.ravel()
        if likeliest_first and not wide:
            from her2sim.engine._stays import likeliest_first as likeliest_order

            order = likeliest_order(window, probability, len(self.times))
            window, probability, state = window[order], probability[order], state[order]
        window, probability, state = self._with_not_kept(window, probability, state, len(names))
        if (self.overflow_prob > 0).any():
            names = names.append(type(names)([NOT_KEPT], dtype=names.dtype))
        if wide:
            frame = pd.DataFrame({"time": self.times[window], "state": names[state], "probability": probability})
            frame = frame.pivot_table(
                index="time", columns="state", values="probability", aggfunc="sum", fill_value=0.0
            )
            return frame.reindex(self.times, fill_value=0.0).rename_axis("time")
        # rows come by window (see merge_state_windows); the state column is a categorical:
        # each state's name is stored once, however many windows it is in. The columns are
        # new arrays, taken as they are (copy=False: pandas would otherwise copy the two
        # float columns into one block, a third of the time of a large table)
        return pd.DataFrame(
            {"time": self.times[window], "state": _categorical(state, names), "probability": probability}, copy=False
        )

    def _with_not_kept(
        self, window: np.ndarray, probability: np.ndarray, state: np.ndarray, code: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The state rows with a :data:`NOT_KEPT` row, state ``code``, last in each window
        that lost probability."""
        lost = np.flatnonzero(self.overflow_prob > 0)
        if not len(lost):
            return window, probability, state
        at = np.searchsorted(window, lost, side="right")  # rows come ordered by window
        return (
            np.insert(window, at, lost),
            np.insert(probability, at, self.overflow_prob[lost]),
            np.insert(state, at, code),
        )

    def final_states(self) -> pd.DataFrame:
        """Distribution of the states trajectories are in at ``max_time`` (with a
        :data:`NOT_KEPT` row for final states that found no room)."""
        import pandas as pd

        kept = self.require_states()
        names = state_names(kept.final_keys, self.node_names, ~self.internal)
        probability = kept.final_probability
        lost = self.meta.get("final_overflow", 0.0)
        if lost > 0:
            names, probability = [*names, NOT_KEPT], np.append(probability, lost)
        frame = pd.DataFrame({"state": names, "probability": probability})
        frame = frame.groupby("state", as_index=False)["probability"].sum()
        return frame.sort_values("probability", ascending=False).reset_index(drop=True)

    def fixed_points(self) -> pd.DataFrame:
        """Fixed points reached (all nodes), with the fraction of trajectories ending there."""
        import pandas as pd

        names = state_names(self.fixed_keys, self.node_names)
        bits = _bits(self.fixed_keys, len(self.node_names))
        frame = pd.DataFrame(bits, columns=list(self.node_names))
        frame.insert(0, "state", names)
        frame.insert(1, "probability", self.fixed_prob)
        return frame.sort_values("probability", ascending=False).reset_index(drop=True)

    def entropy(self) -> pd.Series:
        """State entropy ``H = -sum p log2 p`` per window (MaBoSS's ``H``)."""
        import pandas as pd

        kept = self.require_states()
        p = kept.probability
        terms = np.where(p > 0, -p * np.log2(np.where(p > 0, p, 1.0)), 0.0)
        h = np.bincount(kept.window, weights=terms, minlength=len(self.times))
        return pd.Series(h, index=pd.Index(self.times, name="time"), name="H")

    def not_kept(self) -> pd.Series:
        """Share of each window's probability that found no room in the bounded state
        tables (the :data:`NOT_KEPT` rows of :meth:`states`; zero when every state was kept)."""
        import pandas as pd

        return pd.Series(self.overflow_prob, index=pd.Index(self.times, name="time"), name=NOT_KEPT)

    @property
    def state_overflow(self) -> float:
        """Largest probability that fell outside the bounded state tables: in any window,
        among the final states or among the fixed points (0 when everything was kept)."""
        window = float(self.overflow_prob.max()) if self.overflow_prob.size else 0.0
        return max(window, self.meta.get("final_overflow", 0.0), self.meta.get("fixed_point_overflow", 0.0))

    def late_nodes(self, include_internal: bool = False) -> pd.DataFrame:
        """Each node's mean probability over [late_from, max_time) with its standard error.

        The error comes from the spread of the per-trajectory averages, so it is the real
        uncertainty of a steady-state read-out (time averaging makes it far smaller than the
        ``sqrt(p(1-p)/N)`` bound of :meth:`node_errors`).
        """
        import pandas as pd

        mean, se = self.late_arrays()
        frame = pd.DataFrame({"mean": mean, "se": se}, index=pd.Index(self.node_names, name="node"))
        return frame if include_internal else frame[~self.internal]

    def late_arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`late_nodes` of every node as two arrays (mean, standard error) in model
        order, for callers that read thousands of results and need no table."""
        n = self.sample_count
        mean = self.late_sums[:, 0] / n
        var = np.clip(self.late_sums[:, 1] / n - mean**2, 0.0, None) * (n / max(n - 1, 1))
        return mean, np.sqrt(var / n)

    def last_nodes(self) -> pd.Series:
        """Node probabilities in the last window (a steady-state read-out)."""
        return self.nodes().iloc[-1]

    # ---------------------------------------------------------------- display
    # The figures and the HTML live in her2sim.report, imported only when called.
    def plot_trajectory(self, nodes: Sequence[str] | None = None, title: str = "") -> Figure:
        """Node probabilities over time (pyMaBoSS's ``plot_trajectory``), all nodes or ``nodes``;
        see :func:`her2sim.report.simulation.trajectory_figure`."""
        from her2sim.report.simulation import trajectory_figure

        return trajectory_figure(self.nodes(), nodes, title)

    def plot_piechart(self, min_share: float = 0.02, max_slices: int = 7) -> Figure:
        """Final states as a pie (pyMaBoSS's ``plot_piechart``), small ones grouped as "others";
        see :func:`her2sim.report.simulation.final_state_figure`."""
        from her2sim.report.simulation import final_state_figure

        return final_state_figure(self.final_states(), min_share, max_slices)

    def plot_fixpoint(self, min_share: float = 0.02, max_slices: int = 7) -> Figure:
        """Fixed points reached as a pie (pyMaBoSS's ``plot_fixpoint``);
        see :func:`her2sim.report.simulation.fixed_point_figure`."""
        from her2sim.report.simulation import fixed_point_figure

        return fixed_point_figure(self.fixed_points(), min_share, max_slices)

    def _repr_html_(self) -> str:
        """Jupyter's view: settings, last-window node probabilities, likeliest final states."""
        from her2sim.report.notebook import result_html

        return result_html(self)

    # ------------------------------------------------------------------ saving
    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the whole result into the directory ``path``, for :meth:`load` to read back.

        The directory holds a few Parquet tables (the arrays the tables are made from) and
        ``manifest.json`` (the format version, ``meta`` and the scenario), written last; see
        :mod:`her2sim.engine.result_files` for the layout. ``path`` must be new, empty or a
        result saved before (which it replaces).

        Examples
        --------
        >>> import tempfile
        >>> from her2sim.formats.bnet import parse_bnet
        >>> from her2sim.engine.simulate import simulate
        >>> result = simulate(parse_bnet("A, !A"), SimulationConfig(max_time=2, time_tick=1, sample_count=50, seed=1))
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     result.save(folder + "/run")
        ...     back = SimulationResult.load(folder + "/run")
        >>> back.states().equals(result.states()), back.meta == result.meta
        (True, True)
        """
        from her2sim.engine.result_files import save_result

        save_result(self, path)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> SimulationResult:
        """The result :meth:`save` wrote into the directory ``path``.

        Raises
        ------
        ModelFormatError
            When ``path`` holds no complete saved result, or one written by a newer her2sim.
        """
        from her2sim.engine.result_files import load_result

        return load_result(path)

    def save_nodes(self, path: str | os.PathLike[str]) -> None:
        """Write the node probabilities as Parquet or CSV, by suffix, with ``meta`` in the
        Parquet schema (or in ``STEM.meta.json`` beside a CSV).

        The state table, which can be gigabytes, is written only by :meth:`save_states`.
        """
        from her2sim.engine.output import write_nodes

        write_nodes(self, path)

    def save_states(self, path: str | os.PathLike[str]) -> None:
        """Write the state probabilities (:meth:`states`) as Parquet or CSV, by suffix.

        Parquet is several times smaller and faster to write. The size is estimated first:
        a table that would not fit on its disk or in memory is refused before anything is
        written, and a large one is announced (see :func:`her2sim.engine.output.write_states`).
        """
        from her2sim.engine.output import write_states

        write_states(self, path)
