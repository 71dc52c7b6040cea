"""The ``her2sim`` command line: a thin shell over the library.

Every command parses its arguments, calls one library function and renders the result. Any
:class:`~her2sim.errors.Her2simError` becomes one ``stderr`` line and exit code 2.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from her2sim.cli import calibration, experiments, her2, maboss, report, trials, tumour
from her2sim.cli._console import console
from her2sim.errors import ConfigError, Her2simError, Her2simWarning, UnknownNameError

if TYPE_CHECKING:
    from her2sim.engine.result import SimulationResult
    from her2sim.model.config import SimulationConfig
    from her2sim.model.network import Model

app = typer.Typer(
    name="her2sim",
    help="HER2-positive breast cancer signalling and therapy resistance, on a MaBoSS-compatible engine.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        from her2sim import __version__

        console.print(f"her2sim {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """her2sim command line."""


def _read(path: Path, cfg: Path | None = None) -> tuple[Model, SimulationConfig]:
    """The model at ``path`` (or ``example:NAME``) and its run settings, as
    :func:`~her2sim.formats.read_model_and_config` reads them."""
    from her2sim.formats import read_model_and_config

    if str(path).startswith("example:"):
        from her2sim.examples import example_path

        path = example_path(str(path).split(":", 1)[1])
    return read_model_and_config(path, cfg)


@app.command()
def info(
    model: Annotated[Path, typer.Argument(help="Model file (.bnd, .bnet, .sbml, .booleannet) or example:NAME")],
) -> None:
    """Show a model's nodes, inputs, outputs, parameters and annotations."""
    m, _ = _read(model)
    inputs, outputs = set(m.inputs()), set(m.outputs())
    console.print(f"[bold]{m.name or model.name}[/bold]: {len(m)} nodes, {len(inputs)} inputs, "
                  f"{len(outputs)} outputs, {len(m.parameters)} parameters")  # fmt: skip
    table = Table("node", "role", "rule", "genes", "references")
    from her2sim.formats._expr import MABOSS, format_expr

    for node in m.nodes:
        role = "input" if node.name in inputs else ("output" if node.name in outputs else "")
        rule = format_expr(node.rule, MABOSS) if node.rule is not None else "-"
        table.add_row(node.name, role, rule if len(rule) < 80 else rule[:77] + "...",
                      " ".join(node.genes), "; ".join(node.references))  # fmt: skip
    console.print(table)
    if m.parameters:
        ptable = Table("parameter", "value")
        for name, value in m.parameters:
            ptable.add_row(f"${name}", f"{value:g}")
        console.print(ptable)
    for problem in m.problems():
        console.print(f"[yellow]note:[/yellow] {problem}")


@app.command()
def convert(
    source: Annotated[Path, typer.Argument(help="Model to read")],
    target: Annotated[Path, typer.Argument(help="File to write; its suffix chooses the format")],
    lossy: Annotated[bool, typer.Option(help="Drop what the target format cannot hold (rates, parameters)")] = False,
) -> None:
    """Convert a model between BoolNet, MaBoSS, SBML-qual and BooleanNet.

    A MaBoSS target's .cfg gets the source's run settings: those its .cfg states and no
    others (a thread_count only when it has one), or the settings simulate uses for a
    format that holds none.
    """
    from her2sim.formats import write_model

    m, config = _read(source)
    write_model(m, target, lossy=lossy, config=config)
    console.print(f"wrote {target} ({len(m)} nodes)")


