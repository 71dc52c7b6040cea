"""BoolNet ``.bnet`` files (``targets, factors``), as BoolNet, PyBoolNet, mpbn and biobalm write them.

One line per node: ``name, rule``. The header line ``targets, factors`` is optional; ``#``
starts a comment. A node named in a rule but never defined is a free input, as in mpbn,
biobalm and MaBoSS.
The format has no rates, parameters or initial states: writing a model that has them raises
unless ``lossy=True``.

Examples
--------
>>> m = parse_bnet("targets, factors\\nA, A\\nB, A & !B\\n")
>>> m.names
('A', 'B')
>>> print(write_bnet(m), end="")
targets, factors
A, A
B, A & !B
"""

from __future__ import annotations

import os
import re
from dataclasses import replace

from her2sim.errors import ModelFormatError
from her2sim.files import read_text
from her2sim.formats._expr import BNET, format_expr, parse_expr
from her2sim.formats._refusal import refuse_rates
from her2sim.model.expr import Expr, Var, variables
from her2sim.model.network import Model, Node

__all__ = ["bnet_rules", "parse_bnet", "read_bnet", "write_bnet"]


def parse_bnet(text: str, source: str = "<string>") -> Model:
    """Build a model from BoolNet text."""
    nodes: list[Node] = []
    seen: dict[str, int] = {}
    # Not str.splitlines(): it also breaks at \x85, \x0c and \u2028, which a Latin-1 comment
    # may hold, and would then misnumber lines and read the rest of the comment as a rule.
    for lineno, raw in enumerate(re.split(r"\r\n|\r|\n", text), start=1):
        line = raw.split("#", 1)[0]
        if not line.strip():
            continue
        if "," not in line:
            raise ModelFormatError(
                "expected 'target, factors'", source, lineno, 1, "each line names a node, a comma, then its rule"
            )
        name_part, rule_part = line.split(",", 1)
        name = name_part.strip()
        if name.lower() == "targets" and rule_part.strip().lower() == "factors":
            continue
        col = len(name_part) - len(name_part.lstrip()) + 1
        if not re.fullmatch(BNET.identifier, name):  # a name rules could not spell
            raise ModelFormatError(f"invalid node name {name!r}", source, lineno, col)
        if name.lower() in BNET.true_words | BNET.false_words:
            raise ModelFormatError(
                f"invalid node name {name!r}", source, lineno, col, "0, 1, true and false are constants in rules"
            )
        if name in seen:
            raise ModelFormatError(
                f"duplicate node {name!r}", source, lineno, col, f"first defined at line {seen[name]}"
            )
        seen[name] = lineno
        rule_col = len(name_part) + 2
        rule = parse_expr(rule_part, BNET, source, lineno, rule_col)
        nodes.append(Node(name, rule, origin=f"{source}:{lineno}"))
    if not nodes:
        raise ModelFormatError("no nodes: the file is empty", source, hint="a .bnet line reads 'A, B & !C'")
    # A free input is spelled as write_bnet spells every input, the self-loop "X, X", so that
    # read -> write -> read gives the same rules.
    nodes.extend(replace(n, rule=Var(n.name)) for n in _implicit_inputs(nodes, source))
    model = Model(tuple(nodes), name=os.path.splitext(os.path.basename(source))[0])
    return model.check(source)


def _implicit_inputs(nodes: list[Node], source: str) -> list[Node]:
    """Nodes read by rules but never defined: free inputs, in order of first use.

    Published ``.bnet`` files (the Biodivine benchmark among them) leave free inputs
    undeclared; mpbn, biobalm and MaBoSS read them as inputs, and so do we. Nodes without a
    rule (inputs declared by an initial value, as in BooleanNet) read nothing and are skipped.
    """
    defined = {n.name for n in nodes}
    extra: dict[str, Node] = {}
    for node in nodes:
        if node.rule is None:
            continue
        for name in sorted(variables(node.rule)):
            if name not in defined and name not in extra:
                extra[name] = Node(name, None, description="free input (not declared in the file)", origin=node.origin)
    return list(extra.values())


def read_bnet(path: str | os.PathLike[str]) -> Model:
    """Read a ``.bnet`` file."""
    return parse_bnet(read_text(path), str(path))


def _rule_for_bnet(node: Node) -> Expr:
    if node.rule is None:
        return Var(node.name)  # an input keeps its value: the usual BoolNet self-loop
    return node.rule


def bnet_rules(model: Model) -> dict[str, str]:
    """Each node's rule in BoolNet syntax (an input as its own self-loop), as BoolNet, mpbn
    and biobalm read them; rates and parameters are not part of a rule and are left out."""
    rules = {}
    for node in model.nodes:
        try:
            rules[node.name] = format_expr(_rule_for_bnet(node), BNET)
        except ValueError as exc:
            raise ModelFormatError(f"rule of {node.name}: {exc}", model.name or None) from None
    return rules


def write_bnet(model: Model, lossy: bool = False) -> str:
    """BoolNet text for ``model``.

    Rates and parameters have no BoolNet spelling; unless ``lossy`` they raise
    :class:`ModelFormatError` rather than vanish silently.
    """
    if not lossy:
        refuse_rates(model, ".bnet", "write MaBoSS .bnd/.cfg, or pass lossy=True")
    lines = ["targets, factors", *(f"{name}, {text}" for name, text in bnet_rules(model).items())]
    return "\n".join(lines) + "\n"
