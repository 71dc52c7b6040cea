"""BooleanNet rule files, as read by the ``booleannet`` package of Albert et al. (``boolean2``).

The format has two kinds of lines; ``#`` starts a comment:

* ``A = True``, ``A = False`` or ``A = Random`` sets the initial state of ``A`` (``Random`` is
  a fair coin, so probability 1/2). One value may initialise several nodes: ``A = B = False``.
* ``A* = B and not (C or D)`` is the update rule of ``A``. BooleanNet's operators are ``and``,
  ``or`` and ``not``; the published models of Zañudo et al. (jgtz/BreastCancerModelv2) also
  write constant rules as ``0`` and ``1``. A rule may start with a rank, ``2: A* = B``, which
  BooleanNet's ``rank`` mode uses to update lower ranks first. :class:`~her2sim.model.network.Node`
  has no field for it, so a rank is kept in ``Model.annotations`` as
  ``("booleannet.rank.<node>", "<rank>")`` and written back by :func:`write_booleannet`.

A node with an initial value and no rule is an input (rule ``None``). A node that rules read
but that is neither initialised nor updated is a free input, as in :mod:`her2sim.formats.bnet`.
BooleanNet itself refuses uninitialised nodes unless the caller supplies a ``missing``
function; here such a node starts on with probability 1/2, the MaBoSS default every reader
shares. Models of the Zañudo group keep their initial states apart, in an
``*_InitialConditions.txt`` side file with another syntax, which
:func:`read_booleannet_initial_conditions` reads. Their ``*_SlowFastNodes.txt`` (one slow node
per line) and ``*_ApoptosisProliferationWeights.txt`` (phenotype-score weights) files are
simulation settings of their Java simulator, not part of the network, and are not read here.

BooleanNet's piecewise-linear initial values ``A = (1, 2, 3)`` and ``Random`` inside a rule
(a new coin flip at every update) have no her2sim equivalent and raise
:class:`~her2sim.errors.ModelFormatError`.

Examples
--------
>>> m = parse_booleannet("A = True\\nB = Random\\n1: C* = A and not B\\n")
>>> m.names
('A', 'B', 'C')
>>> m.node("A").rule is None, m.initial_probability("B")
(True, 0.5)
>>> print(write_booleannet(m), end="")
A = True
B = Random
1: C* = A and not B
"""

from __future__ import annotations

import os
import re
import warnings

from her2sim.errors import ModelFormatError, location
from her2sim.files import read_text
from her2sim.formats._expr import BOOLEANNET, format_expr, parse_expr
from her2sim.formats._refusal import refuse_rates
from her2sim.formats.bnet import _implicit_inputs
from her2sim.model.expr import Expr, variables
from her2sim.model.network import IStateGroup, Model, Node

__all__ = [
    "RANK_ANNOTATION",
    "parse_booleannet",
    "parse_booleannet_initial_conditions",
    "read_booleannet",
    "read_booleannet_initial_conditions",
    "write_booleannet",
]

#: Prefix of the ``Model.annotations`` key that holds a node's BooleanNet rank.
RANK_ANNOTATION = "booleannet.rank."

_NAME = re.compile(r"[A-Za-z_][A-Za-z_0-9]*")
_RULE = re.compile(r"(?P<lead>\s*(?:(?P<rank>\d+)\s*:\s*)?)(?P<name>[A-Za-z_][A-Za-z_0-9]*)\s*\*\s*=")
_RANDOM = "random"
_RESERVED = BOOLEANNET.words | BOOLEANNET.true_words | BOOLEANNET.false_words | {_RANDOM}
_RANDOM_WORD = re.compile(r"(?<![A-Za-z_0-9])random(?![A-Za-z_0-9])", re.IGNORECASE)

#: Values of the ``*_InitialConditions.txt`` side file and the probability that each starts
#: the node on. ``ranStateCorrelated`` is ``(int)(1.5 * u)`` for one uniform ``u`` shared by
#: every node so marked, so on with probability 1/3 (jgtz/BreastCancerModelv2,
#: src/bcnetwork/NetworkSimulations.java, ``setInitialCondition``).
_SIDE_FILE_VALUES: dict[str, float] = {"0": 0.0, "1": 1.0, "ranState": 0.5, "ranStateCorrelated": 1.0 / 3.0}