@app.command()
def simulate(
    model: Annotated[Path, typer.Argument(help="Model file (.bnd with its .cfg, or .bnet/.sbml/.booleannet)")],
    cfg: Annotated[Path | None, typer.Argument(help="MaBoSS .cfg (default: the .cfg beside the .bnd)")] = None,
    max_time: Annotated[float | None, typer.Option(help="Override max_time (model rate units)")] = None,
    time_tick: Annotated[float | None, typer.Option(help="Override time_tick (model rate units)")] = None,
    samples: Annotated[int | None, typer.Option("--samples", "-n", help="Override sample_count")] = None,
    seed: Annotated[int | None, typer.Option(help="Override the seed")] = None,
    threads: Annotated[
        int | None, typer.Option(help="Worker threads (default: the .cfg's thread_count, else all cores)")
    ] = None,
    mutate: Annotated[
        list[str] | None,
        typer.Option(metavar="NODE=ON|OFF", help="Fix a node on or off (MaBoSS mutation); repeatable"),
    ] = None,
    param: Annotated[
        list[str] | None,
        typer.Option(metavar="NAME=VALUE", help="Set a model parameter ($ optional: k_on=2); repeatable"),
    ] = None,
    istate: Annotated[
        list[str] | None,
        typer.Option(metavar="NODE=P", help="Probability that a node starts on, 0 to 1; repeatable"),
    ] = None,
    states: Annotated[
        bool | None,
        typer.Option(
            help="Keep full-state probabilities: written beside --output as STEM.states.parquet and drawn by "
            "--figures (default: only for --figures and --states-output)"
        ),
    ] = None,
    states_output: Annotated[
        Path | None,
        typer.Option(
            help="Write the full-state table here: .parquet, or .csv (several times larger); implies --states"
        ),
    ] = None,
    max_states: Annotated[
        int | None,
        typer.Option(help="Bound on the state-table entries kept per thread (default: sized from available memory)"),
    ] = None,
    max_flips: Annotated[
        float | None, typer.Option(help="Refuse a run expected to make more flips than this (default 1e12)")
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write node probabilities per window (.parquet or .csv)")
    ] = None,
    plot: Annotated[Path | None, typer.Option(help="Write a PNG of node trajectories")] = None,
    figures: Annotated[
        Path | None,
        typer.Option(help="Directory for PNGs: trajectories, final states, fixed points, interaction graph"),
    ] = None,
    node: Annotated[
        list[str] | None,
        typer.Option("--node", metavar="NODE", help="Node drawn in the --plot and --figures trajectories; repeatable"),
    ] = None,
) -> None:
    """Simulate a model with MaBoSS semantics and print the node probabilities.

    --output writes the node table; the state table, which can be gigabytes, is written only
    on request (--states, --states-output), after an estimate of its size. --mutate, --param
    and --istate change the model for this run, as pyMaBoSS's mutate, update_parameters and
    set_istate do.
    """
    from her2sim.cli._edits import edit_model
    from her2sim.cli._progress import counting, progress
    from her2sim.engine import simulate as simulate_model

    # Refuse unwritable outputs before simulating, not after (the result writer knows two formats).
    for path in (output, states_output):
        if path is not None and path.suffix not in (".parquet", ".csv"):
            raise ConfigError(f"{path}: results are written as .parquet or .csv, not {path.suffix or 'no suffix'!r}")
    if plot is not None and plot.suffix.lower() != ".png":
        raise ConfigError(f"{plot}: the plot is written as PNG; name it *.png")
    if figures is not None and figures.exists() and not figures.is_dir():
        raise ConfigError(f"{figures}: --figures names a directory (made if needed), not a file")
    states_path = _states_path(states, states_output, output, figures)
    # a .cfg without thread_count runs on every core; one that sets it is obeyed
    m, base = _read(model, cfg)
    m = edit_model(m, mutate=mutate or [], param=param or [], istate=istate or [])
    for name in node or []:  # a mistyped node fails before the simulation, not after it
        if name not in m.names:
            raise UnknownNameError("node", name, m.names)
    changes = {k: v for k, v in {"max_time": max_time, "time_tick": time_tick, "sample_count": samples,
                                 "seed": seed, "threads": threads, "max_states": max_states,
                                 "max_flips": max_flips}.items()
               if v is not None}  # fmt: skip
    base = base.with_(**changes)
    keep_states = states if states is not None else (figures is not None or states_path is not None)
    with progress("simulate", "trajectories") as update:
        result = simulate_model(m, base, states=keep_states, progress=counting(update, base.sample_count))
    table = Table("node", f"P(on) at t={result.times[-1]:g}")
    for name, p, internal in zip(result.node_names, result.node_prob[-1], result.internal, strict=True):
        if not internal:  # read off the arrays: printing needs no DataFrame
            table.add_row(name, f"{p:.4f}")
    console.print(table)
    loading = f", {result.meta['compile_s']:.1f} s loading the kernel" if result.meta["compile_s"] > 0.5 else ""
    threads_used = f"{result.meta['threads']} thread{'s' if result.meta['threads'] != 1 else ''}"
    console.print(f"{base.sample_count} trajectories in {result.meta['elapsed_s']:.2f} s ({threads_used}{loading})")
    if result.state_overflow > 0:
        _print_not_kept(result)
    if states_path is not None:  # first: its size is checked, and a refusal leaves no file behind
        result.save_states(states_path)
        console.print(f"wrote {states_path}")
    if output is not None:
        result.save_nodes(output)
        console.print(f"wrote {output}")
    if plot is not None:
        from her2sim.report.figures import save_figure
        from her2sim.report.simulation import trajectory_figure

        save_figure(trajectory_figure(result.nodes(), node, title=f"{m.name or model.name}: node trajectories"), plot)
        console.print(f"wrote {plot}")
    if figures is not None:
        from her2sim.report.simulation import write_figures

        for path in write_figures(result, m, figures, nodes=node):
            console.print(f"wrote {path}")


