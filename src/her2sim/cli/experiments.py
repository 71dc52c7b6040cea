"""Experiment commands: dose-response, screen, landscape, predict and cohort.

Screens, the landscape and cohorts run on Dask (a local cluster unless ``--scheduler`` names
one) and stream their cells to Parquet parts in an output directory; running the command
again with the same directory resumes where it stopped. Stopped by SIGTERM, they say on
stderr how many parts were kept, and exit with 143 (128 + SIGTERM).
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypedDict

import typer
from rich.markup import escape
from rich.table import Table

from her2sim.cli._console import console
from her2sim.cli._progress import progress
from her2sim.cli.her2 import _check_suffix, _write_table
from her2sim.errors import ConfigError

if TYPE_CHECKING:
    import pandas as pd

    from her2sim.experiments.profiles import Profile
    from her2sim.her2.settings import RunSettings

Scheduler = Annotated[str | None, typer.Option(help="Dask scheduler (tcp://host:port); default: local")]
Workers = Annotated[int | None, typer.Option(help="Local worker processes (default: one per core)")]
Samples = Annotated[
    int | None, typer.Option("--samples", "-n", help="Trajectories per cell (default: 2000, her2.cfg's sample_count)")
]
TargetSE = Annotated[
    float | None,
    typer.Option(
        help="Sample each cell until its readouts' standard error (probability, 0-1) is below this, e.g. "
        "0.005: a pilot of --samples (default 1000) trajectories, then at most 10,000"
    ),
]
Seed = Annotated[int | None, typer.Option(help="Random seed (default: 1, her2.cfg's seed)")]


def _show(frame: pd.DataFrame, columns: list[str], limit: int = 60) -> None:
    table = Table(*columns)
    for row in frame[columns].head(limit).itertuples(index=False):
        table.add_row(*[f"{v:.3f}" if isinstance(v, float) else escape(str(v)) for v in row])
    console.print(table)
    if len(frame) > limit:
        console.print(f"... {len(frame) - limit} more rows")


def _warn(line: str) -> None:
    """Print a runner's notice (a part computed again, and why) as one warning line."""
    console.print(f"[yellow]warning:[/yellow] {escape(line)}")


class _Hooks(TypedDict):
    """What a resumable command hands :func:`~her2sim.experiments.runner.run_cells`."""

    progress: Callable[[int, int], None]
    notice: Callable[[str], None]


class _Stopped(BaseException):
    """SIGTERM arrived during a run (a BaseException, as KeyboardInterrupt: no handler swallows it)."""


@contextmanager
def _stopped_by_sigterm() -> Iterator[None]:
    """Turn SIGTERM into :class:`_Stopped` in the main thread, so the run unwinds: the Dask
    cluster is closed and no temporary part is left. A second SIGTERM ends the process at once."""

    def stop(signum: int, frame: object) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        raise _Stopped

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextmanager
def _resumable(label: str, out_dir: Path, parts: Path, unit: str = "cells") -> Iterator[_Hooks]:
    """Around a run of Parquet parts in ``parts``: ``out_dir`` proved writable first, then
    progress counted in ``unit`` (:func:`~her2sim.cli._progress.progress`).

    The command's own results (tables, figures) go to ``out_dir`` after the simulation, so a
    directory that cannot take them must fail before it, not after. SIGTERM ends the command
    with one stderr line saying how many parts were kept and how to resume, and exit code 143.
    """
    from her2sim.experiments.runner import output_dir

    output_dir(out_dir)
    done, total = 0, None
    with _stopped_by_sigterm():
        try:
            with progress(label, unit) as update:

                def report(now: int, of: int) -> None:  # remembered for the stop message
                    nonlocal done, total
                    done, total = now, of
                    update(now, of)

                yield {"progress": report, "notice": _warn}
        except _Stopped:
            kept = f"{done} of {total} {unit} kept" if total is not None else "nothing computed yet"
            print(f"her2sim: stopped: {kept} in {parts}; run the same command again to resume", file=sys.stderr)
            raise typer.Exit(128 + signal.SIGTERM) from None


