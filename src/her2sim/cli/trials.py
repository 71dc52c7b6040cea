"""``her2sim trial``: virtual clinical trials. ``list`` and ``show`` present the shipped designs,
``run`` simulates one, ``validate`` compares simulated trials with published results and
``calibrate`` fits the population-level parameters to them."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from her2sim.cli._console import console
from her2sim.cli._progress import progress

if TYPE_CHECKING:  # pandas too: importing it took a third of a second of every command's start
    import pandas as pd
    from matplotlib.figure import Figure

    from her2sim.trials.design import TrialDesign

trial_app = typer.Typer(
    name="trial",
    help="Virtual clinical trials of HER2-targeted therapy: the published designs they follow.",
    no_args_is_help=True,
)


@trial_app.command("list")
def list_designs() -> None:
    """List the shipped trial designs: setting, arms, endpoints and patients."""
    from her2sim.trials.design import designs

    table = Table("trial", "setting", "arms", "endpoints", "n", caption="* primary endpoint")
    for d in designs():
        endpoints = ", ".join(e.label + ("*" if e.primary else "") for e in d.endpoints)
        table.add_row(d.name, d.setting, ", ".join(a.label for a in d.arms), endpoints, str(d.n))
    console.print(table)


@trial_app.command()
def show(
    name: Annotated[str, typer.Argument(help="Trial name or alias (CLEOPATRA, DB-03, NCT00829166, ...)")],
    sources: Annotated[bool, typer.Option("--sources", help="Follow every fact with its source")] = False,
) -> None:
    """Show a trial design in words: eligibility, arms and schedules, assessments, endpoints."""
    from her2sim.trials.design import describe_design, design

    console.print(describe_design(design(name), sources=sources), markup=False, highlight=False)


@trial_app.command()
def run(
    name: Annotated[str, typer.Argument(help="Trial name or alias, or a design file (.yaml)")],
    patients: Annotated[int | None, typer.Option(help="Patients per arm (default: the published arm sizes)")] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Results directory (default: trial-NAME)")] = (
        None
    ),
    seed: Annotated[int, typer.Option(help="Seed of patients, PK variability and tumours")] = 0,
    samples: Annotated[int, typer.Option(help="Cell-model trajectories per scenario of the response tables")] = 200,
    points: Annotated[int, typer.Option(help="Concentration grid points per drug of the response tables")] = 6,
    chunk: Annotated[int, typer.Option(help="Patients per part (a resumable unit of work)")] = 1000,
    scheduler: Annotated[str | None, typer.Option(help="Dask scheduler address (default: a local cluster)")] = None,
    workers: Annotated[int | None, typer.Option(help="Local Dask workers (default: one per core)")] = None,
) -> None:
    """Simulate a trial: per-patient and per-arm tables, Kaplan-Meier, waterfall, swimmer, spider and forest plots."""
    from her2sim.experiments.runner import output_dir
    from her2sim.files import write_table
    from her2sim.report.figures import save_figure
    from her2sim.trials.plots import km_figure, spider_figure, swimmer_figure, waterfall_figure
    from her2sim.trials.simulate import TrialSettings, run_trial

    trial = _design(name)
    out = output_dir(output or Path(f"trial-{_slug(trial.name)}"))
    settings = TrialSettings(patients=patients, seed=seed, samples=samples, points=points, chunk=chunk)
    arms = ", ".join(f"{a.label} ({settings.arm_size(a)})" for a in trial.arms)
    console.print(f"{trial.name}: {arms}; parts in {out / 'parts'}")
    with progress("trial", "parts") as update:
        result = run_trial(trial, settings, out_dir=out / "parts", scheduler=scheduler, workers=workers,
                           progress=update, notice=lambda line: console.print(f"note: {line}"))  # fmt: skip
    write_table(result.patients, out / "patients.parquet")
    write_table(result.summary, out / "summary.csv")
    figures: dict[str, Figure] = {}
    if "pfs_months" in result.patients:
        figures.update(km=km_figure(result.patients), waterfall=waterfall_figure(result.patients),
                       swimmer=swimmer_figure(result.patients), spider=spider_figure(result.patients))  # fmt: skip
        mechanisms = result.patients[result.patients["progressed"]].groupby(["arm", "mechanism"]).size()
        write_table(mechanisms.rename("patients").reset_index(), out / "mechanisms.csv")
        figures.update(_forests(trial, result.patients))
    for key, fig in figures.items():
        save_figure(fig, out / f"{key}.png")
    _print_summary(result.summary)
    console.print(f"wrote {out / 'patients.parquet'}, {out / 'summary.csv'}"
                  + "".join(f", {out / key}.png" for key in figures))  # fmt: skip


@trial_app.command()
def validate(
    table: Annotated[
        Path | None, typer.Argument(help="Published results (trials.tsv format; default: shipped)")
    ] = None,
    patients: Annotated[int, typer.Option(help="Patients per arm")] = 1000,
    seed: Annotated[int, typer.Option(help="Seed of patients, PK variability and tumours")] = 0,
    samples: Annotated[int, typer.Option(help="Cell-model trajectories per scenario of the response tables")] = 200,
    points: Annotated[int, typer.Option(help="Concentration grid points per drug of the response tables")] = 6,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the comparison (CSV or Parquet)")] = None,
    replicates: Annotated[
        int, typer.Option(min=1, help="Seeds to run (seed, seed+1, ...): each row's share within tolerance, and range")
    ] = 1,
    heldout: Annotated[
        bool, typer.Option("--heldout", help="The shipped results the population fit never sees (instead of TABLE)")
    ] = False,
) -> None:
    """Simulate the trials of a results table and compare every row: within tolerance, ordering."""
    import pandas as pd

    from her2sim.errors import ConfigError
    from her2sim.files import write_table
    from her2sim.trials.published import resolve_trials_table, shipped_table
    from her2sim.trials.simulate import TrialSettings, run_trial
    from her2sim.trials.validate import compare, replicated

    if heldout and table is not None:
        raise ConfigError(
            f"{table}: --heldout validates the shipped held-out results; give a TABLE or --heldout, not both"
        )
    rows = resolve_trials_table(table or shipped_table(heldout))
    designs = list({r.design.name: r.design for r in rows}.values())
    console.print(f"{len(rows)} rows of {len(designs)} trials; {patients} patients per arm"
                  + (f"; seeds {seed} to {seed + replicates - 1}" if replicates > 1 else ""))  # fmt: skip
    tables = []
    for s in range(seed, seed + replicates):
        settings = TrialSettings(patients=patients, seed=s, samples=samples, points=points, scans=False)
        tables.append(compare(rows, pd.concat([run_trial(d, settings).patients for d in designs], ignore_index=True)))
    if replicates > 1:
        summary = replicated(tables)
        _print_replicated(summary, tables)
        if output is not None:
            write_table(summary, output)
            console.print(f"wrote {output}")
        return
    compared = tables[0]
    out = Table("id", "trial", "arm", "subgroup", "endpoint", "published", "simulated", "within", "ordering")
    for _, r in compared.iterrows():
        ordering = "" if pd.isna(r["ordering"]) else ("yes" if r["ordering"] else "NO")
        out.add_row(r["id"], r["trial"], r["arm"], r["subgroup"], r["endpoint"], f"{r['published']:.3g}",
                    f"{r['simulated']:.3g}", "yes" if r["within"] else "NO", ordering)  # fmt: skip
    console.print(out)
    ordered = compared["ordering"].dropna()
    console.print(f"within tolerance: {int(compared['within'].sum())}/{len(compared)}; "
                  f"orderings right: {int(ordered.sum())}/{len(ordered)}")  # fmt: skip
    if output is not None:
        write_table(compared, output)
        console.print(f"wrote {output}")


def _print_replicated(table: pd.DataFrame, tables: list[pd.DataFrame]) -> None:
    """Each row's mean and range over the seeds and how often it is met; the counts per seed."""
    import pandas as pd

    out = Table("id", "trial", "arm", "subgroup", "endpoint", "published", "simulated (range)", "within", "ordering")
    for _, r in table.iterrows():
        ordering = "" if pd.isna(r["ordering_share"]) else f"{r['ordering_share']:.0%}"
        out.add_row(r["id"], r["trial"], r["arm"], r["subgroup"], r["endpoint"], f"{r['published']:.3g}",
                    f"{r['simulated']:.3g} ({r['low']:.3g}-{r['high']:.3g})", f"{r['within_share']:.0%}",
                    ordering)  # fmt: skip
    console.print(out)
    within = [int(t["within"].sum()) for t in tables]
    ordered = [int(t["ordering"].dropna().sum()) for t in tables]
    n_ordered = len(tables[0]["ordering"].dropna())
    console.print(f"within tolerance per seed: {', '.join(map(str, within))} of {len(table)}; "
                  f"orderings right: {', '.join(map(str, ordered))} of {n_ordered}")  # fmt: skip


