"""MaBoSS network (``.bnd``) and configuration (``.cfg``) files.

The network grammar is MaBoSS's: ``Node NAME { logic = ...; rate_up = ...; rate_down = ...;
attr = expr; attr = "text"; }`` blocks, the short forms ``NAME : expr;`` and BoolNet lines
``NAME, expr``, comments ``//``, ``/* */`` and ``#`` at the start of a line. The configuration
grammar sets ``$parameters``, run settings (``max_time``, ``time_tick``, ``sample_count``,
``discrete_time``, ``seed_pseudorandom``, ``thread_count`` and the rest), and node settings
(``A.istate``, ``[A,B].istate = p [1,0], q [0,1]``, ``A.is_internal``, ``A.refstate``).

Gene symbols and references are written as the string attributes ``genes`` and
``references``, which MaBoSS accepts and ignores, so annotations survive a round trip.

Examples
--------
>>> model, config = parse_maboss("Node A { rate_up = $k; rate_down = 0; }", "$k = 2; A.istate = 0;")
>>> model.parameter_values, model.initial_probability("A"), config.max_time
({'k': 2.0}, 0.0, 1000.0)
"""

from __future__ import annotations

import math
import os
import re
import warnings
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from her2sim.errors import ConfigError, Her2simWarning, ModelFormatError, closest
from her2sim.files import read_text
from her2sim.formats._expr import MABOSS, format_expr, parse_expr
from her2sim.model.config import MABOSS_DEFAULTS, SimulationConfig
from her2sim.model.expr import Expr, attributes, evaluate, parameters, variables
from her2sim.model.network import IStateGroup, Model, Node

__all__ = [
    "parse_bnd",
    "parse_cfg",
    "parse_cfgs",
    "parse_maboss",
    "read_maboss",
    "write_bnd",
    "write_cfg",
    "write_maboss",
]

_IDENT = re.compile(r"[A-Za-z_][A-Za-z_0-9]*")
#: Text that can only continue an expression, not start a statement (a rule going on over lines).
_CONTINUES = re.compile(r"!=|[&|^*/+\-<>=?]|(?:and|or|xor)(?![A-Za-z_0-9])", re.IGNORECASE)
#: The start of a line that begins a new statement: ``attr =``, ``$p =``, ``A.istate =``, ``}``, ``Node``, ``[``.
_NEXT_STATEMENT = re.compile(r"\s*(?:\}|\[|node\b|\$?[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)?\s*=(?!=))", re.IGNORECASE)
_STRING_ATTRS = {"description", "genes", "references"}
#: Run settings a .cfg may set, with the SimulationConfig field each one maps to (or None: kept in ``extra``).
_SETTINGS = {
    "time_tick": "time_tick",
    "max_time": "max_time",
    "sample_count": "sample_count",
    "discrete_time": "discrete_time",
    "seed_pseudorandom": "seed",
    "thread_count": "threads",
    "use_physrandgen": None,
    "use_glibcrandgen": None,
    "use_mtrandgen": None,
    "display_traj": None,
    "statdist_traj_count": None,
    "statdist_cluster_threshold": None,
    "statdist_similarity_cache_max_size": None,
    "init_pop": None,
    "pop_base": None,
}
#: The run settings of a .cfg that sets none: MaBoSS's defaults for all that change results, but
#: ``thread_count`` unset (every core), since results do not depend on it. None is explicit.
_UNSET = replace(MABOSS_DEFAULTS, threads=None, explicit=frozenset())
#: The run settings :func:`write_cfg` writes, in MaBoSS's order: (.cfg key, SimulationConfig field).
_WRITTEN = tuple((key, name) for key, name in _SETTINGS.items() if name is not None)


def _blank_comments(text: str) -> str:
    """Replace comments by spaces, keeping every newline, so positions stay exact."""
    out = list(text)
    i, n = 0, len(text)
    at_line_start = True
    while i < n:
        c = text[i]
        if c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            i = j + 1
            at_line_start = False
            continue
        if (at_line_start and c == "#") or text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out[i:j] = " " * (j - i)
            i = j
            continue
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out[i:j] = ["\n" if ch == "\n" else " " for ch in text[i:j]]
            i = j
            continue
        at_line_start = c == "\n"
        i += 1
    return "".join(out)