def dose_response_command(
    therapy: Annotated[str, typer.Option("--therapy", "-t", help="The drug whose dose varies")],
    alteration: Annotated[list[str] | None, typer.Option("--alteration", "-a", help="Alteration (repeat)")] = None,
    background: Annotated[
        str,
        typer.Option(
            help="Other drugs given throughout (standard dose unless given), e.g. trastuzumab or trastuzumab@5ug/mL"
        ),
    ] = "",
    dose: Annotated[
        list[str] | None,
        typer.Option(
            "--dose",
            help="Dose with unit (repeat): 100nM, 1uM, 10ug/mL or 2x the standard dose; results "
            "are shown in the first one's unit (default: 8 doses from 1/1000 to 10x the standard dose)",
        ),
    ] = None,
    readout: Annotated[str, typer.Option(help="proliferation, apoptosis, survival, pAKT or pERK")] = "proliferation",
    samples: Samples = None,
    target_se: TargetSE = None,
    seed: Seed = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the curve (.csv or .parquet)")] = None,
    plot: Annotated[Path | None, typer.Option(help="Write a PNG of the curve and its fit")] = None,
) -> None:
    """A dose-response curve of one therapy in one context, with its Hill fit (IC50, Emax, slope)."""
    from her2sim.experiments.doseresponse import dose_response
    from her2sim.her2.scenario import readout_name
    from her2sim.her2.settings import RunSettings
    from her2sim.her2.therapies import therapy_library

    _check_suffix(output, (".csv", ".parquet"), "the curve")
    _check_suffix(plot, (".png",), "the plot")
    drug = therapy_library().get(therapy)
    doses = [drug.dose(d) for d in dose] if dose else None
    curve = dose_response("; ".join(alteration or []), drug.name, doses_nM=doses, background=background,
                          readout=readout_name(readout), unit=drug.unit(dose[0]) if dose else None,
                          settings=RunSettings(samples=samples, seed=seed, target_se=target_se))  # fmt: skip
    console.print(f"[bold]{escape(curve.therapy)}[/bold] in {escape(curve.context)}"
                  + (f" with {escape(curve.background)} throughout" if curve.background else "")
                  + f", readout {curve.readout}")  # fmt: skip
    table = curve.table()
    shown = f"dose ({curve.unit.name})"
    table.insert(0, shown, [curve.unit.number(d) for d in table["dose_nM"]])
    _show(table.rename(columns={"effect_se": "se"}), [shown, "treated", "untreated", "effect", "se", "fitted",
                                                      "samples"])  # fmt: skip
    fit = curve.fit
    if fit.converged:
        console.print(f"Hill fit: IC50 {curve.ic50_text(interval=True)}, "
                      f"Emax {fit.emax:.3f} ({fit.emax_ci[0]:.3f}-{fit.emax_ci[1]:.3f}), "
                      f"slope {fit.slope:.2f} ({fit.slope_ci[0]:.2f}-{fit.slope_ci[1]:.2f})")  # fmt: skip
    else:
        console.print("Hill fit: not possible (the effect does not change with dose)")
    if output is not None:
        _write_table(curve.table(), output)
    if plot is not None:
        from her2sim.report.figures import save_figure
        from her2sim.report.plots import dose_response_figure

        save_figure(dose_response_figure(curve), plot)
        console.print(f"wrote {plot}")


