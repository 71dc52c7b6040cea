"""The refusal every writer of a format without rates shares.

BoolNet, BooleanNet and SBML-qual have no spelling for MaBoSS rates, node attributes or
parameters. Their writers raise one error, worded alike, rather than drop them silently;
each passes its own hint, and ``lossy=True`` in the writer skips the check.
"""

from __future__ import annotations

from her2sim.errors import ModelFormatError
from her2sim.model.network import Model

__all__ = ["refuse_rates"]


def refuse_rates(model: Model, format_name: str, hint: str) -> None:
    """Raise :class:`ModelFormatError` when ``model`` has custom rates, attributes or parameters.

    Nodes are checked first, in model order, then the parameters; the error names the model,
    what it holds and that ``format_name`` cannot hold it, followed by ``hint``.

    Examples
    --------
    >>> from her2sim.model.network import Node
    >>> refuse_rates(Model((Node("A", None),), name="m"), "BoolNet", "write MaBoSS")
    >>> refuse_rates(Model((Node("A", None),), parameters=(("k", 1.0),), name="m"), "BoolNet", "write MaBoSS")
    Traceback (most recent call last):
    ...
    her2sim.errors.ModelFormatError: m: the model has parameters ($k), which BoolNet cannot hold (write MaBoSS)
    """
    where = model.name or None
    for node in model.nodes:
        if node.rate_up is not None or node.rate_down is not None or node.attributes:
            message = f"node {node.name} has custom rates or attributes, which {format_name} cannot hold"
            raise ModelFormatError(message, where, hint=hint)
    if model.parameters:
        names = ", ".join(f"${name}" for name, _ in model.parameters)
        raise ModelFormatError(f"the model has parameters ({names}), which {format_name} cannot hold", where, hint=hint)