def _states_path(
    states: bool | None, states_output: Path | None, output: Path | None, figures: Path | None
) -> Path | None:
    """Where ``simulate`` writes the state table: ``--states-output``, or beside ``--output``
    (always Parquet) with ``--states``; refuses flags that ask for states and nothing to do with them."""
    if states_output is not None:
        if states is False:
            raise ConfigError("--states-output writes the state table, which --no-states turns off: drop one of them")
        return states_output
    if states and output is not None:
        return output.with_name(output.stem + ".states.parquet")
    if states and figures is None:
        raise ConfigError(
            "--states keeps the state table for --output (as STEM.states.parquet) or --figures: add -o FILE, "
            "or name the file with --states-output FILE"
        )
    return None


def _print_not_kept(result: SimulationResult) -> None:
    """How much state probability each window could not break down into states, and the fix."""
    import numpy as np

    lost = result.not_kept()
    console.print(f"[yellow]state probability not kept[/yellow] (max_states {result.meta['max_states']:,} per "
                  f"thread), the '<not kept>' rows of the state table:")  # fmt: skip
    table = Table("time", "not kept")
    # one row a window, or at most 20 rows of consecutive windows with their least and most lost
    for group in np.array_split(np.arange(len(lost)), min(len(lost), 20)):
        times, shares = lost.index[group], lost.iloc[group]
        when = f"{times[0]:g}" if len(group) == 1 else f"{times[0]:g} to {times[-1]:g}"
        low, high = f"{shares.min():.1%}", f"{shares.max():.1%}"
        table.add_row(when, high if low == high else f"{low} to {high}")
    console.print(table)
    for key, what in (("final_overflow", "final states"), ("fixed_point_overflow", "fixed points")):
        if result.meta[key] > 0:
            console.print(f"not kept: {result.meta[key]:.1%} of the {what}")
    console.print("to keep every state: raise --max-states if memory allows, or use a larger --time-tick or "
                  "fewer trajectories (-n)")  # fmt: skip


@app.command()
def attractors(
    model: Annotated[Path, typer.Argument(help="Model file or example:NAME")],
    method: Annotated[str, typer.Option(help="asynchronous (biobalm), trapspaces (mpbn) or fixedpoints (mpbn)")] = (
        "asynchronous"
    ),
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the table (.csv or .parquet)")] = None,
) -> None:
    """List the attractors of a model's Boolean rules (through biobalm or mpbn)."""
    from her2sim.engine import async_attractors, fixed_points, trap_spaces

    methods = {"asynchronous": async_attractors, "trapspaces": trap_spaces, "fixedpoints": fixed_points}
    if method not in methods:
        raise UnknownNameError("method", method, methods)
    m, _ = _read(model)
    table = methods[method](m)
    console.print(f"{len(table)} {method} attractor(s) of {m.name or model.name}")
    show = Table(*[str(c) for c in table.columns])
    for row in table.head(50).itertuples(index=False):
        show.add_row(*[str(v) for v in row])
    console.print(show)
    if output is not None:
        from her2sim.files import write_table

        write_table(table.astype(str) if output.suffix == ".parquet" else table, output)  # Parquet: one type a column
        console.print(f"wrote {output}")