def screen(
    out_dir: Annotated[Path, typer.Argument(help="Directory for the results (Parquet parts; resumable)")],
    therapy: Annotated[list[str], typer.Option("--therapy", "-t", help="Therapy (repeat; every pair is screened)")],
    context: Annotated[
        list[str] | None, typer.Option("--context", "-c", help="Alterations, ';'-separated (repeat)")
    ] = None,
    triple: Annotated[list[str] | None, typer.Option(help="Also screen this triple, 'a+b+c' (repeat)")] = None,
    doses: Annotated[int, typer.Option(help="Doses per drug besides zero")] = 4,
    samples: Samples = None,
    target_se: TargetSE = None,
    seed: Seed = None,
    scheduler: Scheduler = None,
    workers: Workers = None,
) -> None:
    """Screen every pair of therapies over a dose matrix in each context, scored for synergy."""
    from her2sim.experiments.combinations import combination_cells, score_matrix
    from her2sim.experiments.runner import run_cells
    from her2sim.her2.settings import RunSettings

    contexts = context or ["ERBB2:amp"]
    triples = [t.split("+") for t in triple or []]
    cells = combination_cells(contexts, therapy, doses, triples)
    settings = RunSettings(samples=samples, seed=seed, target_se=target_se)
    with _resumable("screening", out_dir, out_dir) as hooks:
        matrix = run_cells(cells, out_dir, settings=settings, readouts=("proliferation",), scheduler=scheduler,
                           workers=workers, **hooks)  # fmt: skip
    scores = score_matrix(matrix)
    _show(scores, ["context", "combination", "bliss", "hsa", "loewe", "zip", "best_effect", "best_doses"])
    _write_table(scores, out_dir / "synergy.csv")
    console.print(f"{len(cells)} cells in {out_dir}")


def landscape(
    out_dir: Annotated[Path, typer.Argument(help="Directory for the results (Parquet parts, table, heatmap)")],
    spec: Annotated[Path | None, typer.Option(help="Landscape file (default: the shipped one)")] = None,
    doses: Annotated[int, typer.Option(help="Dose multiples per therapy, 1/30x to 3x, always with 1x")] = 1,
    samples: Samples = None,
    target_se: TargetSE = None,
    seed: Seed = None,
    scheduler: Scheduler = None,
    workers: Workers = None,
) -> None:
    """Every resistance mechanism against every therapy: which fails, and what restores response."""
    from her2sim.experiments.landscape import landscape_cells, landscape_spec, rescues
    from her2sim.experiments.runner import run_cells
    from her2sim.her2.settings import RunSettings
    from her2sim.report.figures import save_figure
    from her2sim.report.plots import landscape_figure

    layout = landscape_spec(spec)
    cells = landscape_cells(layout, doses)
    settings = RunSettings(samples=samples, seed=seed, target_se=target_se)
    with _resumable("landscape", out_dir, out_dir / "cells") as hooks:
        table = run_cells(cells, out_dir / "cells", settings=settings, readouts=("proliferation",),
                          scheduler=scheduler, workers=workers, **hooks)  # fmt: skip
    summary = rescues(table)
    _show(summary, ["mechanism", "best_single", "best_single_effect", "best_combination", "best_combination_effect"])
    _write_table(table, out_dir / "landscape.parquet")
    _write_table(summary, out_dir / "rescues.csv")
    save_figure(landscape_figure(table), out_dir / "landscape.png")
    console.print(f"wrote {out_dir / 'landscape.png'}")


def _profiles(mutations: Path | None, cna: Path | None, extra: list[str] | None) -> dict[str, Profile]:
    from her2sim.experiments.profiles import read_profiles, with_alterations

    return with_alterations(read_profiles(mutations, cna), extra or [])


def _report_unmapped(profile: Profile) -> None:
    for line in profile.unmapped:
        console.print(f"[yellow]not used[/yellow] {escape(line)}")


