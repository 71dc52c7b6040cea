"""Published trial results, each row tied to the design, arm, subgroup and endpoint it measures.

The table format is that of ``../shared/biology/trials.tsv``: tab-separated, UTF-8, one header
line, the columns :data:`COLUMNS`. A row is resolved against the shipped designs:

``trial``
    a design's name or alias (:func:`her2sim.trials.design.design`).
``arm``
    an arm's ``label`` (or published name) in that design.
``subgroup``
    ``all`` or a subgroup of ``her2sim/trials/data/subgroups.yaml`` that the design reports.
``endpoint``
    one of :data:`ENDPOINT_COLUMNS`, or a landmark rate ``PFS_<N>mo_pct`` / ``OS_<N>mo_pct``
    (patients free of the event at ``N`` months, percent); the design must measure it. A hazard
    ratio compares the row's arm with the design's control arm.
``value``, ``n``
    a number; a whole number or empty.

``setting``, ``population``, ``regimen`` and ``source`` are the publication's words, kept as
they are. Every problem (an unknown trial, arm, subgroup or endpoint, a value that is not a
number) is reported with its ``file:line`` and the column, all at once.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass

from her2sim.errors import Her2simError, ModelValidationError, UnknownNameError
from her2sim.files import read_text, tsv_rows
from her2sim.trials.conditions import Subgroup, subgroup_table
from her2sim.trials.design import Arm, Endpoint, TrialDesign, design

__all__ = [
    "COLUMNS",
    "ENDPOINT_COLUMNS",
    "LANDMARK",
    "ResolvedRow",
    "parse_trials_table",
    "resolve_trials_table",
    "shipped_table",
]

#: Columns of a results table, in order.
COLUMNS = ("id", "trial", "setting", "population", "arm", "regimen", "subgroup", "endpoint", "value", "n", "source")
#: The endpoint column's values: (endpoint, pCR definition or None, statistic).
ENDPOINT_COLUMNS = {
    "pCR_breast_pct": ("pCR", "ypT0/is", "percent"),
    "ORR_pct": ("ORR", None, "percent"),
    "median_PFS_months": ("PFS", None, "median_months"),
    "median_OS_months": ("OS", None, "median_months"),
    "PFS_HR": ("PFS", None, "hazard_ratio"),
    "OS_HR": ("OS", None, "hazard_ratio"),
}
#: A landmark rate's endpoint column: ``PFS_12mo_pct`` is the percent free of progression at 12 months.
LANDMARK = re.compile(r"^(PFS|OS)_(\d+(?:\.\d+)?)mo_pct$")


@dataclass(frozen=True)
class ResolvedRow:
    """One published result, tied to its design.

    ``statistic`` is ``percent``, ``median_months``, ``hazard_ratio`` or ``landmark_percent``
    (the percent free of the event at ``months``); a hazard ratio is of ``arm`` against
    ``compared_to`` (the design's control arm), otherwise ``compared_to`` is None.
    """

    id: str
    line: int
    design: TrialDesign
    arm: Arm
    subgroup: Subgroup
    endpoint: Endpoint
    statistic: str
    value: float
    n: int | None
    source: str
    compared_to: Arm | None = None
    months: float | None = None

    @property
    def measure(self) -> str:
        """The endpoint as the row measures it (``PFS``, or ``PFS at 12 months`` for a landmark)."""
        return self.endpoint.name if self.months is None else f"{self.endpoint.name} at {self.months:g} months"


def shipped_table(heldout: bool = False) -> str:
    """The published results her2sim carries: the rows the population fit uses
    (``trials/data/published.tsv``), or with ``heldout`` those it never sees
    (``trials/data/heldout.tsv``: results of the shipped designs kept for out-of-sample checks)."""
    from importlib import resources

    return str(resources.files("her2sim.trials") / "data" / ("heldout.tsv" if heldout else "published.tsv"))


def resolve_trials_table(path: str | os.PathLike[str]) -> list[ResolvedRow]:
    """Read a results table (the format of ``trials.tsv``) and resolve every row.

    Raises
    ------
    ModelFormatError
        a missing column.
    ModelValidationError
        every row that does not resolve, as ``file:line: row ID: column: problem``.
    """
    return parse_trials_table(read_text(path), str(path))


def parse_trials_table(text: str, source: str = "<trials>") -> list[ResolvedRow]:
    """Resolve the rows of a results table given as text.

    >>> header = "\\t".join(COLUMNS) + "\\n"
    >>> row = "T1\\tCLEOPATRA\\t\\t\\tpertuzumab+TH\\t\\tPIK3CA mutant\\tmedian_PFS_months\\t12.5\\t\\tBaselga 2014\\n"
    >>> [r] = parse_trials_table(header + row, "t.tsv")
    >>> r.design.name, r.arm.label, r.subgroup.condition.describe(), r.endpoint.name, r.value
    ('CLEOPATRA', 'pertuzumab+TH', 'pik3ca in {H1047R, E545K, other}', 'PFS', 12.5)
    >>> parse_trials_table(header + row.replace("PIK3CA mutant", "PTEN loss"), "t.tsv")
    Traceback (most recent call last):
    ...
    her2sim.errors.ModelValidationError: t.tsv:2: row T1: subgroup: unknown subgroup 'PTEN loss'
    """
    rows, problems, seen = [], [], set()
    for number, values in tsv_rows(text, source, COLUMNS, COLUMNS):
        where = f"{source}:{number}: row {values['id'] or '?'}"
        if values["id"] in seen:
            problems.append(f"{where}: id: {values['id']!r} is used twice")
        seen.add(values["id"])
        try:
            rows.append(_resolve(values, number))
        except _ColumnError as exc:
            problems.append(f"{where}: {exc.column}: {exc}")
    if problems:
        raise ModelValidationError(problems, source)
    return rows


class _ColumnError(Exception):
    """A problem with one column of a row."""

    def __init__(self, column: str, message: str) -> None:
        super().__init__(message)
        self.column = column


def _resolve(v: dict[str, str], line: int) -> ResolvedRow:
    try:
        trial = design(v["trial"])
    except Her2simError as exc:
        raise _ColumnError("trial", str(exc)) from None
    try:
        arm = trial.arm(v["arm"])
    except Her2simError as exc:
        raise _ColumnError("arm", str(exc)) from None
    found = subgroup_table().find(v["subgroup"])
    if found is None:
        raise _ColumnError(
            "subgroup", str(UnknownNameError("subgroup", v["subgroup"], [g.name for g in subgroup_table()]))
        )
    subgroup = found if found.name == "all" else trial.subgroup(found.name)
    if subgroup is None:
        reported = [g.name for a in trial.subgroups for g in a.groups]
        raise _ColumnError("subgroup", f"{trial.name} reports no subgroup {found.name!r} "
                           f"(its subgroups: {', '.join(reported) or 'none'})")  # fmt: skip
    name, definition, statistic, months = _endpoint_column(v["endpoint"])
    endpoint = trial.endpoint(name, definition)
    if endpoint is None:
        measured = ", ".join(e.label for e in trial.endpoints)
        raise _ColumnError("endpoint", f"{trial.name} does not measure {name}"
                           f"{f' ({definition})' if definition else ''} (its endpoints: {measured})")  # fmt: skip
    compared_to = None
    if statistic == "hazard_ratio":
        compared_to = trial.control
        if compared_to is None:
            raise _ColumnError("endpoint", f"a hazard ratio needs a control arm, and {trial.name} names none")
        if compared_to.label == arm.label:
            raise _ColumnError("arm", f"a hazard ratio is given for an arm against the control arm {arm.label!r}, "
                               "not for the control arm itself")  # fmt: skip
    return ResolvedRow(
        id=v["id"],
        line=line,
        design=trial,
        arm=arm,
        subgroup=subgroup,
        endpoint=endpoint,
        statistic=statistic,
        value=_number(v["value"], "value"),
        n=None if not v["n"] else int(_number(v["n"], "n", whole=True)),
        source=v["source"],
        compared_to=compared_to,
        months=months,
    )


def _endpoint_column(value: str) -> tuple[str, str | None, str, float | None]:
    """(endpoint, pCR definition, statistic, landmark months) of an endpoint column's value."""
    landmark = LANDMARK.match(value)
    if landmark:
        months = float(landmark.group(2))
        if months <= 0:
            raise _ColumnError("endpoint", f"a landmark needs a time above 0 months, got {value!r}")
        return landmark.group(1), None, "landmark_percent", months
    if value not in ENDPOINT_COLUMNS:
        known = [*ENDPOINT_COLUMNS, "PFS_<N>mo_pct", "OS_<N>mo_pct"]
        raise _ColumnError("endpoint", str(UnknownNameError("endpoint", value, known)))
    return (*ENDPOINT_COLUMNS[value], None)


def _number(text: str, column: str, whole: bool = False) -> float:
    try:
        value = float(text)
    except ValueError:
        raise _ColumnError(column, f"{text!r} is not a number") from None
    if not math.isfinite(value) or value < 0 or (whole and not value.is_integer()):
        raise _ColumnError(column, f"{text!r} is not a {'whole ' if whole else ''}number >= 0")
    return value