@app.command()
def figure(
    record: Annotated[Path, typer.Argument(help="Figure record: Markdown with YAML front matter (PFOCR)")],
    model: Annotated[Path | None, typer.Option(help="Model file or example:NAME (default: the HER2 model)")] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the table (.csv or .parquet)")] = None,
) -> None:
    """Show which genes of a published figure the model covers, and by which nodes."""
    import textwrap

    from rich.markup import escape

    from her2sim.formats.figure import read_figure_record
    from her2sim.her2.coverage import figure_coverage

    if output is not None and output.suffix not in (".parquet", ".csv"):
        raise ConfigError(f"{output}: the table is written as .parquet or .csv, not {output.suffix or 'no suffix'!r}")
    fig = read_figure_record(record)
    if model is None:
        from her2sim.her2 import load_model

        m = load_model()
    else:
        m, _ = _read(model)
    cov = figure_coverage(fig, m)
    console.print(f"[bold]{escape(cov.title)}[/bold]")
    console.print(f"figure {escape(cov.figid)}, {cov.year or 'year unknown'}, DOI {escape(cov.doi or 'none')}")
    for line in (cov.paper_title, cov.reftext):
        if line:
            console.print(escape(line))
    if cov.caption:
        console.print(escape(textwrap.fill(cov.caption, 100, initial_indent="  ", subsequent_indent="  ")))
    console.print(f"organisms: {escape(', '.join(cov.organisms) or 'none given (NA)')}; "
                  f"named in the text: {escape(', '.join(cov.organisms_ner) or 'none')}")  # fmt: skip
    table = Table("gene", "figure keyword", "covered", "node")
    for g in cov.genes:
        covered = "yes" if g.covered else "[red]no[/red]"
        table.add_row(g.gene, escape(", ".join(g.keywords)), covered, ", ".join(g.nodes))
    console.print(table)
    console.print(f"not covered: {', '.join(cov.uncovered) or 'none'}")
    console.print(f"unresolved keywords (no gene symbol): {escape(', '.join(cov.unresolved)) or 'none'}")
    console.print(f"model genes not in the figure: {', '.join(cov.model_only) or 'none'}")
    share = f"{cov.fraction:.0%}" if cov.genes else "no genes listed"
    console.print(f"[bold]covered {len(cov.covered)}/{len(cov.genes)} genes ({share})[/bold] "
                  f"by {escape(m.name or (model.name if model else 'the HER2 model'))}")  # fmt: skip
    if output is not None:
        from her2sim.files import write_table

        write_table(cov.table(), output)
        console.print(f"wrote {output}")


def _show_warning(message: Warning | str, category: type[Warning], *args: object, **kwargs: object) -> None:
    """her2sim's own warnings as one ``stderr`` line; other libraries' as Python shows them."""
    if issubclass(category, Her2simWarning):
        print(f"her2sim: warning: {message}", file=sys.stderr)
    else:
        _python_show_warning(message, category, *args, **kwargs)  # type: ignore[arg-type]


_python_show_warning = warnings.showwarning


def main() -> None:
    """Entry point: run the app, turning user errors into one line and exit code 2."""
    warnings.showwarning = _show_warning
    try:
        # without standalone mode click returns a command's typer.Exit code instead of exiting
        code = app(standalone_mode=False)
        if isinstance(code, int) and code:
            sys.exit(code)
    except Her2simError as exc:
        print(f"her2sim: error: {exc}", file=sys.stderr)
        sys.exit(2)
    except OSError as exc:  # a path that cannot be read or written: the user's to fix, not a bug
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"her2sim: error: {where}{exc.strerror or exc}", file=sys.stderr)
        sys.exit(2)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        print("her2sim: interrupted", file=sys.stderr)
        sys.exit(130)
    except Exception as exc:  # click usage errors carry their own message and code
        # typer.BadParameter derives from ClickException: click's own in older typer, the copy
        # typer vendors (typer._click) in newer ones, which `click.ClickException` does not catch.
        usage = tuple(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException")
        if isinstance(exc, usage):
            exc.show()  # type: ignore[attr-defined]
            sys.exit(exc.exit_code)  # type: ignore[attr-defined]
        raise


# The command groups, each module adding its own commands after the model commands above.
for _commands in (calibration, her2, experiments, maboss, report, trials, tumour):
    _commands.register(app)
