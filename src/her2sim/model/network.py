"""The logical network: immutable nodes, parameters and initial-state distribution.

A :class:`Model` is a value. Every edit (fixing a node, changing a rate, a parameter or an
initial state) returns a new model, so a model can be hashed, cached and shared between
scenarios without copies. Node order is defined once, by :meth:`Model.index`; kernel bit
positions and result columns come from it.

Semantics follow MaBoSS: a node with a rule and no explicit rates switches on at rate
``@logic ? 1 : 0`` and off at rate ``@logic ? 0 : 1``; a node with neither rule nor rates
never changes (an input that keeps its initial value).

Examples
--------
>>> from her2sim.model.expr import Var, Not
>>> m = Model((Node("A", None), Node("B", Not(Var("A")))))
>>> m.names
('A', 'B')
>>> m.with_fixed("A", True).node("A").rule
Const(value=1.0)
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from her2sim.errors import ModelValidationError, UnknownNameError, closest
from her2sim.model.expr import (
    FUNCTIONS,
    MAX_DEPTH,
    Attr,
    Call,
    Cond,
    Const,
    Expr,
    Var,
    attributes,
    depth,
    parameters,
    simplify,
    substitute,
    variables,
    walk,
)

__all__ = ["IStateGroup", "Model", "Node", "default_rate_down", "default_rate_up"]

LOGIC = Attr("logic")


def default_rate_up() -> Expr:
    """MaBoSS's rate_up when none is given: ``@logic ? 1 : 0``."""
    return Cond(LOGIC, Const(1.0), Const(0.0))


def default_rate_down() -> Expr:
    """MaBoSS's rate_down when none is given: ``@logic ? 0 : 1``."""
    return Cond(LOGIC, Const(0.0), Const(1.0))


@dataclass(frozen=True, slots=True)
class Node:
    """One Boolean node.

    Parameters
    ----------
    name:
        Identifier, unique in the model.
    rule:
        The Boolean update function (MaBoSS ``logic``), or ``None`` for an input whose value
        never changes unless rates say otherwise.
    rate_up, rate_down:
        MaBoSS transition rates; ``None`` means the default derived from ``rule``.
    attributes:
        Custom MaBoSS node attributes referenced as ``@name`` in rates, in file order.
    internal:
        MaBoSS ``is_internal``: left out of state statistics.
    refstate:
        MaBoSS ``refstate`` (0 or 1), or ``None`` when the node is not a reference node.
    description, genes, references:
        Annotations: free text, HGNC gene symbols, literature references (PMID/DOI).
    origin:
        ``file:line`` the node was read from, used in error messages; not part of equality.
    """

    name: str
    rule: Expr | None
    rate_up: Expr | None = None
    rate_down: Expr | None = None
    attributes: tuple[tuple[str, Expr], ...] = ()
    internal: bool = False
    refstate: int | None = None
    description: str = ""
    genes: tuple[str, ...] = ()
    references: tuple[str, ...] = ()
    origin: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        """Refuse trees deeper than :data:`~her2sim.model.expr.MAX_DEPTH`: every model then
        hashes, compares, prints and compiles within Python's recursion limit."""
        for what, expr in self.expressions():
            levels = depth(expr)
            if levels > MAX_DEPTH:
                where = f"{self.origin}: " if self.origin else ""
                raise ModelValidationError(
                    [f"{where}{what} of {self.name} is nested {levels} levels deep; her2sim accepts up to {MAX_DEPTH}"]
                )

    def expressions(self) -> list[tuple[str, Expr]]:
        """(field, expression) for the rule, the explicit rates and the attributes."""
        named = [("rule", self.rule), ("rate_up", self.rate_up), ("rate_down", self.rate_down)]
        return [(f, e) for f, e in named if e is not None] + [(f"@{k}", v) for k, v in self.attributes]

    @property
    def is_input(self) -> bool:
        """True when the node never changes by itself: no rule, no rates, or rule == itself."""
        if self.rate_up is not None or self.rate_down is not None:
            return False
        return self.rule is None or self.rule == Var(self.name)

    def effective_rate_up(self) -> Expr:
        """The rate_up MaBoSS uses: the explicit one, the rule's default, or zero."""
        if self.rate_up is not None:
            return self.rate_up
        return default_rate_up() if self.rule is not None else Const(0.0)

    def effective_rate_down(self) -> Expr:
        """The rate_down MaBoSS uses: the explicit one, the rule's default, or zero."""
        if self.rate_down is not None:
            return self.rate_down
        return default_rate_down() if self.rule is not None else Const(0.0)

    def attribute_map(self) -> dict[str, Expr]:
        """Attributes visible as ``@name`` in this node's rates (``logic`` included)."""
        out = dict(self.attributes)
        if self.rule is not None:
            out["logic"] = self.rule
        return out

    def resolved_rates(self) -> tuple[Expr, Expr]:
        """(rate_up, rate_down) with every ``@attribute`` replaced by its expression."""
        attrs = self.attribute_map()

        def resolve(expr: Expr, rounds: int = 0) -> Expr:
            if rounds > len(attrs) + 1:
                raise ModelValidationError([f"node {self.name}: attributes refer to each other in a cycle"])
            mapping: dict[Expr, Expr] = {Attr(k): v for k, v in attrs.items()}
            out = substitute(expr, mapping)
            if depth(out) > MAX_DEPTH:
                raise ModelValidationError(
                    [f"node {self.name}: its rates, with attributes substituted, nest over {MAX_DEPTH} levels deep"]
                )
            return resolve(out, rounds + 1) if attributes(out) & attrs.keys() else out

        return resolve(self.effective_rate_up()), resolve(self.effective_rate_down())


