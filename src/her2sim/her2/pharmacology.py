"""From doses to model parameters: occupancy, competition, conjugate payloads and ADCC.

A drug never switches a node off here. Each binding gives an occupancy drive ``x`` (a Hill
term for a reversible binder, inactivation against resynthesis for a covalent one, with the
affinity divided by the context's mutant-specific fold change); drugs on one site compete:
``site = sum(emax_i x_i) / (1 + sum x_i)``. The model turns site values into rates, and
reduces antibody action where the epitope is missing (p95HER2) or masked (MUC4, CD44-HA).
The ``her2.cfg`` parameters read and written here are named in ``her2/data/roles.yaml``.

Examples
--------
>>> from her2sim.her2.alterations import alteration_library
>>> from her2sim.her2.therapies import therapy_library
>>> drugs, contexts = therapy_library(), alteration_library()
>>> amp = contexts.context("ERBB2:amp")
>>> p = drug_parameters(drugs.regimen("lapatinib"), amp)
>>> round(p["inh_HER2_kinase"], 3)  # 1 uM over an IC50 of 100 nM
0.909
>>> mutant = contexts.context("ERBB2:L755S")  # the mutant's own kinase site carries its potency
>>> round(drug_parameters(drugs.regimen("lapatinib"), mutant)["inh_HER2mut_kinase"], 3)
0.2
>>> round(drug_parameters(drugs.regimen("neratinib"), mutant)["inh_HER2mut_kinase"], 3)  # covalent
0.924
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from her2sim.her2.alterations import Context
from her2sim.her2.roles import roles
from her2sim.her2.therapies import Drug, Regimen

__all__ = ["adcc_drive", "drug_parameters", "epitope_access", "epitope_shares", "population_uptake"]


def _drives(regimen: Regimen, context: Context) -> dict[str, list[tuple[Drug, float, float]]]:
    """Site -> [(drug, emax, x)] for every binding of the regimen."""
    sites: dict[str, list[tuple[Drug, float, float]]] = {}
    for drug, dose in regimen.doses:
        for binding in drug.bindings:
            fold = context.potency(drug.name, binding.site)
            sites.setdefault(binding.site, []).append((drug, binding.emax, binding.drive(dose, fold)))
    return sites


def _site_values(regimen: Regimen, context: Context) -> dict[str, float]:
    """Each bound site's value: the drugs on it compete, ``sum(emax_i x_i) / (1 + sum x_i)``."""
    return {
        site: sum(emax * x for _, emax, x in entries) / (1.0 + sum(x for _, _, x in entries))
        for site, entries in _drives(regimen, context).items()
    }


def epitope_shares(regimen: Regimen, context: Context) -> dict[str, float]:
    """Drug name -> fraction of its epitope (its first binding site) it occupies.

    Antibodies and conjugates on one epitope compete: each gets ``x_i / (1 + sum x)``.
    """
    sites = _drives(regimen, context)
    shares = {}
    for drug, _ in regimen.doses:
        if drug.adcc or drug.payload is not None:
            entries = sites[drug.bindings[0].site]
            total = sum(x for _, _, x in entries)
            mine = sum(x for d, _, x in entries if d is drug)
            shares[drug.name] = mine / (1.0 + total)
    return shares


def _uptake(regimen: Regimen, shares: Mapping[str, float], bystander: bool, context: Context | None = None) -> float:
    """Conjugate taken up at full HER2 density, in units of each payload's EC50.

    With ``context``, each payload's EC50 is multiplied by the context's fold change at the
    payload site (``potency_sites: [payload_ec50]``): an alteration of how the cell releases
    a conjugate's payload from its lysosomes (SLC46A3 loss for non-cleavable maytansinoids).
    Payload reaching a cell from its neighbours has crossed membranes and is not affected.
    """
    site = roles().pharmacology.payload_ec50
    total = 0.0
    for drug, _ in regimen.doses:
        payload = drug.payload
        if payload is not None:
            weight = payload.bystander if bystander else 1.0
            fold = context.potency(drug.name, site) if context is not None else 1.0
            total += weight * shares[drug.name] * payload.drug_to_antibody_ratio / (payload.ec50 * fold)
    return total


def population_uptake(
    regimen: Regimen, clones: Sequence[tuple[float, Context]], defaults: Mapping[str, float]
) -> float:
    """Membrane-permeable payload released into the tumour, per cell (the bystander dose).

    Each clone releases in proportion to its share, its uptake, its HER2 density and its mean
    conjugate access (the Damage node's masking term averaged over the masking nodes' levels).
    """
    names = roles().pharmacology
    total = 0.0
    for fraction, clone in clones:
        p = {**defaults, **clone.parameters}
        access = 1 - p[names.conjugate_masking_share] * (1 - epitope_access(clone, defaults, regimen))
        shares = epitope_shares(regimen, clone)
        total += fraction * _uptake(regimen, shares, bystander=True) * p[names.her2_density] * access
    return total


def epitope_access(context: Context, defaults: Mapping[str, float], regimen: Regimen | None = None) -> float:
    """Share of HER2 epitopes an antibody reaches in ``context``, averaged over the masking
    nodes' levels (the model's ``@access`` term at the MUC4 and CD44-HA levels it sets). A
    drug of ``regimen`` that lowers a masking level (its ``lowered_by`` site) lowers it here as
    in the model's rates: the level times one minus the site's value."""
    p = {**defaults, **context.parameters}
    drugs = _site_values(regimen, context) if regimen is not None else {}
    access = 1.0
    for mask in roles().pharmacology.epitope_masks:
        access *= 1 - p[mask.masking] * p[mask.level] * (1 - drugs.get(mask.lowered_by, 0.0))
    return access


def adcc_drive(regimen: Regimen, context: Context) -> float:
    """Antibody-dependent cellular cytotoxicity the regimen directs at cells of ``context``
    at full epitope access: ``1 - prod(1 - strength_i * share_i)`` over its antibodies.

    Immune effector cells do the killing, so this is not a cell-model parameter: the tumour
    level turns it into a death rate with the patient's immune capacity and epitope access.
    """
    shares = epitope_shares(regimen, context)
    return 1.0 - math.prod(1.0 - drug.adcc * shares[drug.name] for drug, _ in regimen.doses if drug.adcc)


def drug_parameters(regimen: Regimen, context: Context, bystander_uptake: float = 0.0) -> dict[str, float]:
    """Cell-model parameters (``her2.cfg`` names) for ``regimen`` given to cells of ``context``.

    ``bystander_uptake`` is the payload reaching each cell from its neighbours
    (:func:`population_uptake`); sites no drug binds are left out (their defaults apply).
    """
    params = _site_values(regimen, context)
    shares = epitope_shares(regimen, context)
    payloads = [drug.payload.max for drug, _ in regimen.doses if drug.payload is not None]
    if payloads:
        names = roles().pharmacology
        params[names.payload_uptake] = _uptake(regimen, shares, bystander=False, context=context)
        params[names.payload_max] = max(payloads)
        params[names.payload_ec50] = 1.0  # uptake is in units of each payload's EC50
        params[names.payload_bystander] = bystander_uptake
    return params
