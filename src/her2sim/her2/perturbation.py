"""Changes to the HER2 model's assumptions, for sensitivity and robustness analyses.

A :class:`Perturbation` moves what the model assumes rather than what a user asks for:
baseline parameter values, the time scale of a node (both its rates), a drug's potency (its
IC50/Kd/KI) or largest effect, and the strength of an alteration (the parameters it sets).
:class:`~her2sim.her2.scenario.Her2Simulator` applies it to every scenario it builds.

Examples
--------
>>> from her2sim.her2.therapies import therapy_library
>>> weaker = Perturbation(potency={"lapatinib": 10.0}).regimen(therapy_library().regimen("lapatinib"))
>>> [b.potency for b in weaker.doses[0][0].bindings]  # IC50s in nM, ten times the library's
[1000.0, 1000.0, 1000.0]
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import ClassVar

from her2sim.errors import ConfigError
from her2sim.her2.alterations import Context
from her2sim.her2.therapies import Regimen

__all__ = ["Perturbation"]


@dataclass(frozen=True)
class Perturbation:
    """Multipliers and overrides of the model's assumptions (empty: the model as shipped).

    ``parameters`` replace baseline parameter values (alterations and drugs still set theirs);
    ``rate_scale`` multiplies both rates of a node; ``potency`` multiplies a drug's IC50/Kd/KI
    (> 1: less potent); ``emax`` multiplies its largest effect (capped at 1); ``alteration``
    multiplies the parameters an alteration sets (capped at 1: they are levels and shares).
    """

    parameters: Mapping[str, float] = field(default_factory=dict)
    rate_scale: Mapping[str, float] = field(default_factory=dict)
    potency: Mapping[str, float] = field(default_factory=dict)
    emax: Mapping[str, float] = field(default_factory=dict)
    alteration: Mapping[str, float] = field(default_factory=dict)

    #: Factor kinds and the field each moves: ``parameter:EGF`` sets ``parameters["EGF"]``.
    KINDS: ClassVar[dict[str, str]] = {
        "parameter": "parameters",
        "rate": "rate_scale",
        "potency": "potency",
        "alteration": "alteration",
    }

    @classmethod
    def from_factors(cls, values: Mapping[str, float]) -> Perturbation:
        """The perturbation that sets factors named ``kind:target`` (``parameter:EGF``,
        ``potency:lapatinib``) to their values.

        >>> Perturbation.from_factors({"parameter:EGF": 0.3, "rate:HER3": 2.0}).rate_scale
        {'HER3': 2.0}
        """
        groups: dict[str, dict[str, float]] = {name: {} for name in cls.KINDS.values()}
        for factor, value in values.items():
            kind, _, target = factor.partition(":")
            if kind not in cls.KINDS or not target:
                raise ConfigError(f"factor {factor!r} is not kind:target with kind {', '.join(cls.KINDS)}")
            groups[cls.KINDS[kind]][target] = float(value)
        return cls(**groups)

    def regimen(self, regimen: Regimen) -> Regimen:
        """The regimen with each drug's affinities and largest effects moved."""
        if not (self.potency or self.emax):
            return regimen
        doses = []
        for drug, dose in regimen.doses:
            fold, scale = self.potency.get(drug.name, 1.0), self.emax.get(drug.name, 1.0)
            bindings = tuple(replace(b, potency=b.potency * fold, emax=min(1.0, b.emax * scale)) for b in drug.bindings)
            doses.append((replace(drug, bindings=bindings), dose))
        return Regimen(tuple(doses))

    def context(self, context: Context) -> Context:
        """The context with each named alteration's parameters scaled."""
        if not self.alteration:
            return context

        def scaled(ctx: Context) -> Context:
            alterations = tuple(
                replace(a, parameters={k: min(1.0, v * self.alteration[a.name]) for k, v in a.parameters.items()})
                if a.name in self.alteration
                else a
                for a in ctx.alterations
            )
            return Context(alterations, tuple((f, scaled(c)) for f, c in ctx.clones))

        return scaled(context)
