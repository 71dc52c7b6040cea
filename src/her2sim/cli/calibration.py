"""``calibrate``: fit the HER2 model's uncertain factors to measurements."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from her2sim.cli._console import console
from her2sim.cli._progress import progress

if TYPE_CHECKING:
    import pandas as pd


def calibrate(
    measurements: Annotated[
        list[Path] | None,
        typer.Argument(help="Measurement or expectations tables (default: the model's own measurements)"),
    ] = None,
    output: Annotated[Path, typer.Option("--output", "-o", help="Directory of the fit (resumed when run again)")] = (
        Path("calibration")
    ),
    method: Annotated[str, typer.Option(help="bo (Bayesian optimisation, optuna) or abc (ABC-SMC, pyabc)")] = "bo",
    budget: Annotated[int, typer.Option(help="Model evaluations (parameter sets tried)")] = 1500,
    samples: Annotated[int, typer.Option("--samples", "-n", help="Trajectories per scenario in the fit")] = 300,
    population: Annotated[int, typer.Option(help="ABC-SMC population size")] = 100,
    seed: Annotated[int, typer.Option(help="Seed of the sampler and of the simulations")] = 1,
    cell_lines: Annotated[
        Path | None, typer.Option(help="Cell-line table (default: the model's own, data/measurements/cell_lines.tsv)")
    ] = None,
    cv: Annotated[
        str | None, typer.Option(help="Cross-validate: a number of folds (5) or 'source' (leave one file out)")
    ] = None,
    cv_budget: Annotated[int | None, typer.Option(help="Evaluations per cross-validation fold (default: budget)")] = (
        None
    ),
    ensemble: Annotated[int, typer.Option(help="Posterior members behind each credible interval")] = 30,
    scheduler: Annotated[str | None, typer.Option(help="Dask scheduler address (default: work locally)")] = None,
    start: Annotated[
        Path | None, typer.Option(help="An earlier fit's posterior.tsv: its best members are tried first (bo)")
    ] = None,
    polish: Annotated[int, typer.Option(help="Rounds of coordinate search from the best set after BO")] = 0,
) -> None:
    """Fit the declared uncertainty space to measurements; write the posterior, the fit table and plots."""
    from dataclasses import replace

    from her2sim.calibration.crossval import cross_validate
    from her2sim.calibration.fit import FitSettings, Problem
    from her2sim.calibration.fit import calibrate as fit
    from her2sim.calibration.measurements import (
        read_cell_lines,
        read_tables,
        shipped_cell_lines,
        shipped_tables,
        unexpressed_report,
    )
    from her2sim.calibration.plots import fit_figure, marginals_figure
    from her2sim.experiments.runner import optional_cluster
    from her2sim.experiments.sensitivity import her2_space
    from her2sim.her2.posterior import read_posterior
    from her2sim.report.figures import save_figure

    settings = FitSettings(
        method=method, budget=budget, samples=samples, seed=seed, population=population, polish=polish
    )
    lines = read_cell_lines(cell_lines) if cell_lines is not None else shipped_cell_lines()
    rows = read_tables(measurements or shipped_tables(), lines)
    for note in unexpressed_report(lines.values()):
        console.print(f"note: cell line {note}")
    problem = Problem(tuple(rows), her2_space(calibrated=False), samples=samples, seed=seed)
    console.print(f"fitting {len(problem.space.factors)} factors to {len(rows)} measurements "
                  f"({method}, {budget} evaluations, {samples} trajectories a scenario) in {output}")  # fmt: skip
    earlier = read_posterior(start) if start is not None else None
    with optional_cluster(scheduler) as client:
        with fit_progress("calibrate") as report:
            result = fit(problem, output, settings, progress=report, client=client, ensemble=ensemble, start=earlier)
        save_figure(marginals_figure(result.posterior, problem.space), output / "marginals.png")
        save_figure(fit_figure(result.table), output / "fit.png")
        _summary(result.table, "in-sample (best set)")
        bounds_note(result.at_bounds)
        console.print(f"wrote {output / 'posterior.tsv'} ({len(result.posterior)} members), {output / 'fit.tsv'}, "
                      f"{output / 'marginals.png'}, {output / 'fit.png'}")  # fmt: skip
        if cv is not None:
            fold_settings = replace(settings, budget=cv_budget or budget)
            held = cross_validate(problem, output, cv, fold_settings, client=client,
                                  progress=lambda line: console.print(line))  # fmt: skip
            from her2sim.files import write_table

            write_table(held, output / "cv.csv")
            _summary(held, f"out of sample ({cv} cross-validation)")
            console.print(f"wrote {output / 'cv.csv'}")


def bounds_note(at_bounds: Sequence[str]) -> None:
    """Say which factors the best set puts at a bound of their prior (the optimum may lie beyond)."""
    if at_bounds:
        console.print(f"note: at a bound of the prior at the best set (the optimum may lie beyond it): "
                      f"{'; '.join(at_bounds)}")  # fmt: skip


@contextmanager
def fit_progress(label: str) -> Iterator[Callable[[int, int, float], None]]:
    """A fit's progress (:func:`~her2sim.cli._progress.progress`), its best loss so far as the note."""
    with progress(label, "evaluations") as update:
        yield lambda done, total, best: update(done, total, f"best loss {best:.4g}")


def _summary(table: pd.DataFrame, label: str) -> None:
    """Right predictions per kind of measurement."""
    out = Table("measurements", "right", "of", "share", title=label)
    for kind, group in table.groupby("kind"):
        out.add_row(str(kind), str(int(group["correct"].sum())), str(len(group)), f"{group['correct'].mean():.0%}")
    out.add_row("all", str(int(table["correct"].sum())), str(len(table)), f"{table['correct'].mean():.0%}")
    console.print(out)


def register(app: typer.Typer) -> None:
    """Add ``calibrate`` to ``app``."""
    app.command()(calibrate)