@dataclass(frozen=True, slots=True)
class IStateGroup:
    """A joint initial-state distribution over ``nodes`` (MaBoSS ``[A,B].istate = ...``).

    ``outcomes`` pairs a probability with one 0/1 value per node. As in MaBoSS (``IStates.h``),
    the probabilities are first divided by their sum, then an outcome is drawn by comparing one
    uniform number with the running sum, the last outcome taking whatever remains; so
    probabilities that do not sum to 1 behave as MaBoSS's (``0.3 [0], 0.3 [1]`` is a fair coin).
    """

    nodes: tuple[str, ...]
    outcomes: tuple[tuple[float, tuple[int, ...]], ...]

    @staticmethod
    def single(name: str, p_on: float) -> IStateGroup:
        """Node ``name`` starts on with probability ``p_on``."""
        if p_on in (0.0, 1.0):
            return IStateGroup((name,), ((1.0, (int(p_on),)),))
        return IStateGroup((name,), ((1.0 - p_on, (0,)), (p_on, (1,))))

    def effective_probabilities(self) -> tuple[float, ...]:
        """The probability MaBoSS's draw gives each outcome (normalised; the last takes the remainder).

        A sum that is zero or not finite leaves every comparison false in MaBoSS, so the last
        outcome is always drawn.
        """
        total = sum(p for p, _ in self.outcomes)
        scale = 1.0 / total if (math.isfinite(total) and total > 0.0) else 0.0
        out = []
        running = 0.0
        for j, (p, _) in enumerate(self.outcomes):
            low = min(max(running, 0.0), 1.0)
            running += p * scale
            high = 1.0 if j == len(self.outcomes) - 1 else min(max(running, 0.0), 1.0)
            out.append(max(high - low, 0.0))
        return tuple(out)

    def p_on(self, name: str) -> float:
        """Marginal probability that ``name`` starts on."""
        k = self.nodes.index(name)
        probs = self.effective_probabilities()
        return sum((p for p, (_, vals) in zip(probs, self.outcomes, strict=True) if vals[k]), 0.0)


