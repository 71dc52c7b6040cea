"""HER2 model commands: ``run`` a scenario and ``validate`` against an expectations table."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from her2sim.cli._console import console
from her2sim.cli._progress import progress
from her2sim.errors import ConfigError

if TYPE_CHECKING:
    import pandas as pd

    from her2sim.her2.settings import RunSettings


def _check_suffix(path: Path | None, allowed: tuple[str, ...], what: str) -> None:
    if path is not None and path.suffix.lower() not in allowed:
        raise ConfigError(f"{path}: {what} is written as {' or '.join(allowed)}, not {path.suffix or 'no suffix'!r}")


def _write_table(table: pd.DataFrame, path: Path) -> None:
    from her2sim.files import write_table

    write_table(table, path)
    console.print(f"wrote {path}")


_COLOUR = {"sensitive": "green", "partial": "yellow", "resistant": "red"}


def _class(effect: float) -> str:
    from her2sim.her2.validation import classify

    label = classify(effect)
    return f"[{_COLOUR[label]}]{label}[/{_COLOUR[label]}]"


def run(
    alteration: Annotated[
        list[str] | None,
        typer.Option("--alteration", "-a", help="Alteration (repeat): ERBB2:amp, PIK3CA:H1047R, p95HER2, ..."),
    ] = None,
    therapy: Annotated[
        list[str] | None,
        typer.Option("--therapy", "-t", help="Therapy (repeat), optionally with a dose: lapatinib@250nM"),
    ] = None,
    samples: Annotated[
        int | None, typer.Option("--samples", "-n", help="Trajectories per condition (default: 2000, her2.cfg's)")
    ] = None,
    max_time: Annotated[
        float | None,
        typer.Option(help="Simulated time in model rate units; the steady state is its second half (default: 60)"),
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed (default: 1, her2.cfg's)")] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the time course (.csv or .parquet)")
    ] = None,
    plot: Annotated[Path | None, typer.Option(help="Write a PNG of time courses, treated against untreated")] = None,
    node: Annotated[
        list[str] | None,
        typer.Option("--node", help="Readout or model node to plot (repeat; default: proliferation and apoptosis)"),
    ] = None,
    ensemble: Annotated[
        int, typer.Option(help="Also run N members of the calibrated posterior: 90% credible intervals")
    ] = 0,
) -> None:
    """Simulate the HER2 model for a tumour's alterations under a therapy, against untreated."""
    from her2sim.her2.scenario import scenario
    from her2sim.her2.settings import RunSettings

    _check_suffix(output, (".csv", ".parquet"), "the time course")
    _check_suffix(plot, (".png",), "the plot")
    if node and plot is None:
        raise ConfigError("--node chooses what --plot draws; give --plot too")
    for name in node or []:  # a typo fails before the simulation, not after
        _check_plotted(name)
    settings = RunSettings(samples=samples, max_time=max_time, seed=seed)
    result = scenario(alteration or [], therapy or [], settings=settings)
    console.print(f"[bold]context[/bold] {escape(result.context)}   [bold]therapy[/bold] {escape(result.therapy)}")
    table = Table("readout", "untreated", "treated", "effect", "class")
    for name, row in result.summary.iterrows():
        table.add_row(
            str(name),
            f"{row['untreated']:.3f}",
            f"{row['treated']:.3f}",
            f"{row['effect']:+.3f}",
            _class(row["effect"]),
        )
    console.print(table)
    index = result.growth_index
    console.print(
        f"growth index (proliferation treated / untreated): {index:.3f}"
        if not math.isnan(index)
        else "growth index: undefined (no proliferation untreated)"
    )
    on = result.still_on()
    console.print(f"still on under treatment: {', '.join(f'{n} {p:.2f}' for n, p in on.items()) or 'none'}")
    if ensemble:
        _run_ensemble(alteration or [], therapy or [], ensemble, settings)
    if output is not None:
        _write_table(result.timecourse, output)
    if plot is not None:
        from her2sim.report.figures import save_figure
        from her2sim.report.plots import PHENOTYPES, timecourse_figure

        save_figure(timecourse_figure(result, node or PHENOTYPES), plot)
        console.print(f"wrote {plot}")


def _check_plotted(name: str) -> None:
    """Refuse a ``--node`` that is neither a readout nor a node of the HER2 model."""
    from her2sim.errors import UnknownNameError
    from her2sim.her2.model import load_model
    from her2sim.her2.scenario import READOUTS

    known = [*READOUTS, *load_model().names]
    if name not in known:
        raise UnknownNameError("readout or node", name, known)


def _run_ensemble(alterations: list[str], therapies: list[str], n: int, settings: RunSettings) -> None:
    """The run's readouts over ``n`` posterior members: medians, 90% intervals, class shares."""
    from her2sim.her2.ensemble import members, scenario_ensemble

    table = scenario_ensemble("; ".join(alterations), "+".join(therapies) or None, members(n), settings=settings)
    show = Table("readout", "untreated", "treated", "effect (90% credible interval)", "sensitive / partial / resistant",
                 title=f"over {n} members of the calibrated posterior")  # fmt: skip
    for name, row in table.iterrows():
        shares = " / ".join(f"{row[f'share_{c}']:.0%}" for c in ("sensitive", "partial", "resistant"))
        interval = f"{row['effect']:+.3f} [{row['effect_low']:+.3f}, {row['effect_high']:+.3f}]"
        show.add_row(str(name), f"{row['untreated']:.3f}", f"{row['treated']:.3f}", interval, shares)
    console.print(show)


