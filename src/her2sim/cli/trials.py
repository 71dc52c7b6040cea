"""``her2sim trial``: virtual clinical trials. ``list`` and ``show`` present the shipped designs;
the commands that run and validate trials join this group."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from her2sim.cli import app, console

trial_app = typer.Typer(
    name="trial",
    help="Virtual clinical trials of HER2-targeted therapy: the published designs they follow.",
    no_args_is_help=True,
)
app.add_typer(trial_app, name="trial")


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