@dataclass(frozen=True)
class Model:
    """An immutable logical network with MaBoSS-style rates.

    ``parameters`` are (name, value) pairs, names without ``$``. ``istate`` lists the
    initial-state groups; a node in none of them starts on with probability 1/2, as in MaBoSS.
    ``annotations`` are model-level (key, value) metadata (name, source, licence, ...).
    """

    nodes: tuple[Node, ...]
    parameters: tuple[tuple[str, float], ...] = ()
    istate: tuple[IStateGroup, ...] = ()
    name: str = ""
    annotations: tuple[tuple[str, str], ...] = ()
    _index: dict[str, int] = field(init=False, repr=False, compare=False, hash=False)
    _hash: int | None = field(default=None, init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        index: dict[str, int] = {}
        duplicates = []
        for i, node in enumerate(self.nodes):
            if node.name in index:
                duplicates.append(f"{node.origin + ': ' if node.origin else ''}duplicate node {node.name!r}")
            index[node.name] = i
        if duplicates:
            raise ModelValidationError(duplicates)
        object.__setattr__(self, "_index", index)

    def __hash__(self) -> int:
        """The hash of the compared fields, computed once: a model is hashed at every cached
        look-up keyed by it, and hashing every node's rule each time cost half a millisecond."""
        if self._hash is None:
            value = hash((self.nodes, self.parameters, self.istate, self.name, self.annotations))
            object.__setattr__(self, "_hash", value)
        return self._hash  # type: ignore[return-value]

    def __getstate__(self) -> dict[str, object]:
        """Pickled without the cached hash: string hashes differ between processes."""
        return {**self.__dict__, "_hash": None}

    # ----------------------------------------------------------------- queries
    def __len__(self) -> int:
        return len(self.nodes)

    @property
    def names(self) -> tuple[str, ...]:
        """Node names in model order."""
        return tuple(n.name for n in self.nodes)

    def index(self, name: str) -> int:
        """Position of node ``name``: the one name-to-index map of the project."""
        try:
            return self._index[name]
        except KeyError:
            raise UnknownNameError("node", name, self._index) from None

    def node(self, name: str) -> Node:
        """The node called ``name``."""
        return self.nodes[self.index(name)]

    def __contains__(self, name: object) -> bool:
        return name in self._index

    @property
    def parameter_values(self) -> dict[str, float]:
        """Parameters as a dict, names without ``$``."""
        return dict(self.parameters)

    def inputs(self) -> tuple[str, ...]:
        """Nodes that never change by themselves (no rule, or a rule equal to the node)."""
        return tuple(n.name for n in self.nodes if n.is_input)

    def outputs(self) -> tuple[str, ...]:
        """Nodes that no other node's rule or rate reads."""
        read: set[str] = set()
        for n in self.nodes:
            for _, expr in n.expressions():
                read |= variables(expr) - {n.name}
        return tuple(n.name for n in self.nodes if n.name not in read)

    def regulators(self, name: str) -> frozenset[str]:
        """Nodes read by the rule or rates of ``name``."""
        out: frozenset[str] = frozenset()
        for _, expr in self.node(name).expressions():
            out |= variables(expr)
        return out

    def initial_probability(self, name: str) -> float:
        """Marginal probability that ``name`` starts on."""
        self.index(name)
        for group in self.istate:
            if name in group.nodes:
                return group.p_on(name)
        return 0.5

    def _repr_html_(self) -> str:
        """Jupyter's view: name, size, parameters and a bounded table of nodes and rules.

        Display only: the printing lives in :mod:`her2sim.report.notebook`, imported when a
        notebook asks, so the model layer still imports nothing above it.
        """
        from her2sim.report.notebook import model_html

        return model_html(self)

    # ------------------------------------------------------------------- edits
    def with_nodes(self, nodes: Iterable[Node]) -> Model:
        """A model with the given nodes replaced (by name) or appended."""
        updated = list(self.nodes)
        for node in nodes:
            if node.name in self._index:
                updated[self._index[node.name]] = node
            else:
                updated.append(node)
        return replace(self, nodes=tuple(updated))

    def with_node(self, node: Node) -> Model:
        """A model with ``node`` replacing the node of the same name, or appended."""
        return self.with_nodes([node])

    def with_fixed(self, name: str, value: bool) -> Model:
        """Mutate ``name``: its rule becomes a constant and it starts at that value.

        This is MaBoSS's mutation: the rates fall back to the defaults of the constant rule,
        so the node goes to ``value`` and stays there. A node in a joint initial state keeps its
        group, with its own value set to ``value`` in every outcome.
        """
        node = self.node(name)
        fixed = replace(node, rule=Const(float(value)), rate_up=None, rate_down=None)
        model = self.with_node(fixed)
        for g in self.istate:
            if name in g.nodes and len(g.nodes) > 1:
                k = g.nodes.index(name)
                outcomes = tuple((p, (*vals[:k], int(bool(value)), *vals[k + 1 :])) for p, vals in g.outcomes)
                return model.with_istate_group(IStateGroup(g.nodes, outcomes))
        return model.with_initial_state(name, 1.0 if value else 0.0)

    def with_rates(self, name: str, up: Expr | None = None, down: Expr | None = None) -> Model:
        """A model where node ``name`` has the given rates (``None`` keeps the current one)."""
        node = self.node(name)
        return self.with_node(
            replace(
                node,
                rate_up=up if up is not None else node.rate_up,
                rate_down=down if down is not None else node.rate_down,
            )
        )

    def with_parameters(self, values: Mapping[str, float]) -> Model:
        """A model with parameters set (added when new). Names may carry a leading ``$``."""
        current = dict(self.parameters)
        for key, value in values.items():
            current[key.lstrip("$")] = float(value)
        return replace(self, parameters=tuple(current.items()))

    def with_initial_state(self, name: str, p_on: float) -> Model:
        """A model where ``name`` starts on with probability ``p_on``, independently."""
        self.index(name)
        if not 0.0 <= p_on <= 1.0:
            raise ModelValidationError([f"initial probability of {name} must be in [0, 1], got {p_on}"])
        groups = [g for g in self.istate if name not in g.nodes]
        for g in self.istate:
            if name in g.nodes and len(g.nodes) > 1:
                raise ModelValidationError(
                    [f"{name} belongs to the joint initial state of {', '.join(g.nodes)}; replace that group instead"]
                )
        groups.append(IStateGroup.single(name, p_on))
        return replace(self, istate=tuple(groups))

    def with_istate_group(self, group: IStateGroup) -> Model:
        """A model where ``group`` replaces every group that shares a node with it."""
        for n in group.nodes:
            self.index(n)
        kept = [g for g in self.istate if not set(g.nodes) & set(group.nodes)]
        return replace(self, istate=(*kept, group))

    def with_input(self, name: str, p_on: float = 0.5) -> Model:
        """A model with a new input node ``name`` (no rule) starting on with ``p_on``."""
        if name in self._index:
            raise ModelValidationError([f"node {name!r} already exists"])
        return self.with_node(Node(name, None)).with_initial_state(name, p_on)

    def without_input(self, name: str, value: bool) -> Model:
        """Remove input ``name``, replacing it by the constant ``value`` in every expression.

        The other nodes of a joint initial state keep their joint distribution (``name`` is
        marginalised out of the group).
        """
        node = self.node(name)
        if not node.is_input:
            raise ModelValidationError([f"{name} is not an input node: it has a rule or rates"])
        const: dict[Expr, Expr] = {Var(name): Const(float(value))}

        def sub(e: Expr | None) -> Expr | None:
            return None if e is None else simplify(substitute(e, const))

        kept = tuple(
            replace(
                n,
                rule=sub(n.rule),
                rate_up=sub(n.rate_up),
                rate_down=sub(n.rate_down),
                attributes=tuple((k, sub(v) or v) for k, v in n.attributes),
            )
            for n in self.nodes
            if n.name != name
        )
        istate = []
        for g in self.istate:
            if name not in g.nodes:
                istate.append(g)
            elif len(g.nodes) > 1:
                k = g.nodes.index(name)
                others = g.nodes[:k] + g.nodes[k + 1 :]
                istate.append(IStateGroup(others, tuple((p, vals[:k] + vals[k + 1 :]) for p, vals in g.outcomes)))
        return replace(self, nodes=kept, istate=tuple(istate))

    def renamed(self, mapping: Mapping[str, str]) -> Model:
        """A model with nodes renamed through ``mapping`` (names not in it are kept)."""
        subs: dict[Expr, Expr] = {Var(k): Var(v) for k, v in mapping.items()}

        def sub(e: Expr | None) -> Expr | None:
            return None if e is None else substitute(e, subs)

        nodes = tuple(
            replace(
                n,
                name=mapping.get(n.name, n.name),
                rule=sub(n.rule),
                rate_up=sub(n.rate_up),
                rate_down=sub(n.rate_down),
                attributes=tuple((k, sub(v) or v) for k, v in n.attributes),
            )
            for n in self.nodes
        )
        istate = tuple(IStateGroup(tuple(mapping.get(x, x) for x in g.nodes), g.outcomes) for g in self.istate)
        return replace(self, nodes=nodes, istate=istate)

    # -------------------------------------------------------------- validation
    def problems(self) -> list[str]:
        """Every problem, each prefixed by where it was found, unused parameters included."""
        return validate(self)

    def check(self, source: str | None = None) -> Model:
        """Return ``self`` when valid, else raise :class:`ModelValidationError` with all errors.

        Unused parameters are reported by :meth:`problems` but do not make a model invalid:
        MaBoSS configurations routinely define parameters a network does not read.
        """
        found = validate(self, unused_parameters=False)
        if found:
            raise ModelValidationError(found, source)
        return self


def validate(model: Model, unused_parameters: bool = True) -> list[str]:
    """Collect every problem of ``model``: undefined nodes, parameters and attributes, unknown
    functions or arities, negative constant rates, impossible initial states, and (when
    ``unused_parameters``) parameters nothing reads."""
    found: list[str] = []
    names = set(model.names)
    declared = set(dict(model.parameters))
    used_params: set[str] = set()
    for node in model.nodes:
        where = f"{node.origin}: " if node.origin else ""
        attrs = node.attribute_map()
        for field_name, expr in node.expressions():
            for var in sorted(variables(expr) - names):
                hint = _suggest(var, names)
                found.append(f"{where}unknown node {var!r} in {field_name} of {node.name}{hint}")
            params = parameters(expr)
            used_params |= params
            for p in sorted(params - declared):
                found.append(f"{where}undefined parameter ${p} in {field_name} of {node.name}")
            for a in sorted(attributes(expr) - attrs.keys()):
                found.append(f"{where}undefined attribute @{a} in {field_name} of {node.name}")
            for e in walk(expr):
                if isinstance(e, Call):
                    arity = FUNCTIONS.get(e.func)
                    if arity is None:
                        found.append(f"{where}unknown function {e.func}() in {field_name} of {node.name}")
                    elif not arity[0] <= len(e.args) <= arity[1]:
                        found.append(
                            f"{where}{e.func}() takes {arity[0]} to {arity[1]} arguments, "
                            f"got {len(e.args)} in {field_name} of {node.name}"
                        )
            bad_constant = isinstance(expr, Const) and not (math.isfinite(expr.value) and expr.value >= 0)
            if field_name in ("rate_up", "rate_down") and bad_constant:
                value = expr.value if isinstance(expr, Const) else expr  # "got -1.0", not "got Const(value=-1.0)"
                found.append(f"{where}{field_name} of {node.name} must be a finite rate >= 0, got {value}")
        if node.refstate not in (None, 0, 1):
            found.append(f"{where}refstate of {node.name} must be 0 or 1, got {node.refstate}")
    for name, value in model.parameters:
        if not math.isfinite(value):
            found.append(f"parameter ${name} is not a finite number ({value})")
    if unused_parameters:
        for name in sorted(declared - used_params):
            if not name.startswith(("High_", "Low_")) and name != "nb_mutable":
                found.append(f"parameter ${name} is never used")
    found.extend(_istate_problems(model.istate, names))
    return found


def _istate_problems(groups: Sequence[IStateGroup], names: set[str]) -> list[str]:
    found = []
    seen: set[str] = set()
    for g in groups:
        for n in g.nodes:
            if n not in names:
                found.append(f"unknown node {n!r} in initial state{_suggest(n, names)}")
            if n in seen:
                found.append(f"node {n} appears in two initial-state declarations")
            seen.add(n)
        for p, values in g.outcomes:
            if len(values) != len(g.nodes):
                found.append(
                    f"initial state of [{', '.join(g.nodes)}] gives {len(values)} values for {len(g.nodes)} nodes"
                )
            if not (math.isfinite(p) and p >= 0):
                found.append(f"initial state of [{', '.join(g.nodes)}] has an invalid probability {p}")
    return found


def _suggest(name: str, names: Iterable[str]) -> str:
    hits = closest(name, names)
    return f" (did you mean {hits[0]!r}?)" if hits else ""