def parse_booleannet(text: str, source: str = "<string>") -> Model:
    """Build a model from BooleanNet text.

    Parameters
    ----------
    text:
        The content of a BooleanNet rule file.
    source:
        Where ``text`` came from, used in error messages and as the model name.

    Returns
    -------
    Model
        Nodes in order of first definition, then free inputs in order of first use; initial
        values as independent initial-state groups; ranks in ``annotations``.

    Raises
    ------
    ModelFormatError
        On a syntax error (with line and column), a node defined twice (naming both lines), a
        construct her2sim cannot represent, or a file without nodes.

    Examples
    --------
    >>> m = parse_booleannet("A = B = False\\nC* = A or B\\n")
    >>> m.inputs(), m.initial_probability("B") == 0.0
    (('A', 'B'), True)
    >>> parse_booleannet("A* = (B and C\\n", "x.booleannet")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    her2sim.errors.ModelFormatError: x.booleannet:1:14: unbalanced parentheses: ')' expected (the '(' at ...)
    """
    order: list[str] = []
    rules: dict[str, tuple[Expr, int]] = {}
    initial: dict[str, tuple[float, int]] = {}
    ranks: dict[str, str] = {}
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0]
        if not line.strip():
            continue
        match = _RULE.match(line)
        if match:
            name = match["name"]
            col = len(match["lead"]) + 1
            _check_name(name, source, lineno, col)
            if name in rules:
                raise _duplicate("update rule", name, source, lineno, col, rules[name][1])
            rules[name] = (_parse_rule(line, match.end(), source, lineno), lineno)
            if match["rank"] is not None:
                ranks[name] = str(int(match["rank"]))
            if name not in initial:
                order.append(name)
        elif "=" in line:
            for name, col, value in _initial_values(line, source, lineno):
                if name in initial:
                    raise _duplicate("initial value", name, source, lineno, col, initial[name][1])
                initial[name] = (value, lineno)
                if name not in rules:
                    order.append(name)
        else:
            col = len(line) - len(line.lstrip()) + 1
            raise ModelFormatError(
                "expected an update rule or an initial value",
                source,
                lineno,
                col,
                "write 'A* = B and not C' or 'A = True'",
            )
    if not order:
        raise ModelFormatError("no nodes: the file is empty", source, hint="a BooleanNet rule reads 'A* = B and not C'")
    nodes: list[Node] = []
    for name in order:
        rule, line_of = rules[name] if name in rules else (None, initial[name][1])
        nodes.append(Node(name, rule, origin=f"{source}:{line_of}"))
    nodes.extend(_implicit_inputs(nodes, source))
    model = Model(
        tuple(nodes),
        istate=tuple(IStateGroup.single(name, p) for name, (p, _) in initial.items()),
        name=os.path.splitext(os.path.basename(source))[0],
        annotations=tuple((RANK_ANNOTATION + name, ranks[name]) for name in order if name in ranks),
    )
    return model.check(source)


def _check_name(name: str, source: str, lineno: int, col: int) -> None:
    """Refuse node names BooleanNet reads as something else (``and``, ``True``, ``Random``...)."""
    if not _NAME.fullmatch(name):
        raise ModelFormatError(f"invalid node name {name!r}", source, lineno, col, "use letters, digits and '_'")
    if name.lower() in _RESERVED:
        raise ModelFormatError(f"{name!r} is a reserved word, not a node name", source, lineno, col)


def _duplicate(what: str, name: str, source: str, lineno: int, col: int, first: int) -> ModelFormatError:
    return ModelFormatError(f"second {what} for {name!r}", source, lineno, col, f"the first is at line {first}")


def _parse_rule(line: str, start: int, source: str, lineno: int) -> Expr:
    """Parse the rule text after ``*=``, refusing BooleanNet's per-update ``Random``."""
    text = line[start:]
    rule = parse_expr(text, BOOLEANNET, source, lineno, start + 1)
    if any(v.lower() == _RANDOM for v in variables(rule)):
        hit = _RANDOM_WORD.search(text)
        col = start + 1 + (hit.start() if hit else 0)
        raise ModelFormatError(
            "'Random' in an update rule (a new coin flip at every update) has no her2sim equivalent",
            source,
            lineno,
            col,
            "model the noise with a free input node, or use MaBoSS rates",
        )
    return rule