def predict(
    mutations: Annotated[Path | None, typer.Option(help="cBioPortal mutation table (Hugo_Symbol, HGVSp_Short)")] = None,
    cna: Annotated[Path | None, typer.Option(help="cBioPortal copy-number table (data_CNA.txt or long)")] = None,
    sample: Annotated[str | None, typer.Option(help="Sample to rank (default: every sample in the tables)")] = None,
    alteration: Annotated[
        list[str] | None, typer.Option("--alteration", "-a", help="Add an alteration, e.g. ERBB2:amp from IHC")
    ] = None,
    therapy: Annotated[
        list[str] | None, typer.Option("--therapy", "-t", help="Candidate (repeat; default: the landscape's)")
    ] = None,
    samples: Samples = None,
    seed: Seed = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the ranking (.csv or .parquet)")] = None,
    ensemble: Annotated[
        int, typer.Option(help="Rank over N members of the calibrated posterior, with 90% credible intervals")
    ] = 0,
) -> None:
    """Rank therapies for a tumour profile exported from cBioPortal, with the pathway each leaves on."""
    import pandas as pd

    from her2sim.experiments.predict import rank_therapies
    from her2sim.experiments.profiles import samples_of
    from her2sim.her2.settings import RunSettings

    _check_suffix(output, (".csv", ".parquet"), "the ranking")
    settings = RunSettings(samples=samples, seed=seed)
    profiles = _profiles(mutations, cna, alteration)
    tables = []
    for profile in samples_of(profiles, [sample] if sample else None):
        console.print(f"[bold]{escape(profile.sample)}[/bold]: {escape(profile.context or 'no modelled alteration')}")
        _report_unmapped(profile)
        if ensemble:
            ranking = _rank_ensemble(profile.context, therapy, ensemble, settings)
            _show(ranking, ["rank", "therapy", "effect", "effect_low", "effect_high", "share_sensitive",
                            "share_resistant"], limit=15)  # fmt: skip
        else:
            ranking = rank_therapies(profile.context, therapy, settings=settings)
            _show(ranking, ["rank", "therapy", "proliferation_effect", "apoptosis_effect", "class", "still_on"],
                  limit=15)  # fmt: skip
        ranking.insert(0, "sample", profile.sample)
        tables.append(ranking)
    if output is not None:
        _write_table(pd.concat(tables, ignore_index=True), output)


def _rank_ensemble(context: str, therapy: list[str] | None, n: int, settings: RunSettings) -> pd.DataFrame:
    """Candidate regimens ranked over ``n`` posterior members (median effect, 90% interval)."""
    from her2sim.experiments.landscape import landscape_spec
    from her2sim.her2.ensemble import members, rank_ensemble

    candidates = list(therapy or landscape_spec().therapies)
    return rank_ensemble(context, candidates, members(n), settings=settings)


def cohort_command(
    out_dir: Annotated[Path, typer.Argument(help="Directory for the results (Parquet parts; resumable)")],
    mutations: Annotated[Path | None, typer.Option(help="cBioPortal mutation table")] = None,
    cna: Annotated[Path | None, typer.Option(help="cBioPortal copy-number table")] = None,
    alteration: Annotated[list[str] | None, typer.Option("--alteration", "-a", help="Add to every sample")] = None,
    therapy: Annotated[list[str] | None, typer.Option("--therapy", "-t", help="Candidate (repeat)")] = None,
    samples: Samples = None,
    seed: Seed = None,
    scheduler: Scheduler = None,
    workers: Workers = None,
) -> None:
    """Rank therapies for every sample of cBioPortal tables, on Dask."""
    from her2sim.experiments.predict import cohort
    from her2sim.her2.settings import RunSettings

    settings = RunSettings(samples=samples, seed=seed)
    profiles = _profiles(mutations, cna, alteration)
    unmapped = sum(len(p.unmapped) for p in profiles.values())
    with _resumable("cohort", out_dir, out_dir / "cells") as hooks:
        table = cohort(list(profiles.values()), out_dir / "cells", therapy, settings=settings,
                       scheduler=scheduler, workers=workers, **hooks)  # fmt: skip
    best = table[table["rank"] == 1]
    _show(best, ["sample", "context", "therapy", "effect", "class"])
    _write_table(table, out_dir / "cohort.parquet")
    report = out_dir / "unmapped.txt"
    report.write_text("".join(f"{line}\n" for p in profiles.values() for line in p.unmapped))
    console.print(f"{len(profiles)} samples; {unmapped} input rows not used (listed in {report})")


