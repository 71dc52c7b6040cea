"""``her2sim maboss``: MaBoSS's command line, so a pipeline switches by changing the program name.

``her2sim maboss [-c MODEL.cfg]... [-e EXPR]... -o PREFIX MODEL.bnd`` reads MaBoSS's
options (those of MaBoSS 2.6.6's ``--help``), simulates with her2sim's engine and writes
MaBoSS's output files (see :mod:`her2sim.formats.maboss_output` and, for how each statistic
is obtained, :mod:`her2sim.engine.maboss_run`). The whole command line is read before any
work, so an unknown option or a missing value fails at once, in one line.

Options that change nothing her2sim does (``--verbose``, ``--override`` and ``--augment``
for a network that defines each node once, ``--dont-shrink-logical-expressions``) are
accepted with a note; options for features her2sim does not have (ensembles, SED-ML, JSON
and HDF5 output, user functions, single trajectories) are refused.
"""

from __future__ import annotations

import math
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from her2sim.errors import ConfigError, Her2simWarning
from her2sim.formats.maboss_output import MABOSS_VERSION

if TYPE_CHECKING:
    from her2sim.model.config import SimulationConfig
    from her2sim.model.network import Model

#: MaBoSS options that take a value, by every spelling.
_VALUED = {
    "-c": "config", "--config": "config",
    "-e": "config-expr", "--config-expr": "config-expr",
    "-v": "config-vars", "--config-vars": "config-vars",
    "-o": "output", "--output": "output",
    "-x": "export-sbml", "--export-sbml": "export-sbml",
    "--format": "format",
    "--verbose": "verbose",
}  # fmt: skip
#: MaBoSS flags, by every spelling.
_FLAGS = {
    "-h": "help", "--help": "help",
    "-V": "version", "--version": "version", "-version": "version",
    "-d": "dump-config", "--dump-config": "dump-config",
    "-t": "generate-config-template", "--generate-config-template": "generate-config-template",
    "-l": "generate-logical-expressions", "--generate-logical-expressions": "generate-logical-expressions",
    "-g": "generate-bnd-file", "--generate-bnd-file": "generate-bnd-file",
    "--dont-shrink-logical-expressions": "dont-shrink-logical-expressions",
    "-q": "quiet", "--quiet": "quiet",
    "--check": "check",
    "--hexfloat": "hexfloat",
    "--final": "final",
    "--override": "override",
    "--augment": "augment",
    "--use-sbml-names": "use-sbml-names",
}  # fmt: skip
#: MaBoSS options for features her2sim does not have, with what to do instead.
_REFUSED = {
    "--ensemble": "simulate each network with its own her2sim maboss run",
    "--save-individual": "simulate each network with its own her2sim maboss run",
    "--random-sampling": "simulate each network with its own her2sim maboss run",
    "--ensemble-istates": "simulate each network with its own her2sim maboss run",
    "--single": "her2sim records statistics over many trajectories, not one trajectory's path",
    "-s": "SED-ML is not read; pass the network and -c/-e settings",
    "--sedml": "SED-ML is not read; pass the network and -c/-e settings",
    "--load-user-functions": "user functions are compiled C++; write them as rate expressions",
}
#: Actions that replace the simulation; MaBoSS's --dump-config and the like.
_ACTIONS = ("dump-config", "generate-config-template", "generate-logical-expressions", "generate-bnd-file", "check")