def _initial_values(line: str, source: str, lineno: int) -> list[tuple[str, int, float]]:
    """(name, column, probability on) for each node of ``A = B = ... = value``."""
    parts = line.split("=")
    targets: list[tuple[str, int]] = []
    offset = 0
    for part in parts[:-1]:
        name = part.strip()
        col = offset + len(part) - len(part.lstrip()) + 1
        if not name:
            raise ModelFormatError("missing node name before '='", source, lineno, col)
        _check_name(name, source, lineno, col)
        targets.append((name, col))
        offset += len(part) + 1
    value_text = parts[-1].strip()
    col = offset + len(parts[-1]) - len(parts[-1].lstrip()) + 1
    word = value_text.lower()
    if word in BOOLEANNET.true_words:
        p = 1.0
    elif word in BOOLEANNET.false_words:
        p = 0.0
    elif word == _RANDOM:
        p = 0.5
    elif value_text.startswith("("):
        raise ModelFormatError(
            "piecewise-linear (PLDE) initial values are not supported", source, lineno, col, "use True, False or Random"
        )
    else:
        shown = repr(value_text) if value_text else "nothing"
        raise ModelFormatError(
            f"expected True, False or Random as initial value, found {shown}",
            source,
            lineno,
            col,
            "an update rule is written 'A* = ...'",
        )
    return [(name, col, p) for name, col in targets]


def read_booleannet(path: str | os.PathLike[str]) -> Model:
    """Read a BooleanNet rule file (side files are not read; see the module notes).

    Parameters
    ----------
    path:
        A ``.booleannet`` (or BooleanNet ``.txt``) file.

    Returns
    -------
    Model
        As :func:`parse_booleannet` builds it, named after the file.
    """
    return parse_booleannet(read_text(path), str(path))


def write_booleannet(model: Model, lossy: bool = False) -> str:
    """BooleanNet text for ``model``: per node, its initial value and then its update rule.

    Writing node by node, rather than all initial values first, keeps the node order through
    a write and a read (:func:`parse_booleannet` orders nodes by first definition); BooleanNet
    itself does not care about line order.

    Parameters
    ----------
    model:
        The model to write.
    lossy:
        BooleanNet has no rates, parameters, joint initial states or initial probabilities
        other than 0, 1/2 and 1. By default they raise rather than vanish silently; with
        ``lossy=True`` rates and parameters are dropped, and every initial probability
        strictly between 0 and 1 is written ``Random``.

    Returns
    -------
    str
        The file text. An input whose initial state was never set is written ``A = Random``,
        which is the same distribution; a node with a rule and no initial state gets no
        initial line.

    Raises
    ------
    ModelFormatError
        When the model holds something BooleanNet cannot express (and ``lossy`` is false), or
        a node name BooleanNet cannot read.

    Examples
    --------
    >>> from her2sim.model.expr import Var, Not
    >>> m = Model((Node("A", None), Node("B", Not(Var("A")))))
    >>> print(write_booleannet(m.with_initial_state("A", 1.0)), end="")
    A = True
    B* = not A
    """
    where = model.name or None
    if not lossy:
        refuse_rates(model, "BooleanNet", "write MaBoSS .bnd/.cfg, or pass lossy=True")
    ranks = {key[len(RANK_ANNOTATION) :]: value for key, value in model.annotations if key.startswith(RANK_ANNOTATION)}
    groups = {name: group for group in model.istate for name in group.nodes}
    lines: list[str] = []
    for node in model.nodes:
        if not _NAME.fullmatch(node.name) or node.name.lower() in _RESERVED:
            raise ModelFormatError(f"node name {node.name!r} cannot be written in BooleanNet", where)
        value = _initial_word(node, groups.get(node.name), lossy, where)
        if value is not None:
            lines.append(f"{node.name} = {value}")
        if node.rule is None:
            continue
        rank = ranks.get(node.name)
        if rank is not None and not rank.isdigit():
            raise ModelFormatError(f"rank of {node.name} must be a whole number, got {rank!r}", where)
        try:
            text = format_expr(node.rule, BOOLEANNET)
        except ValueError as exc:
            raise ModelFormatError(f"rule of {node.name}: {exc}", where) from None
        lines.append(f"{rank + ': ' if rank is not None else ''}{node.name}* = {text}")
    return "\n".join(lines) + "\n"


