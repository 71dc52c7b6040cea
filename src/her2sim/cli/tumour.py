"""``her2sim tumour``: a tumour's clones under a treatment schedule, over days to months."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from her2sim.cli._console import console
from her2sim.cli.her2 import _check_suffix, _write_table
from her2sim.errors import ConfigError


def tumour(
    spec: Annotated[
        str, typer.Argument(help="Tumour YAML file, or example:NAME (homogeneous_3plus, heterogeneous, ...)")
    ],
    therapy: Annotated[
        str | None, typer.Option("--therapy", "-t", help="Give this from day 0 (replaces the schedule)")
    ] = None,
    then: Annotated[list[str] | None, typer.Option(help="Next line at progression (repeat for more lines)")] = None,
    stop: Annotated[float | None, typer.Option(help="Day the first line stops (default: at progression)")] = None,
    days: Annotated[float, typer.Option(help="Days to simulate")] = 365.0,
    stochastic: Annotated[bool, typer.Option(help="Tau-leaping for small clones (extinction or escape)")] = False,
    seed: Annotated[int, typer.Option(help="Random seed of the stochastic method")] = 1,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write clone sizes per day (.csv or .parquet)")
    ] = None,
    plot: Annotated[Path | None, typer.Option(help="Write a PNG: burden and clone composition")] = None,
) -> None:
    """Simulate a tumour's clones under a schedule: burden, composition, response, progression."""
    from her2sim.report.figures import save_figure
    from her2sim.tumour.dynamics import simulate_tumour
    from her2sim.tumour.plots import tumour_figure
    from her2sim.tumour.spec import Line, read_tumour

    _check_suffix(output, (".csv", ".parquet"), "the clone table")
    _check_suffix(plot, (".png",), "the plot")
    model = read_tumour(spec)
    if therapy is not None:
        lines = [Line(therapy, 0.0, stop), *(Line(t, "progression") for t in then or [])]
        model = model.with_schedule(tuple(lines))
    elif then or stop is not None:
        raise ConfigError("--then and --stop go with --therapy")
    if not model.schedule:
        console.print("[yellow]no schedule: the tumour grows untreated[/yellow]")
    result = simulate_tumour(model, days, method="stochastic" if stochastic else "deterministic", seed=seed)
    console.print(f"[bold]{escape(result.tumour)}[/bold]: {len(model.clones)} clones, {model.cells:.3g} cells, "
                  f"doubling {model.doubling_time_days:g} days, {result.method}")  # fmt: skip
    line_table = Table("line", "therapy", "start", "stop", "ended by", "progression")
    for row in result.lines.itertuples(index=False):
        progression = "" if math.isnan(row.progression_day) else f"day {row.progression_day:g}"
        line_table.add_row(
            str(row.line), escape(str(row.therapy)), f"{row.start:g}", f"{row.stop:g}", row.ended_by, progression
        )
    console.print(line_table)
    checkpoints = sorted(
        {0.0, *(d for d in (30.0, 90.0, 180.0, 365.0, 730.0) if d <= days), float(result.cells.index[-1])}
    )
    clones = Table("day", "total cells", *[escape(c) for c in result.cells.columns])
    for day in checkpoints:
        row = result.cells.loc[result.cells.index[result.cells.index.get_indexer([day], method="nearest")[0]]]
        clones.add_row(f"{day:g}", f"{row.sum():.3g}", *[f"{v:.3g}" for v in row])
    console.print(clones)
    ttp = result.time_to_progression
    progression = f"time to progression {ttp:g} days" if not math.isnan(ttp) else "no progression on the first line"
    console.print(f"best response {result.best_response}; {progression}")
    if output is not None:
        _write_table(result.tidy(), output)
    if plot is not None:
        save_figure(tumour_figure(result), plot)
        console.print(f"wrote {plot}")


def register(app: typer.Typer) -> None:
    """Add ``tumour`` to ``app``."""
    app.command()(tumour)