USAGE = f"""\
Usage (MaBoSS {MABOSS_VERSION} command line, simulated by her2sim):

  her2sim maboss [-c|--config CONF_FILE]... [-e|--config-expr CONFIG_EXPR]...
                 [-v|--config-vars VAR1=NUMERIC[,VAR2=...]] -o|--output PREFIX BOOLEAN_NETWORK_FILE
  her2sim maboss [-c ...] [-e ...] [-v ...] -d|--dump-config | -l|--generate-logical-expressions
                 | -g|--generate-bnd-file | --check | -x|--export-sbml SBML_FILE BOOLEAN_NETWORK_FILE
  her2sim maboss -t|--generate-config-template BOOLEAN_NETWORK_FILE
  her2sim maboss -V|--version | -h|--help

Options:

  -c --config CONF_FILE          configuration file; may be repeated
  -e --config-expr CONFIG_EXPR   configuration statements (';'-separated); may be repeated
  -v --config-vars VAR=NUMERIC   parameter values that override the configuration
  -o --output PREFIX             simulate and write PREFIX_probtraj.csv, PREFIX_fp.csv,
                                 PREFIX_statdist.csv and PREFIX_run.txt (and MaBoSS's empty files)
  -d --dump-config               print the configuration and exit
  -t --generate-config-template  print a configuration with MaBoSS's defaults and exit
  -l --generate-logical-expressions  print each node's logic and exit
  -g --generate-bnd-file         print the network and exit
  -x --export-sbml SBML_FILE     write the network as SBML-qual (rates and parameters left out)
  --check                        read the network and configuration, and exit
  --final                        write only PREFIX_finalprob.csv, the states at max_time
  --hexfloat                     write statistics as hexadecimal floats (C's %a)
  --format csv                   the only format her2sim writes
  -q --quiet                     no notes and no warnings
  --verbose LEVEL, --override, --augment, --dont-shrink-logical-expressions, --use-sbml-names:
                                 accepted; they change nothing her2sim does
  --ensemble, --save-individual, --random-sampling, --ensemble-istates, --single, -s/--sedml,
  --load-user-functions, --format json|hdf5: refused

Where the files differ from MaBoSS's: ErrorProba and ErrorTH are upper bounds of MaBoSS's
standard errors; statdist trajectories are further trajectories, not the first ones; state
names list nodes in the network's order. The rest (TH, H, HD, probabilities, fixed points,
clusters) has MaBoSS's definitions.
"""


@dataclass
class MabossArguments:
    """A MaBoSS command line, read but not yet acted on."""

    network: Path | None = None
    #: configuration files and expressions in command-line order: ("config" | "config-expr", value)
    configs: list[tuple[str, str]] = field(default_factory=list)
    config_vars: dict[str, float] = field(default_factory=dict)
    output: str | None = None
    export_sbml: Path | None = None
    flags: set[str] = field(default_factory=set)
    #: accepted options that change nothing, as notes for the user
    notes: list[str] = field(default_factory=list)


def parse_arguments(argv: list[str]) -> MabossArguments:
    """Read a MaBoSS command line; ``help`` or ``version`` stops reading, as in MaBoSS.

    Raises :class:`ConfigError` naming the first unknown or refused option, a missing value,
    a second network file or options MaBoSS holds exclusive.
    """
    args = MabossArguments()
    items = iter(argv)
    for item in items:
        if item in _REFUSED:
            raise ConfigError(f"maboss: {item} is not supported by her2sim ({_REFUSED[item]})")
        if item in _FLAGS:
            flag = _FLAGS[item]
            if flag in ("help", "version"):
                args.flags.add(flag)
                return args
            if {flag, *args.flags} >= {"override", "augment"}:
                raise ConfigError("maboss: --override and --augment are exclusive options")
            args.flags.add(flag)
        elif item in _VALUED:
            value = next(items, None)
            if value is None:
                raise ConfigError(f"maboss: missing value after option {item}")
            _set_value(args, _VALUED[item], value, item)
        elif item.startswith("-") and item != "-":
            raise ConfigError(f"maboss: unknown option {item} (her2sim maboss --help lists MaBoSS's options)")
        elif args.network is None:
            args.network = Path(item)
        else:
            raise ConfigError(f"maboss: boolean network file is already set to {args.network} [{item}]")
    _check_combinations(args)
    return args