class _Scanner:
    """A cursor over comment-free text that knows lines and columns."""

    def __init__(self, text: str, source: str) -> None:
        self.text = _blank_comments(text)
        self.source = source
        self.pos = 0
        self._line_starts = [0] + [m.end() for m in re.finditer("\n", self.text)]

    def where(self, pos: int | None = None) -> tuple[int, int]:
        pos = self.pos if pos is None else pos
        lo, hi = 0, len(self._line_starts) - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if self._line_starts[mid] <= pos:
                lo = mid
            else:
                hi = mid - 1
        return lo + 1, pos - self._line_starts[lo] + 1

    def error(self, message: str, pos: int | None = None, hint: str | None = None) -> ModelFormatError:
        line, col = self.where(pos)
        return ModelFormatError(message, self.source, line, col, hint)

    def skip_space(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def at_end(self) -> bool:
        self.skip_space()
        return self.pos >= len(self.text)

    def peek(self, literal: str) -> bool:
        self.skip_space()
        return self.text.startswith(literal, self.pos)

    def expect(self, literal: str, what: str) -> None:
        self.skip_space()
        if not self.text.startswith(literal, self.pos):
            raise self.error(f"expected {literal!r} {what}", hint=self._found())
        self.pos += len(literal)

    def ident(self, what: str) -> str:
        self.skip_space()
        m = _IDENT.match(self.text, self.pos)
        if m is None:
            raise self.error(f"expected {what}", hint=self._found())
        self.pos = m.end()
        return m.group()

    def string(self) -> str:
        self.expect('"', "to open a string")
        out = []
        while self.pos < len(self.text) and self.text[self.pos] != '"':
            if self.text[self.pos] == "\\" and self.pos + 1 < len(self.text):
                self.pos += 1
                out.append({"n": "\n", "t": "\t"}.get(self.text[self.pos], self.text[self.pos]))
            else:
                out.append(self.text[self.pos])
            self.pos += 1
        if self.pos >= len(self.text):
            raise self.error("string never closed")
        self.pos += 1
        return "".join(out)

    def expression(self, what: str, stop: str = ";") -> Expr:
        """Parse the expression that runs up to the next ``stop``."""
        self.skip_space()
        start = self.pos
        end = self.text.find(stop, start)
        if end < 0:
            self._parse(start, len(self.text), what)  # a broken expression is the first thing to fix
            raise self.error(f"missing {stop!r} after {what}", len(self.text.rstrip()), f"end it with {stop!r}")
        expr = self._parse(start, end, what)
        self.pos = end
        return expr

    def line_expression(self, what: str) -> Expr:
        """Parse the rule of a short form (``NAME : rule`` or ``NAME, rule``).

        The rule ends at ``;`` or at the end of its line; as in MaBoSS, whose grammar ignores
        newlines, it goes on over the next lines while it is incomplete (``A &`` then ``B``) or
        while the next line starts with an operator.
        """
        self.skip_space()
        start = self.pos
        semi = self.text.find(";", start)
        limit = len(self.text) if semi < 0 else semi
        end = self._line_end(start, limit)
        first_error: ModelFormatError | None = None
        while True:
            line, col = self.where(start)
            try:
                expr = parse_expr(self.text[start:end], MABOSS, self.source, line, col)
            except ModelFormatError as exc:
                incomplete = (exc.line, exc.col) == self.where(end)
                first_error = first_error or exc
                if end >= limit or not incomplete:
                    raise first_error from None
            else:
                nxt = end
                while nxt < limit and self.text[nxt].isspace():
                    nxt += 1
                if nxt >= limit or not _CONTINUES.match(self.text, nxt):
                    self.pos = end
                    return expr
            end = self._line_end(end + 1, limit)

    def _line_end(self, pos: int, limit: int) -> int:
        nl = self.text.find("\n", pos, limit)
        return limit if nl < 0 else nl

    def _parse(self, start: int, end: int, what: str) -> Expr:
        """Parse ``text[start:end]``; a ``;`` forgotten at the end of a line is named as such."""
        line, col = self.where(start)
        try:
            return parse_expr(self.text[start:end], MABOSS, self.source, line, col)
        except ModelFormatError:
            nl = self.text.find("\n", start, end)
            if nl >= 0 and _NEXT_STATEMENT.match(self.text, nl + 1, end):
                try:
                    parse_expr(self.text[start:nl], MABOSS, self.source, line, col)
                except ModelFormatError:
                    pass
                else:
                    last = len(self.text[:nl].rstrip())
                    raise self.error(f"missing ';' after {what}", last, "end each statement with ';'") from None
            raise

    def _found(self) -> str:
        self.skip_space()
        if self.pos >= len(self.text):
            return "found the end of the file"
        return f"found {self.text[self.pos : self.pos + 12].split(chr(10))[0]!r}"


# ------------------------------------------------------------------------------- .bnd
def parse_bnd(text: str, source: str = "<string>") -> Model:
    """Build a model (without parameter values) from MaBoSS network text."""
    sc = _Scanner(text, source)
    nodes: list[Node] = []
    first_line: dict[str, int] = {}
    annotations: list[tuple[str, str]] = []
    while not sc.at_end():
        start = sc.pos
        line, col = sc.where()
        word = sc.ident("a 'Node' block, 'NAME : rule;' or 'NAME, rule'")
        if word.lower() == "node":
            name = sc.ident("a node name after 'Node'")
            node, extra = _node_block(sc, name, f"{source}:{line}")
        elif sc.peek(":"):
            sc.pos += 1
            name = word
            node, extra = Node(name, sc.line_expression(f"the rule of {name}"),
                               origin=f"{source}:{line}"), []  # fmt: skip
            if sc.peek(";"):
                sc.pos += 1
        elif sc.peek(","):
            sc.pos += 1
            line_end = sc.text.find("\n", sc.pos)
            line_end = len(sc.text) if line_end < 0 else line_end
            if word.lower() == "targets" and sc.text[sc.pos : line_end].strip().lower().rstrip(";") == "factors":
                sc.pos = line_end
                continue
            name = word
            node, extra = Node(name, sc.line_expression(f"the rule of {name}"),
                               origin=f"{source}:{line}"), []  # fmt: skip
            if sc.peek(";"):
                sc.pos += 1
        else:
            raise sc.error(f"unexpected {word!r}", start, "a network file holds 'Node NAME { ... }' blocks")
        if node.name in first_line:
            raise ModelFormatError(
                f"duplicate node {node.name!r}", source, line, col, f"first defined at line {first_line[node.name]}"
            )
        first_line[node.name] = line
        nodes.append(node)
        annotations.extend(extra)
    if not nodes:
        raise ModelFormatError("no nodes: the network file is empty", source, hint="declare 'Node A { logic = B; }'")
    name = "" if source.startswith("<") else Path(source).stem
    return Model(tuple(nodes), name=name, annotations=tuple(annotations))


def _node_block(sc: _Scanner, name: str, origin: str) -> tuple[Node, list[tuple[str, str]]]:
    sc.expect("{", f"after 'Node {name}'")
    fields: dict[str, Expr] = {}
    strings: dict[str, str] = {}
    custom: list[tuple[str, Expr]] = []
    while not sc.peek("}"):
        if sc.at_end():
            raise sc.error(f"node block {name} is never closed", hint=f"a '}}' is missing; the block opens at {origin}")
        attr_pos = sc.pos
        attr = sc.ident(f"an attribute name in node {name} (logic, rate_up, rate_down, ...)")
        if attr.lower() == "node":  # a keyword in MaBoSS, never an attribute: the block was left open
            raise sc.error(f"node block {name} is never closed", attr_pos,
                           f"a '}}' is missing before this {attr!r}; the block opens at {origin}")  # fmt: skip
        sc.expect("=", f"after attribute {attr} of node {name}")
        # As in MaBoSS, an attribute set twice keeps its last value.
        if sc.peek('"'):
            strings[attr] = sc.string()
        else:
            expr = sc.expression(f"attribute {attr} of node {name}")
            if attr in ("logic", "rate_up", "rate_down"):
                fields[attr] = expr
            else:
                custom = [(k, v) for k, v in custom if k != attr] + [(attr, expr)]
        sc.expect(";", f"after attribute {attr} of node {name}")
    sc.pos += 1
    node = Node(
        name,
        fields.get("logic"),
        rate_up=fields.get("rate_up"),
        rate_down=fields.get("rate_down"),
        attributes=tuple(custom),
        description=strings.get("description", ""),
        genes=tuple(strings["genes"].split()) if "genes" in strings else (),
        references=tuple(r.strip() for r in strings["references"].split(";") if r.strip())
        if "references" in strings
        else (),
        origin=origin,
    )
    extra = [(f"maboss.{name}.{k}", v) for k, v in strings.items() if k not in _STRING_ATTRS]
    return node, extra


# ------------------------------------------------------------------------------- .cfg
def parse_cfg(text: str, model: Model, source: str = "<string>") -> tuple[Model, SimulationConfig]:
    """Apply a MaBoSS configuration to ``model``: parameters, initial states, node settings.

    Returns the completed model and the run settings. The settings the text sets are
    :attr:`~her2sim.model.config.SimulationConfig.explicit`, even those set to a default
    value, so that no other default replaces them. A setting it leaves out is unset: it takes
    MaBoSS's default (:data:`~her2sim.model.config.MABOSS_DEFAULTS`), except
    ``thread_count``, which stays ``None`` (every core, as results do not depend on it)
    rather than MaBoSS's one thread. :meth:`~her2sim.model.config.SimulationConfig.over`
    lays the explicit settings over other defaults.

    >>> config = parse_cfg("thread_count = 1; max_time = 1000;", parse_bnd("A : A;"))[1]
    >>> config.threads, config.max_time, sorted(config.explicit)
    (1, 1000.0, ['max_time', 'threads'])
    >>> config = parse_cfg("", parse_bnd("A : A;"))[1]
    >>> config.threads is None, config.max_time, config.explicit
    (True, 1000.0, frozenset())
    """
    sc = _Scanner(text, source)
    params = dict(model.parameters)
    settings: dict[str, tuple[float, int]] = {}  # setting -> (value, position in the text)
    nodes = {n.name: n for n in model.nodes}
    groups: dict[str, IStateGroup] = {}
    group_order: list[str] = []

    def node_named(name: str, pos: int) -> Node:
        if name not in nodes:
            hits = closest(name, nodes)
            hint = f"did you mean {hits[0]!r}?" if hits else "declare it in the .bnd file"
            raise sc.error(f"unknown node {name!r}", pos, hint)
        return nodes[name]

    def value(what: str) -> float:
        sc.skip_space()
        pos = sc.pos
        return _constant(sc, sc.expression(what), what, pos, params)

    def add_group(group: IStateGroup, pos: int) -> None:
        for n in group.nodes:
            if n in groups:
                raise sc.error(f"initial state of {n} is declared twice", pos)
            groups[n] = group
        group_order.append(group.nodes[0])

    while not sc.at_end():
        if sc.peek(";"):
            sc.pos += 1
            continue
        pos = sc.pos
        if sc.peek("$"):
            sc.pos += 1
            name = sc.ident("a parameter name after '$'")
            sc.expect("=", f"after ${name}")
            params[name] = value(f"${name}")
        elif sc.peek("["):
            sc.pos += 1
            names = [sc.ident("a node name")]
            while sc.peek(","):
                sc.pos += 1
                names.append(sc.ident("a node name"))
            sc.expect("]", "to close the node list")
            for n in names:
                node_named(n, pos)
            sc.expect(".", "after the node list")
            attr = sc.ident("'istate'")
            if attr.lower() != "istate":
                raise sc.error(f"invalid node group attribute {attr}", pos, "the only one is istate")
            sc.expect("=", "after istate")
            add_group(_istate_list(sc, names, params), pos)
        else:
            name = sc.ident("a setting, '$parameter', 'NODE.attribute' or '[NODES].istate'")
            if sc.peek("."):
                sc.pos += 1
                node = node_named(name, pos)
                attr = sc.ident(f"an attribute of node {name}").lower()
                if attr == "schedule":
                    raise sc.error(f"{name}.schedule: scheduled flips are not supported", pos,
                                   "remove the schedule line, or simulate it as a parameter change")  # fmt: skip
                sc.expect("=", f"after {name}.{attr}")
                v = value(f"{name}.{attr}")
                if attr == "istate":
                    add_group(IStateGroup.single(name, 0.5) if v < 0 else IStateGroup.single(name, float(v != 0)), pos)
                elif attr == "is_internal":
                    nodes[name] = replace(node, internal=bool(v))
                elif attr == "refstate":
                    nodes[name] = replace(node, refstate=None if v < 0 else int(v != 0))
                elif attr == "in_graph":
                    pass  # a display hint of MaBoSS's observed graph, not part of the model
                else:
                    raise sc.error(f"invalid node attribute {attr}", pos, "valid: istate, is_internal, refstate")
            else:
                key = name.lower()
                if key not in _SETTINGS:
                    hits = closest(key, _SETTINGS)
                    hint = f"did you mean {hits[0]!r}?" if hits else "valid: " + ", ".join(_SETTINGS)
                    raise sc.error(f"unknown setting {name!r}", pos, hint)
                sc.expect("=", f"after {name}")
                settings[key] = (value(name), pos)
        sc.expect(";", "at the end of the statement")

    istate = tuple(groups[first] for first in group_order)
    completed = replace(
        model,
        nodes=tuple(nodes[n.name] for n in model.nodes),
        parameters=tuple(params.items()),
        istate=istate,
    )
    return completed, _config(settings, sc)


def _constant(sc: _Scanner, expr: Expr, what: str, pos: int, params: dict[str, float]) -> float:
    """The value of a configuration expression, which may read parameters defined before it."""
    unknown = sorted(parameters(expr) - params.keys())
    if unknown:
        raise sc.error(f"undefined parameter ${unknown[0]} in {what}", pos, "define it earlier in the file")
    if variables(expr) or attributes(expr):
        raise sc.error(f"{what} must be a number, not a rule", pos)
    v = evaluate(expr, {}, params)
    if not math.isfinite(v):
        raise sc.error(f"{what} is not a finite number ({v})", pos)
    return v


def _istate_list(sc: _Scanner, names: list[str], params: dict[str, float]) -> IStateGroup:
    first = sc.pos
    outcomes: list[tuple[float, tuple[int, ...]]] = []
    while True:
        sc.skip_space()
        start = sc.pos
        bracket = sc.text.find("[", start)
        if bracket < 0:
            raise sc.error("expected 'probability [values]'", start)
        line, col = sc.where(start)
        prob_expr = parse_expr(sc.text[start:bracket], MABOSS, sc.source, line, col)
        prob = _constant(sc, prob_expr, "an istate probability", start, params)
        sc.pos = bracket + 1
        close = sc.text.find("]", sc.pos)
        if close < 0:
            raise sc.error("unclosed '[' in istate", bracket)
        raw = [v.strip() for v in sc.text[sc.pos : close].split(",")]
        try:
            values = tuple(int(float(v) != 0) for v in raw)
        except ValueError:
            raise sc.error("istate values must be 0 or 1", sc.pos) from None
        if len(values) != len(names):
            raise sc.error(f"{len(values)} values given for {len(names)} nodes", sc.pos)
        sc.pos = close + 1
        outcomes.append((prob, values))
        if not sc.peek(","):
            break
        sc.pos += 1
    _warn_unless_normalised(sc, first, names, [p for p, _ in outcomes])
    return IStateGroup(tuple(names), tuple(outcomes))


def _warn_unless_normalised(sc: _Scanner, pos: int, names: list[str], probabilities: list[float]) -> None:
    """MaBoSS divides istate probabilities by their sum without a word (and, when they sum to
    zero, always draws the last outcome); say so, with the place, when they do not sum to 1."""
    total = math.fsum(probabilities)
    if abs(total - 1.0) <= 1e-9:
        return
    line, col = sc.where(pos)
    group = f"[{', '.join(names)}]" if len(names) > 1 else names[0]
    effect = ("every draw takes the last outcome, as in MaBoSS" if total == 0
              else "they are divided by their sum, as MaBoSS does")  # fmt: skip
    warnings.warn(f"{sc.source}:{line}:{col}: initial-state probabilities of {group} sum to {total:g}; {effect}",
                  Her2simWarning, stacklevel=2)  # fmt: skip


def _config(settings: dict[str, tuple[float, int]], sc: _Scanner) -> SimulationConfig:
    """The run settings the text states (explicit), over :data:`_UNSET` for the rest."""
    kwargs: dict[str, object] = {}
    extra = []
    for key, (v, pos) in settings.items():
        target = _SETTINGS[key]
        if target is None:
            extra.append((key, v))
        elif target in ("sample_count", "seed", "threads"):
            if not math.isfinite(v) or v != int(v) or v < 0:
                raise sc.error(f"{key} must be a whole number, got {v:g}", pos)
            kwargs[target] = int(v)
        elif target == "discrete_time":
            kwargs[target] = bool(v)
        else:
            kwargs[target] = float(v)
        try:  # check each setting alone first, so an error names its line
            _UNSET.with_(**{k: w for k, w in kwargs.items() if k == target})
        except ConfigError as exc:
            raise sc.error(str(exc), pos) from None
    if extra:
        kwargs["extra"] = tuple(extra)
    try:
        return _UNSET.with_(**kwargs)
    except ConfigError as exc:  # settings that contradict each other (time_tick > max_time)
        raise ModelFormatError(str(exc), sc.source) from None


def parse_cfgs(pieces: Sequence[tuple[str, str]], model: Model) -> tuple[Model, SimulationConfig]:
    """Apply several configurations in turn, as MaBoSS's repeated ``-c FILE`` and ``-e EXPR``.

    ``pieces`` are (text, source) pairs. They are read as one text, so a piece may use the
    parameters of the pieces before it and a later setting or parameter replaces an earlier
    one; errors and warnings name the piece and the line within it. Run settings no piece
    sets are unset, as in :func:`parse_cfg`.
    """
    if len(pieces) <= 1:
        return parse_cfg(pieces[0][0], model, pieces[0][1]) if pieces else (model, _UNSET)
    starts: list[tuple[int, str]] = []  # (first line in the joined text, source) per piece
    texts: list[str] = []
    line = 1
    for text, source in pieces:
        starts.append((line, source))
        texts.append(text if text.endswith("\n") else text + "\n")
        line += texts[-1].count("\n")
    joined_source = " + ".join(source for _, source in pieces)

    def locate(at: int) -> tuple[str, int]:
        first, source = next((f, s) for f, s in reversed(starts) if f <= at)
        return source, at - first + 1

    def relocate(match: re.Match[str]) -> str:
        source, at = locate(int(match.group(1)))
        return f"{source}:{at}:"

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = parse_cfg("".join(texts), model, joined_source)
        except ModelFormatError as exc:
            if exc.source != joined_source or exc.line is None:
                raise
            source, at = locate(exc.line)
            raise ModelFormatError(exc.message, source, at, exc.col, exc.hint) from None
    prefix = re.compile(re.escape(joined_source) + r":(\d+):")
    for w in caught:
        warnings.warn_explicit(prefix.sub(relocate, str(w.message), count=1), w.category, w.filename, w.lineno)
    return result


def parse_maboss(
    bnd: str,
    cfg: str | None = None,
    bnd_source: str = "<bnd>",
    cfg_source: str = "<cfg>",
) -> tuple[Model, SimulationConfig]:
    """Read a network and (optionally) its configuration, and validate the result.

    Run settings the configuration leaves out, or all of them without one, are unset (see
    :func:`parse_cfg`).
    """
    model = parse_bnd(bnd, bnd_source)
    config = _UNSET
    if cfg is not None:
        model, config = parse_cfg(cfg, model, cfg_source)
    model.check(bnd_source)
    return model, config


def read_maboss(
    bnd_path: str | os.PathLike[str],
    cfg_path: str | os.PathLike[str] | None = None,
) -> tuple[Model, SimulationConfig]:
    """Read ``MODEL.bnd`` and its ``.cfg`` (by default the file beside it with the same stem, if any).

    Run settings the configuration leaves out are unset (see :func:`parse_cfg`).
    """
    bnd_path = Path(bnd_path)
    if cfg_path is None:
        guess = bnd_path.with_suffix(".cfg")
        cfg_path = guess if guess.exists() else None
    cfg_text = read_text(cfg_path) if cfg_path is not None else None
    cfg_source = str(cfg_path) if cfg_path else "<cfg>"
    return parse_maboss(read_text(bnd_path), cfg_text, str(bnd_path), cfg_source)


# ----------------------------------------------------------------------------- writing
def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def write_bnd(model: Model) -> str:
    """MaBoSS network text for ``model``."""
    extra = {k: v for k, v in model.annotations if k.startswith("maboss.")}
    blocks = []
    for node in model.nodes:
        lines = [f"Node {node.name} {{"]
        if node.description:
            lines.append(f"  description = {_quote(node.description)};")
        if node.genes:
            lines.append(f"  genes = {_quote(' '.join(node.genes))};")
        if node.references:
            lines.append(f"  references = {_quote('; '.join(node.references))};")
        for key, value in extra.items():
            _, owner, attr = key.split(".", 2)
            if owner == node.name:
                lines.append(f"  {attr} = {_quote(value)};")
        if node.rule is not None:
            lines.append(f"  logic = {format_expr(node.rule, MABOSS)};")
        if node.rate_up is not None:
            lines.append(f"  rate_up = {format_expr(node.rate_up, MABOSS)};")
        if node.rate_down is not None:
            lines.append(f"  rate_down = {format_expr(node.rate_down, MABOSS)};")
        lines.extend(f"  {k} = {format_expr(v, MABOSS)};" for k, v in node.attributes)
        lines.append("}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


def _number(v: float) -> str:
    # MaBoSS reads digits without a point or exponent as a 64-bit integer, which overflows
    # past 9.2e18: large whole numbers are written as doubles (1e+20).
    return str(int(v)) if v == int(v) and abs(v) < 1e15 else repr(float(v))


#: A configuration that sets nothing, as MaBoSS reads it: it refuses a file with no statement.
_NOTHING_SET = ["// nothing set: every setting takes its default", ";"]


def write_cfg(model: Model, config: SimulationConfig | None = None) -> str:
    """MaBoSS configuration text: parameters, initial states, node settings and run settings.

    The run settings written are those ``config`` states
    (:attr:`~her2sim.model.config.SimulationConfig.explicit`), so a configuration read from a
    ``.cfg`` is written back with the settings the file set and no others; the rest stay
    unset for the reader. Without a ``config`` none are written. ``thread_count`` is never
    written as ``None`` (every core of whichever machine runs the file) nor as this
    machine's core count: only a stated number of threads is written. A configuration
    that sets nothing is written as an empty statement, since MaBoSS refuses an empty file.

    >>> write_cfg(parse_bnd("A : A;"), MABOSS_DEFAULTS.with_(threads=None)).splitlines()[-1]
    'seed_pseudorandom = 0;'
    >>> _, stated = parse_maboss("A : A;", "sample_count = 10000; thread_count = 1;")
    >>> write_cfg(parse_bnd("A : A;"), stated).splitlines()
    ['sample_count = 10000;', 'thread_count = 1;']
    """
    lines = [f"${name} = {_number(v)};" for name, v in model.parameters]
    for group in model.istate:
        if len(group.nodes) == 1 and len(group.outcomes) == 1:
            lines.append(f"{group.nodes[0]}.istate = {group.outcomes[0][1][0]};")
        else:
            parts = ", ".join(f"{_number(p)} [{', '.join(map(str, vals))}]" for p, vals in group.outcomes)
            lines.append(f"[{', '.join(group.nodes)}].istate = {parts};")
    lines.extend(f"{n.name}.is_internal = 1;" for n in model.nodes if n.internal)
    lines.extend(f"{n.name}.refstate = {n.refstate};" for n in model.nodes if n.refstate is not None)
    if config is not None:
        for key, name in _WRITTEN:
            value = getattr(config, name)
            if name in config.explicit and value is not None:
                lines.append(f"{key} = {_setting(name, value)};")
        if "extra" in config.explicit:
            lines.extend(f"{k} = {_number(v)};" for k, v in config.extra)
    return "\n".join(lines or _NOTHING_SET) + "\n"


def _setting(name: str, value: float) -> str:
    """A run setting as MaBoSS reads it: a time as :func:`_number` writes it, a count, seed
    or flag as the digits of a whole number (a seed past 1e15 keeps every digit)."""
    return _number(value) if name in ("max_time", "time_tick") else str(int(value))


def write_maboss(model: Model, config: SimulationConfig | None = None) -> tuple[str, str]:
    """(network text, configuration text) for ``model``."""
    return write_bnd(model), write_cfg(model, config)