@trial_app.command()
def calibrate(
    table: Annotated[Path | None, typer.Argument(help="Published results to fit (default: shipped)")] = None,
    output: Annotated[Path, typer.Option("--output", "-o", help="Directory of the fit (resumed when run again)")] = (
        Path("trial-calibration")
    ),
    budget: Annotated[int, typer.Option(help="Parameter sets tried")] = 400,
    patients: Annotated[int, typer.Option(help="Patients per arm in the fit")] = 400,
    seed: Annotated[int, typer.Option(help="Seed of the sampler and of the patients")] = 1,
    samples: Annotated[int, typer.Option(help="Cell-model trajectories per scenario of the response tables")] = 200,
    points: Annotated[int, typer.Option(help="Concentration grid points per drug of the response tables")] = 6,
    ensemble: Annotated[int, typer.Option(help="Posterior members behind each interval")] = 20,
    polish: Annotated[int, typer.Option(help="Rounds of coordinate search from the best set after BO")] = 0,
    start: Annotated[
        Path | None, typer.Option(help="An earlier fit's posterior.tsv: its best members are tried first")
    ] = None,
) -> None:
    """Fit the population-level parameters (tumour kinetics, chemotherapy kill) to published trial rows.

    With ``--start``, parameters the earlier fit did not have start at their nominal values."""
    from her2sim.calibration.fit import FitSettings
    from her2sim.calibration.fit import calibrate as fit
    from her2sim.cli.calibration import bounds_note, fit_progress
    from her2sim.her2.posterior import read_posterior
    from her2sim.trials.defaults import KINDS
    from her2sim.trials.fit import TrialProblem, population_space, prepare
    from her2sim.trials.published import resolve_trials_table, shipped_table
    from her2sim.trials.simulate import TrialSettings

    rows = tuple(resolve_trials_table(table or shipped_table()))
    space = population_space(rows)
    console.print(f"fitting {len(space.factors)} population parameters ({', '.join(f.name for f in space.factors)}) "
                  f"to {len(rows)} published rows; {patients} patients per arm, {budget} evaluations")  # fmt: skip
    arms = prepare(rows, TrialSettings(patients=patients, seed=seed, samples=samples, points=points))
    problem = TrialProblem(rows, arms, space, seed=seed)
    earlier = read_posterior(start, KINDS) if start is not None else None
    with fit_progress("trial calibrate") as report:
        result = fit(problem, output, FitSettings(budget=budget, seed=seed, startup=min(60, budget), polish=polish),
                     progress=report, ensemble=ensemble, start=earlier)  # fmt: skip
    within, ordering = result.table["within"], result.table["ordering"].dropna()
    console.print(f"within tolerance at the best set: {int(within.sum())}/{len(within)}; "
                  f"orderings right: {int(ordering.sum())}/{len(ordering)}")  # fmt: skip
    bounds_note(result.at_bounds)
    console.print(f"wrote {output / 'posterior.tsv'} ({len(result.posterior)} members), {output / 'fit.tsv'}")


