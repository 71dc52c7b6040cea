"""The ``--mutate``, ``--param`` and ``--istate`` options of ``her2sim simulate``.

They are pyMaBoSS's ``sim.mutate``, ``sim.update_parameters`` and ``sim.network.set_istate``
for a model given on the command line. Each option is ``NAME=VALUE`` text; this module reads it
and applies it through the model's own edits (:meth:`~her2sim.model.network.Model.with_fixed`,
:meth:`~her2sim.model.network.Model.with_parameters`,
:meth:`~her2sim.model.network.Model.with_initial_state`). Every mistake is one
:class:`~her2sim.errors.ConfigError` line naming the option, the text given and the fix.

Examples
--------
>>> from her2sim.formats.maboss import parse_maboss
>>> model, _ = parse_maboss("Node A { rate_up = $k; rate_down = 0; } Node B { logic = A; }", "$k = 1;")
>>> edited = edit_model(model, mutate=["B=off"], param=["$k=2.5"], istate=["A=0.25"])
>>> edited.parameter_values, edited.initial_probability("A"), edited.initial_probability("B")
({'k': 2.5}, 0.25, 0.0)
>>> edit_model(model, mutate=["b=ON"])
Traceback (most recent call last):
...
her2sim.errors.ConfigError: --mutate b=ON: unknown node 'b' (did you mean 'B'?)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from typing import TypeVar

from her2sim.errors import ConfigError, closest, finite_number
from her2sim.model.network import Model

__all__ = ["edit_model"]

T = TypeVar("T")

_ON = {"on": True, "1": True, "off": False, "0": False}


def _on_off(text: str) -> bool:
    try:
        return _ON[text.strip().lower()]
    except KeyError:
        raise ValueError(f"the value must be ON or OFF (or 1/0), not {text!r}") from None


def _number(text: str) -> float:
    return finite_number(text, "the value")


def _probability(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0.0 <= value <= 1.0:  # NaN fails too
        raise ValueError(f"the probability of starting on must be a number from 0 to 1, not {text!r}")
    return value


def _pairs(option: str, texts: Iterable[str], convert: Callable[[str], T], example: str) -> dict[str, tuple[str, T]]:
    """``NAME=VALUE`` texts as name -> (text, value); a bad text is a one-line error."""
    out: dict[str, tuple[str, T]] = {}
    for text in texts:
        name, sep, value = text.partition("=")
        name = name.strip().lstrip("$") if option == "--param" else name.strip()
        if not (sep and name and value.strip()):
            raise ConfigError(f"{option} {text}: expected NAME=VALUE, for example {option} {example}")
        if name in out:
            raise ConfigError(f"{option} {text}: {name} is already set by {option} {out[name][0]}; give it once")
        try:
            out[name] = (text, convert(value.strip()))
        except ValueError as exc:
            raise ConfigError(f"{option} {text}: {exc}") from None
    return out


def _check_names(option: str, pairs: dict[str, tuple[str, T]], kind: str, known: Sequence[str]) -> None:
    """Refuse a name the model does not have, suggesting close ones."""
    prefix = "$" if kind == "parameter" else ""
    for name, (text, _) in pairs.items():
        if name in known:
            continue
        hits = closest(name, known)
        if hits:
            fix = "did you mean " + ", ".join(repr(prefix + h) for h in hits) + "?"
        elif known:
            fix = f"`her2sim info MODEL` lists the model's {kind}s"
        else:
            fix = f"the model has no {kind}s"
        raise ConfigError(f"{option} {text}: unknown {kind} {prefix + name!r} ({fix})")


def edit_model(
    model: Model, *, mutate: Sequence[str] = (), param: Sequence[str] = (), istate: Sequence[str] = ()
) -> Model:
    """``model`` with the ``--param``, ``--istate`` and ``--mutate`` texts applied, in that order.

    ``mutate`` items are ``NODE=ON|OFF`` (or ``1/0``, any case): the node's rule becomes that
    constant and it starts there, as MaBoSS mutations do. ``param`` items are ``NAME=VALUE``
    for parameters the model has (``$`` optional). ``istate`` items are ``NODE=P``: the node
    starts on with probability ``P``, independently of the others. A node both mutated and
    given an initial state is refused: the mutation decides where it starts.
    """
    params = _pairs("--param", param, _number, "'$k_on=2'")
    initial = _pairs("--istate", istate, _probability, "NODE=0.3")
    mutations = _pairs("--mutate", mutate, _on_off, "NODE=OFF")
    _check_names("--param", params, "parameter", list(model.parameter_values))
    _check_names("--istate", initial, "node", model.names)
    _check_names("--mutate", mutations, "node", model.names)
    clash = sorted(initial.keys() & mutations.keys())
    if clash:
        name = clash[0]
        raise ConfigError(
            f"--istate {initial[name][0]}: {name} is also mutated (--mutate {mutations[name][0]}), "
            "which sets where it starts; drop one of the two"
        )
    model = model.with_parameters({name: value for name, (_, value) in params.items()})
    for name, (text, p_on) in initial.items():
        for group in model.istate:
            if name in group.nodes and len(group.nodes) > 1:
                raise ConfigError(
                    f"--istate {text}: {name} starts jointly with {', '.join(n for n in group.nodes if n != name)}; "
                    f"change their [{', '.join(group.nodes)}].istate line in the .cfg instead"
                )
        model = model.with_initial_state(name, p_on)
    for name, (_, on) in mutations.items():
        model = model.with_fixed(name, on)
    return model