def _set_value(args: MabossArguments, option: str, value: str, spelled: str) -> None:
    if option in ("config", "config-expr"):
        args.configs.append((option, value))
    elif option == "config-vars":
        args.config_vars.update(_config_vars(value))
    elif option == "output":
        args.output = value
    elif option == "export-sbml":
        args.export_sbml = Path(value)
    elif option == "format":
        if value.lower() in ("json", "hdf5"):
            raise ConfigError(f"maboss: --format {value} is not supported: her2sim writes MaBoSS's csv files")
        if value.lower() != "csv":
            raise ConfigError(f"maboss: unknown format {value} (MaBoSS's formats: csv, json, hdf5)")
    elif option == "verbose":
        if not value[:1].isdigit():
            raise ConfigError(f"maboss: unknown level for verbose {value} (a level from 0 to 3)")
        args.notes.append(f"{spelled} {value} has no effect: her2sim maboss reports only errors, notes and warnings")


def _config_vars(text: str) -> dict[str, float]:
    """``VAR=VALUE[,VAR2=VALUE2]`` with values numbers, TRUE or FALSE (names with or without ``$``)."""
    values = {}
    for item in text.split(","):
        name, sep, raw = item.partition("=")
        if not sep or not name.strip():
            raise ConfigError(f"maboss: invalid var format [{item}] VAR=BOOL_OR_DOUBLE expected")
        word = raw.strip().lower()
        try:
            value = {"true": 1.0, "false": 0.0}[word] if word in ("true", "false") else float(raw)
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            raise ConfigError(f"maboss: invalid value format [{item}] {name}=BOOL_OR_DOUBLE expected")
        values[name.strip().lstrip("$")] = value
    return values


def _check_combinations(args: MabossArguments) -> None:
    """MaBoSS's rules on which options go together, and notes on those that change nothing."""
    if args.network is None:
        raise ConfigError("maboss: boolean network file is missing")
    flags = args.flags
    if args.output is None and args.export_sbml is None and not flags & set(_ACTIONS):
        raise ConfigError("maboss: output option is not set (-o PREFIX)")
    given = {f"--{flag}" for flag in flags}
    if args.output is not None:
        given.add("-o|--output")
    given |= {"-c|--config" if kind == "config" else "-e|--config-expr" for kind, _ in args.configs}
    if args.config_vars:
        given.add("-v|--config-vars")
    exclusive = [
        ("--dump-config", "--generate-config-template"),
        ("--dump-config", "-o|--output"),
        ("--generate-config-template", "-o|--output"),
        ("--generate-config-template", "-c|--config"),
        ("--generate-config-template", "-e|--config-expr"),
        ("--generate-config-template", "-v|--config-vars"),
        ("--check", "-o|--output"),
    ]
    for first, second in exclusive:
        if first in given and second in given:
            raise ConfigError(f"maboss: {first} and {second} are exclusive options")
    twice = "has no effect: her2sim refuses a network that defines a node twice"
    for flag, note in (
        ("override", f"--override {twice}"),
        ("augment", f"--augment {twice}"),
        (
            "dont-shrink-logical-expressions",
            "--dont-shrink-logical-expressions has no effect: -l prints the logic as written",
        ),
    ):
        if flag in flags:
            args.notes.append(note)


def maboss_command(ctx: typer.Context) -> None:
    """Run MaBoSS's command line: -c MODEL.cfg -o PREFIX MODEL.bnd writes MaBoSS's output files."""
    args = parse_arguments(list(ctx.args))
    if "help" in args.flags:
        typer.echo(USAGE, nl=False)
        return
    if "version" in args.flags:
        from her2sim import __version__

        typer.echo(f"her2sim {__version__}: MaBoSS version {MABOSS_VERSION} command line [no node limit]")
        return
    quiet = "quiet" in args.flags
    for note in args.notes:
        _note(note, quiet)
    with warnings.catch_warnings():
        if quiet:
            warnings.simplefilter("ignore", Her2simWarning)
        _run(args, quiet)


def _note(text: str, quiet: bool) -> None:
    if not quiet:
        print(f"her2sim: note: {text}", file=sys.stderr)