def _design(name: str) -> TrialDesign:
    """A shipped design by name or alias, or a design file."""
    from her2sim.trials.design import design, read_design

    return read_design(name) if name.lower().endswith((".yaml", ".yml")) else design(name)


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in text.lower()).strip("-")


def _forests(trial: TrialDesign, patients: pd.DataFrame) -> dict[str, Figure]:
    """A forest plot of each arm against the control, by the design's subgroups; none without
    a control arm (the cohorts of a non-randomised trial are not compared)."""
    from her2sim.trials.analysis import subgroup_table
    from her2sim.trials.plots import forest_figure

    control = trial.control
    if control is None:
        return {}
    groups = trial.subgroup_groups
    return {
        f"forest-{_slug(arm.label)}": forest_figure(subgroup_table(patients, arm.label, control.label, groups))
        for arm in trial.arms
        if arm.label != control.label
    }


def _print_summary(summary: pd.DataFrame) -> None:
    import pandas as pd

    out = Table("arm", "subgroup", "endpoint", "value", "95% CI", "n", "note")
    for _, r in summary.iterrows():
        ci = "" if pd.isna(r["ci_low"]) else f"{r['ci_low']:.3g} to {r['ci_high']:.3g}"
        value = "" if pd.isna(r["value"]) else f"{r['value']:.3g}"
        out.add_row(str(r["arm"]), str(r["subgroup"]), str(r["endpoint"]), value, ci, str(r["n"]), str(r["note"]))
    console.print(out)


def register(app: typer.Typer) -> None:
    """Add the ``trial`` command group to ``app``."""
    app.add_typer(trial_app, name="trial")
