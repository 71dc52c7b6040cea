"""``her2sim report`` and ``her2sim serve``: what a person sees."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from her2sim.cli._console import console
from her2sim.cli._progress import progress
from her2sim.errors import ConfigError


def report(
    output: Annotated[Path, typer.Option("--output", "-o", help="The HTML file to write")] = Path("report.html"),
    alteration: Annotated[list[str] | None, typer.Option("--alteration", "-a", help="Alteration (repeat)")] = None,
    therapy: Annotated[str, typer.Option("--therapy", "-t", help="Regimen, e.g. trastuzumab+pertuzumab")] = (
        "trastuzumab+pertuzumab"
    ),
    samples: Annotated[int, typer.Option("--samples", "-n", help="Trajectories per scenario")] = 1000,
    tumour: Annotated[str, typer.Option(help="Tumour YAML or example:NAME for the tumour section")] = (
        "example:pik3ca_subclone"
    ),
    table: Annotated[Path | None, typer.Option(help="Expectations table (default: the shipped one)")] = None,
    ensemble: Annotated[int, typer.Option(help="Credible intervals over N members of the calibrated posterior")] = 0,
    trial: Annotated[str, typer.Option(help="Trial design of the virtual-trial section ('none' to leave it out)")] = (
        "CLEOPATRA"
    ),
    trial_patients: Annotated[int, typer.Option(help="Patients per arm of the virtual trial")] = 200,
) -> None:
    """Write one self-contained HTML report: network, phenotypes, doses, landscape, synergy, tumour, trial,
    validation."""
    from her2sim.report.build import build_report

    if output.suffix.lower() not in (".html", ".htm"):
        raise ConfigError(f"{output}: the report is an HTML file; name it *.html")
    context = "; ".join(alteration or ["ERBB2:amp", "PIK3CA:H1047R"])
    with progress("report", "sections", eta=False) as update:  # sections differ too much in cost for an estimate
        build_report(output, context, therapy, samples=samples, tumour=tumour, validation_table=table,
                     progress=update, ensemble=ensemble, trial=None if trial.lower() == "none" else trial,
                     trial_patients=trial_patients)  # fmt: skip
    console.print(f"wrote {output}")


def serve(
    host: Annotated[str, typer.Option(help="Address to bind (default: this machine only)")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port")] = 8050,
    cache: Annotated[Path | None, typer.Option(help="Directory for cached results and jobs")] = None,
    max_jobs: Annotated[
        int, typer.Option(help="Simulations at a time, from the page and from the API each (a run beyond: busy)")
    ] = 2,
    max_waiting: Annotated[int, typer.Option(help="API requests queued for a slot beyond --max-jobs (more: 503)")] = 8,
) -> None:
    """Start the web explorer (Dash) on http://HOST:PORT."""
    from her2sim.web.app import create_app

    if not 0 < port < 65536:
        raise ConfigError(f"port must be 1-65535, got {port}")
    if host not in ("127.0.0.1", "localhost", "::1"):
        Console(stderr=True).print(f"[yellow]serving on {host}: reachable from other machines[/yellow]")
    app = create_app(cache, max_jobs=max_jobs, max_waiting=max_waiting)
    console.print(f"her2sim explorer on http://{host}:{port}/  (Ctrl-C to stop)")
    app.run(host=host, port=port, debug=False)


def register(app: typer.Typer) -> None:
    """Add ``report`` and ``serve`` to ``app``."""
    app.command()(report)
    app.command()(serve)