def sensitivity(
    alteration: Annotated[list[str] | None, typer.Option("--alteration", "-a", help="Alteration (repeat)")] = None,
    therapy: Annotated[str, typer.Option("--therapy", "-t", help="Regimen, e.g. trastuzumab+alpelisib")] = "",
    readout: Annotated[str, typer.Option(help="proliferation, apoptosis, survival, pAKT or pERK")] = "proliferation",
    value: Annotated[bool, typer.Option("--value", help="Analyse the treated readout, not the effect")] = False,
    method: Annotated[str, typer.Option(help="morris (screening) or sobol (indices with intervals)")] = "morris",
    trajectories: Annotated[int, typer.Option(help="Morris trajectories")] = 10,
    base: Annotated[int, typer.Option(help="Sobol base samples (a power of 2)")] = 64,
    spread: Annotated[
        float | None, typer.Option(help="Factor of uncertainty of every assumption (default: the space file's, 3)")
    ] = None,
    space: Annotated[Path | None, typer.Option(help="Uncertainty space file (default: the HER2 model's)")] = None,
    samples: Annotated[
        int | None, typer.Option("--samples", "-n", help="Trajectories per model run (default: 1000)")
    ] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the indices (.csv or .parquet)")] = None,
    plot: Annotated[Path | None, typer.Option(help="Write a tornado (Morris) or bar (Sobol) chart, PNG")] = None,
    scheduler: Scheduler = None,
    workers: Annotated[int | None, typer.Option(help="Run on a local Dask cluster of this many processes")] = None,
) -> None:
    """Which assumptions decide a readout or a therapy's effect (Morris or Sobol, through SALib)."""
    from her2sim.experiments.runner import optional_cluster
    from her2sim.experiments.sensitivity import Target, her2_space, morris, read_space, sobol
    from her2sim.her2.scenario import readout_name
    from her2sim.her2.settings import RunSettings
    from her2sim.her2.therapies import therapy_library

    _check_suffix(output, (".csv", ".parquet"), "the indices")
    _check_suffix(plot, (".png",), "the chart")
    if method not in ("morris", "sobol"):
        raise ConfigError(f"method must be morris or sobol, not {method!r}")
    if trajectories < 2 or base < 2:
        raise ConfigError("use at least 2 Morris trajectories and 2 Sobol base samples")
    therapy_library().regimen(therapy or None)  # a typo fails before any simulation
    target = Target("; ".join(alteration or ["ERBB2:amp"]), therapy, readout_name(readout), effect=not value)
    if target.effect and not therapy:
        raise ConfigError("the effect of no therapy is zero: give --therapy, or --value for the untreated readout")
    whole = read_space(space, spread) if space else her2_space(spread)
    declared = whole.for_target(target)
    left_out = len(whole.factors) - len(declared.factors)
    settings = RunSettings(samples=samples or 1000)
    with optional_cluster(scheduler, workers) as client, progress(f"sensitivity ({method})", "model runs") as update:
        if method == "morris":
            table = morris(declared, target, trajectories, settings, progress=update, client=client)
        else:
            table = sobol(declared, target, base, settings, progress=update, client=client)
    what = f"{'effect on ' if target.effect else ''}{target.readout}: {target.context} | {therapy or 'untreated'}"
    console.print(f"[bold]{escape(what)}[/bold] ({len(declared.factors)} factors, {method}"
                  + (f"; {left_out} of drugs or alterations not in this scenario left out" if left_out else "")
                  + ")")  # fmt: skip
    _show(table, list(table.columns), limit=30)
    if output is not None:
        _write_table(table, output)
    if plot is not None:
        from her2sim.report.figures import save_figure
        from her2sim.report.plots import sensitivity_figure

        save_figure(sensitivity_figure(table, what), plot)
        console.print(f"wrote {plot}")


def register(app: typer.Typer) -> None:
    """Add ``dose-response``, ``screen``, ``landscape``, ``predict``, ``cohort`` and ``sensitivity`` to ``app``."""
    app.command("dose-response")(dose_response_command)
    app.command()(screen)
    app.command()(landscape)
    app.command()(predict)
    app.command("cohort")(cohort_command)
    app.command()(sensitivity)