def _initial_word(node: Node, group: IStateGroup | None, lossy: bool, where: str | None) -> str | None:
    """``True``, ``False`` or ``Random`` for the initial state of ``node``, or ``None`` for no line."""
    if group is None:
        return "Random" if node.rule is None else None
    if len(group.nodes) > 1 and not lossy:
        raise ModelFormatError(
            f"{node.name} has a joint initial state with {', '.join(n for n in group.nodes if n != node.name)}, "
            "which BooleanNet cannot hold",
            where,
            hint="pass lossy=True to write each node's marginal",
        )
    p = group.p_on(node.name)
    if p == 1.0:
        return "True"
    if p == 0.0:
        return "False"
    if p == 0.5 or lossy:
        return "Random"
    raise ModelFormatError(
        f"{node.name} starts on with probability {p}; BooleanNet has only True, False and Random (1/2)",
        where,
        hint="pass lossy=True to write it as Random",
    )


def parse_booleannet_initial_conditions(text: str, source: str = "<string>") -> dict[str, float]:
    """Initial-state probabilities from the text of a Zañudo-group ``*_InitialConditions.txt``.

    That side file is not BooleanNet: each line is ``node<TAB>value`` with ``0``, ``1``,
    ``ranState`` (a fair coin per node) or ``ranStateCorrelated`` (one draw shared by every
    node so marked, on with probability 1/3). Nodes it does not list start off in their
    simulator, not with probability 1/2. A node listed twice keeps its last value, as their
    simulator's ``HashMap`` does (the 2020 file sets PTEN to 0 at line 9 and to 1 at line 93);
    a conflicting repeat warns.

    Parameters
    ----------
    text:
        The side file's content.
    source:
        Where ``text`` came from, for error messages.

    Returns
    -------
    dict[str, float]
        Node name to the probability that it starts on, in file order. The correlation of
        ``ranStateCorrelated`` nodes cannot be expressed in a dict and is lost: each gets its
        marginal, 1/3.

    Raises
    ------
    ModelFormatError
        On a line that is not ``node<TAB>value`` or an unknown value.

    Warns
    -----
    UserWarning
        When a node is listed again with another value, naming both lines.

    Examples
    --------
    >>> parse_booleannet_initial_conditions("HER2\\t1\\nBIM\\tranStateCorrelated\\n")
    {'HER2': 1.0, 'BIM': 0.3333333333333333}
    """
    out: dict[str, float] = {}
    lines_of: dict[str, int] = {}
    for lineno, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        fields = raw.rstrip().split("\t")
        if len(fields) != 2:
            raise ModelFormatError(
                f"expected 'node<TAB>value', found {len(fields)} tab-separated field(s)", source, lineno, 1
            )
        name, value = fields[0].strip(), fields[1].strip()
        col = len(fields[0]) + 2
        if not _NAME.fullmatch(name):
            raise ModelFormatError(f"invalid node name {name!r}", source, lineno, 1)
        if value not in _SIDE_FILE_VALUES:
            known = ", ".join(_SIDE_FILE_VALUES)
            raise ModelFormatError(f"unknown initial value {value!r}", source, lineno, col, f"use one of {known}")
        if name in out and out[name] != _SIDE_FILE_VALUES[value]:
            warnings.warn(
                f"{location(source, lineno, 1)}: {name} is listed again with another value "
                f"(first at line {lines_of[name]}); the last value wins",
                stacklevel=2,
            )
        out[name] = _SIDE_FILE_VALUES[value]
        lines_of[name] = lineno
    return out


def read_booleannet_initial_conditions(path: str | os.PathLike[str]) -> dict[str, float]:
    """Read a ``*_InitialConditions.txt`` side file; see :func:`parse_booleannet_initial_conditions`."""
    return parse_booleannet_initial_conditions(read_text(path), str(path))
