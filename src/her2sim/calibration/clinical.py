r"""Clinical subgroup ratios as measurements of the cell model.

A trial that reports an endpoint for a biomarker subgroup and for its complement (PIK3CA
mutant and wild-type, HR-positive and HR-negative) says how much the biomarker costs the
regimen. The cell model's counterpart is the ratio of the regimen's effect in the subgroup's
context to its effect in the complement's: a ``ratio`` measurement. Which context a subgroup
means, and which library therapies an arm's anti-HER2 drugs are, is data
(``her2/data/measurements/trial_subgroups.yaml``), not code; chemotherapy has no place in the
cell model and is left out of the arm's therapy.

Only endpoints where a larger value is a better outcome are used (pCR, ORR, median PFS or
OS); a hazard ratio is not a ratio of two subgroups' outcomes.

Examples
--------
>>> table = ("id\ttrial\tarm\tsubgroup\tendpoint\tvalue\n"
...          "T1\tX\tTH\tPIK3CA wild-type\tmedian_PFS_months\t10\n"
...          "T2\tX\tTH\tPIK3CA mutant\tmedian_PFS_months\t5\n")
>>> mapping = {"arms": {"TH": "trastuzumab"}, "contexts": {"PIK3CA wild-type": "ERBB2:amp"},
...            "subgroups": {"PIK3CA mutant": {"versus": "PIK3CA wild-type",
...                                            "contexts": ["ERBB2:amp; PIK3CA:H1047R"]}}}
>>> [(r["id"], r["value"], r["compare_to"]) for r in subgroup_ratios(table, mapping)]
[('T2/T1:PIK3CA:H1047R', '0.5', 'context:ERBB2:amp')]
"""

from __future__ import annotations

import csv
import io
import math
import os
from collections.abc import Mapping
from typing import Any

from her2sim.errors import ModelFormatError
from her2sim.files import read_text
from her2sim.formats.records import Document, read_document

__all__ = ["ENDPOINTS", "measurement_table", "subgroup_ratios"]

#: Endpoints whose ratio between subgroups reads as "how much of the benefit is kept".
ENDPOINTS = ("pCR_breast_pct", "ORR_pct", "median_PFS_months", "median_OS_months")
#: Standard deviation given to a ratio whose subgroups report no size.
_DEFAULT_SD = 0.15


def subgroup_ratios(trials: str, mapping: Mapping[str, Any], source: str = "<trials>") -> list[dict[str, str]]:
    """Measurement rows (as dicts of the measurement table's columns) for every subgroup of
    the mapping whose complement the same trial, arm and endpoint also report."""
    rows = list(csv.DictReader(io.StringIO(trials), delimiter="\t"))
    missing = {"id", "trial", "arm", "subgroup", "endpoint", "value"} - set(rows[0] if rows else {})
    if missing:
        raise ModelFormatError(f"missing column(s) {', '.join(sorted(missing))}", source, 1)
    arms, subgroups, contexts = (mapping.get(key) or {} for key in ("arms", "subgroups", "contexts"))
    by_key = {(r["trial"], r["arm"], r["subgroup"], r["endpoint"]): r for r in rows}
    out = []
    for row in rows:
        spec = subgroups.get(row["subgroup"])
        if spec is None or row["endpoint"] not in ENDPOINTS or row["arm"] not in arms:
            continue
        other = by_key.get((row["trial"], row["arm"], spec["versus"], row["endpoint"]))
        if other is None or spec["versus"] not in contexts:
            continue
        value, base = _number(row, source), _number(other, source)
        if base <= 0 or value <= 0:
            continue
        sd = _sd(row, other)
        for context in spec["contexts"]:
            out.append({"id": f"{row['id']}/{other['id']}:{context.split('; ')[-1]}", "kind": "ratio",
                        "context": context, "therapy": arms[row["arm"]], "value": f"{value / base:.3g}",
                        "sd": f"{sd:.3g}", "compare_to": f"context:{contexts[spec['versus']]}",
                        "source": f"{row['trial']} {row['arm']} {row['endpoint']} {row['subgroup']} "
                                  f"{row['value']} / {other['subgroup']} {other['value']} "
                                  f"({row.get('source') or other.get('source', '')})"})  # fmt: skip
    return out


def _number(row: Mapping[str, str], source: str) -> float:
    try:
        value = float(row["value"])
    except ValueError:
        raise ModelFormatError(f"row {row['id']}: value {row['value']!r} is not a number", source) from None
    if not math.isfinite(value):
        raise ModelFormatError(f"row {row['id']}: value {row['value']!r} is not finite", source)
    return value


def _sd(row: Mapping[str, str], other: Mapping[str, str]) -> float:
    """Relative uncertainty of a ratio of two subgroup outcomes: ``sqrt(1/n1 + 1/n2)`` when
    both sizes are reported (never below 0.05), else :data:`_DEFAULT_SD`."""
    try:
        n1, n2 = float(row.get("n") or "nan"), float(other.get("n") or "nan")
    except ValueError:
        return _DEFAULT_SD
    if not (n1 > 0 and n2 > 0):
        return _DEFAULT_SD
    return max(0.05, math.sqrt(1 / n1 + 1 / n2))


def _read_mapping(path: str | os.PathLike[str]) -> dict[str, Any]:
    """A subgroup mapping (the format of ``her2/data/measurements/trial_subgroups.yaml``), its
    shape checked so that every problem names ``file:line``; an empty file maps nothing."""
    doc = read_document(path)
    if doc.data is None:
        return {}
    if not isinstance(doc.data, dict):
        raise doc.error((), "a subgroup mapping is a YAML mapping with arms, subgroups and contexts")
    unknown = sorted(set(doc.data) - {"arms", "subgroups", "contexts"})
    if unknown:
        raise doc.error((unknown[0],), "unknown section", hint="sections: arms, subgroups, contexts")
    for section, meaning in (("arms", "the arm's library therapies"), ("contexts", "an alteration context")):
        for name, value in _section(doc, section).items():
            if not isinstance(value, str):
                raise doc.error((section, name), f"expected {meaning} as text")
    for name, spec in _section(doc, "subgroups").items():
        if not isinstance(spec, dict) or set(spec) != {"versus", "contexts"}:
            raise doc.error(("subgroups", name), "a subgroup is a mapping with versus and contexts")
        if not isinstance(spec["versus"], str):
            raise doc.error(("subgroups", name, "versus"), "versus names the subgroup compared with")
        contexts = spec["contexts"]
        if not isinstance(contexts, list) or not contexts or not all(isinstance(c, str) for c in contexts):
            raise doc.error(("subgroups", name, "contexts"), "contexts is a list of alteration contexts")
    return dict(doc.data)


def _section(doc: Document, name: str) -> dict[str, Any]:
    """One section of a subgroup mapping: entries by name (none when it is absent)."""
    entries = doc.data.get(name) or {}
    if not isinstance(entries, dict):
        raise doc.error((name,), "expected a mapping by name")
    return entries


def measurement_table(trials_path: str | os.PathLike[str], mapping_path: str | os.PathLike[str]) -> str:
    """The ratios of a trials table (the format of ``../shared/biology/trials.tsv``) as the
    text of a measurement table."""
    rows = subgroup_ratios(read_text(trials_path), _read_mapping(mapping_path), str(trials_path))
    columns = ["id", "kind", "context", "therapy", "value", "sd", "compare_to", "source"]
    lines = ["\t".join(columns)] + ["\t".join(r[c] for c in columns) for r in rows]
    return "\n".join(lines) + "\n"