def _run(args: MabossArguments, quiet: bool) -> None:
    """Read the network and configuration, then do what the flags ask, as MaBoSS's main does."""
    from her2sim.files import read_text
    from her2sim.formats._expr import MABOSS, format_expr
    from her2sim.formats.maboss import parse_bnd, parse_cfgs, write_bnd, write_cfg
    from her2sim.model.config import MABOSS_DEFAULTS

    assert args.network is not None
    network = args.network
    sbml = network.suffix.lower() in (".xml", ".sbml")
    if sbml and "use-sbml-names" in args.flags:
        raise ConfigError("maboss: --use-sbml-names is not supported: her2sim names SBML nodes by their ids")
    if "use-sbml-names" in args.flags:
        _note("--use-sbml-names has no effect on a MaBoSS network", quiet)
    if args.output is not None:
        _check_writable(args.output)
    if sbml:
        from her2sim.formats.sbmlqual import read_sbmlqual

        model = read_sbmlqual(network)
    else:
        model = parse_bnd(read_text(network), str(network))
    if "generate-config-template" in args.flags:
        typer.echo(write_cfg(model, MABOSS_DEFAULTS), nl=False)
        return
    pieces = [(f"${name} = {value!r};", "-v") for name, value in args.config_vars.items()]
    for kind, value in args.configs:
        pieces.append((read_text(value), value) if kind == "config" else (value + ";", f"-e '{value}'"))
    model, stated = parse_cfgs(pieces, model)
    config = stated.over(MABOSS_DEFAULTS)  # as MaBoSS runs it: one thread unless thread_count says otherwise
    model = model.with_parameters(args.config_vars).check(str(network))
    if "check" in args.flags:
        return
    if "generate-logical-expressions" in args.flags:
        for node in model.nodes:
            typer.echo(f"{node.name} : {format_expr(node.rule, MABOSS) if node.rule is not None else node.name}")
        return
    if "generate-bnd-file" in args.flags:
        typer.echo(write_bnd(model), nl=False)
        return
    if args.export_sbml is not None:
        from her2sim.files import atomic_write
        from her2sim.formats.sbmlqual import write_sbmlqual

        atomic_write(args.export_sbml, write_sbmlqual(model, lossy=True))
        _note(f"wrote {args.export_sbml}: SBML-qual holds the logic, not the rates or parameters", quiet)
        return
    if "dump-config" in args.flags:
        typer.echo(write_cfg(model, config), nl=False)
        return
    assert args.output is not None
    _simulate(model, config, args.output, args.flags, pieces)


def _simulate(
    model: Model, config: SimulationConfig, prefix: str, flags: set[str], pieces: list[tuple[str, str]]
) -> None:
    """Simulate and write MaBoSS's files (only ``_finalprob.csv`` with ``--final``)."""
    from her2sim.files import atomic_write
    from her2sim.formats.maboss_output import finalprob_csv, write_maboss_outputs

    quiet, hexa = "quiet" in flags, "hexfloat" in flags
    extra = dict(config.extra)
    if extra.get("display_traj"):
        _note("display_traj has no effect: her2sim does not write PREFIX_traj.txt", quiet)
    if any("in_graph" in text for text, _ in pieces):
        _note("in_graph has no effect: the observed-graph files are written empty", quiet)
    if "final" in flags:
        from her2sim.engine import simulate

        result = simulate(model, config, states=True)
        atomic_write(prefix + "_finalprob.csv", finalprob_csv(result.final_states(), hexa))
        return
    from her2sim.engine.maboss_run import run_maboss

    write_maboss_outputs(run_maboss(model, config), prefix, hexa)


def _check_writable(prefix: str) -> None:
    """Refuse an output prefix in a folder that does not exist, before simulating."""
    folder = Path(prefix).parent
    if not folder.is_dir():
        raise ConfigError(f"maboss: cannot write {prefix}_*: folder {folder} does not exist")


def register(app: typer.Typer) -> None:
    """Add the ``maboss`` command to ``app``: it takes MaBoSS's options itself, so click passes them on."""
    app.command(
        "maboss",
        context_settings={"allow_extra_args": True, "ignore_unknown_options": True, "help_option_names": []},
        add_help_option=False,
    )(maboss_command)