def validate(
    table: Annotated[
        Path | None,
        typer.Argument(help="Expectations table (.tsv); default: the literature table shipped with her2sim"),
    ] = None,
    samples: Annotated[
        int | None, typer.Option("--samples", "-n", help="Trajectories per scenario (default: 2000, her2.cfg's)")
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed (default: 1, her2.cfg's)")] = None,
    min_pass: Annotated[float, typer.Option(help="Exit with status 1 when fewer rows pass than this fraction")] = 0.9,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the results (.csv or .parquet)")] = None,
    robustness: Annotated[int, typer.Option(help="Also re-run the table under N parameter sets of the space")] = 0,
    spread: Annotated[float | None, typer.Option(help="Factor of uncertainty of every assumption (default: 3)")] = None,
    morris: Annotated[int, typer.Option(help="Morris trajectories naming each row's deciding parameters")] = 4,
    space: Annotated[Path | None, typer.Option(help="Uncertainty space file (default: the HER2 model's)")] = None,
    ensemble: Annotated[int, typer.Option(help="Also judge every row under N members of the calibrated posterior")] = 0,
) -> None:
    """Run every row of an expectations table through the HER2 model and judge it."""

    from her2sim.her2.model import data_path
    from her2sim.her2.scenario import Her2Simulator
    from her2sim.her2.settings import RunSettings
    from her2sim.her2.validation import read_expectations
    from her2sim.her2.validation import validate as judge

    _check_suffix(output, (".csv", ".parquet"), "the result table")
    if not 0 <= min_pass <= 1:
        raise ConfigError(f"--min-pass must be a fraction in [0, 1], got {min_pass}")
    settings = RunSettings(samples=samples, seed=seed)
    with progress("validate", "trajectories") as update:
        simulator = Her2Simulator(settings.config(), progress=update)
        rows = read_expectations(table or data_path("expectations.tsv"), simulator)
        results = judge(rows, simulator)
    show = Table("id", "context", "therapy", "readout", "expected", "effect", "compared", "observed", "")
    for r in results.itertuples(index=False):
        compared = (
            ""
            if r.compare_effect is None or math.isnan(r.compare_effect)
            else f"{r.compare_effect:.3f} ({r.compare_to})"
        )
        mark = "[green]pass[/green]" if r.passed else "[red]FAIL[/red]"
        show.add_row(
            r.id,
            escape(r.context),
            escape(r.therapy),
            r.readout,
            r.expected,
            f"{r.effect:.3f}",
            escape(compared),
            r.observed,
            mark,
        )
    console.print(show)
    passed, total = int(results["passed"].sum()), len(results)
    share = passed / total if total else 0.0
    console.print(f"[bold]passed {passed}/{total} ({share:.0%})[/bold]")
    if ensemble:
        results = _validate_ensemble(rows, results, ensemble, settings)
    if robustness > 0:
        _robustness(rows, robustness, spread, morris, space, RunSettings(samples=samples or 1000), output)
    elif output is not None:
        _write_table(results, output)
    if share < min_pass:
        raise typer.Exit(1)


def _validate_ensemble(rows: list, results: pd.DataFrame, n: int, settings: RunSettings) -> pd.DataFrame:
    """Each row over ``n`` posterior members: effect interval and the share in which it passes."""
    from her2sim.her2.ensemble import members, validate_ensemble

    table = validate_ensemble(rows, members(n), settings=settings)
    show = Table("id", "expected", "effect (90% credible interval)", "passes in", title=f"over {n} posterior members")
    for r in table.itertuples(index=False):
        share = f"{r.pass_share:.0%}" if r.pass_share >= 0.9 else f"[red]{r.pass_share:.0%}[/red]"
        show.add_row(r.id, r.expected, f"{r.effect:.3f} [{r.effect_low:.3f}, {r.effect_high:.3f}]", share)
    console.print(show)
    robust = int((table["pass_share"] >= 0.9).sum())
    console.print(f"[bold]robust over the ensemble (pass in >= 90% of members): {robust}/{len(table)}[/bold]")
    merged = results.merge(table[["id", "effect_low", "effect_high", "pass_share"]], on="id")
    return merged.rename(columns={"effect_low": "ensemble_effect_low", "effect_high": "ensemble_effect_high"})


def _robustness(rows: list, sets: int, spread: float | None, trajectories: int, space: Path | None,
                settings: RunSettings, output: Path | None) -> None:  # fmt: skip
    """The robust validation: each row under ``sets`` parameter sets, with its deciding parameters."""
    from her2sim.experiments.sensitivity import her2_space, read_space, robust_validation

    declared = read_space(space, spread) if space else her2_space(spread)
    with progress("robustness", "parameter sets") as update:
        table = robust_validation(rows, declared, sets=sets, trajectories=trajectories, settings=settings,
                                  progress=update)  # fmt: skip
    show = Table("id", "expected", "nominal", "passes", "robust", "deciding parameters (Morris mu*)")
    for r in table.itertuples(index=False):
        show.add_row(r.id, r.expected, "pass" if r.nominal_passed else "FAIL", f"{r.pass_fraction:.0%}",
                     "yes" if r.robust else "[red]no[/red]", escape(r.deciding))  # fmt: skip
    console.print(show)
    nominal = table[table["nominal_passed"]]
    robust = int(nominal["robust"].sum())
    share = robust / max(len(nominal), 1)
    console.print(f"[bold]robust {robust}/{len(nominal)} of the rows that pass at the nominal parameters ({share:.0%})"
                  f"[/bold]; {sets} parameter sets, {len(declared.factors)} factors")  # fmt: skip
    if output is not None:
        _write_table(table, output)


def register(app: typer.Typer) -> None:
    """Add ``run`` and ``validate`` to ``app``."""
    app.command()(run)
    app.command()(validate)
