"""Trial endpoints from simulated tumour burden: RECIST 1.1 responses, progression, pCR.

A tumour's target lesions are measured, as in a trial, only at the imaging visits. The sum of
their longest diameters follows the cell count as a sphere's diameter follows its volume:
``S(t) = S0 * (N(t) / N0)^(1/3)``. At each visit, as RECIST 1.1 (Eisenhauer et al. 2009 Eur J
Cancer 45:228, doi:10.1016/j.ejca.2008.10.026) defines it:

* complete response (CR): no measurable tumour left (``S`` below :data:`DETECTION_MM`);
* partial response (PR): ``S`` at least 30% below baseline;
* progression (PD): ``S`` at least 20% above the smallest sum so far (the nadir, baseline
  included) and at least 5 mm above it;
* stable disease (SD) otherwise;
* a new lesion, wherever the target lesions stand, is progression.

Progression-free survival is the time of the first PD visit (an event) or of the last visit
(censored). The best overall response is the best of the visits before progression; with
``confirm`` a CR or PR counts only when the next visit (at least 4 weeks later) agrees.
Pathological complete response at surgery is a residual invasive cell count below a
threshold (:func:`pathological_complete_response`).

Examples
--------
>>> sums = np.array([[40.0, 25.0, 24.0, 30.0]])  # mm at 4 visits after a 50 mm baseline
>>> out = assess(sums, np.array([50.0]), np.array([42.0, 84.0, 126.0, 168.0]))
>>> out.response.tolist(), out.progression_day.tolist(), out.best_change_pct.round(1).tolist()
(['PR'], [168.0], [-52.0])
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from her2sim.errors import ConfigError

__all__ = ["DETECTION_MM", "Assessment", "assess", "pathological_complete_response", "sums_of_diameters"]

#: Below this sum of diameters no target lesion is measurable (RECIST's 10 mm minimum for a
#: measurable lesion; a lesion that shrinks below it is recorded as 5 mm, "too small to
#: measure", and counts as gone only when it disappears, so CR needs far less).
DETECTION_MM = 1.0
_ORDER = {"CR": 0, "PR": 1, "SD": 2, "PD": 3}


@dataclass(frozen=True)
class Assessment:
    """Per patient: best overall response, the day of the first PD visit (or of the last
    visit, censored), whether progression was seen, the best % change from baseline, and whether
    a new lesion was seen at the PD visit."""

    response: np.ndarray
    progression_day: np.ndarray
    progressed: np.ndarray
    best_change_pct: np.ndarray
    new_lesion: np.ndarray


def sums_of_diameters(cells: np.ndarray, cells0: np.ndarray, baseline_mm: np.ndarray) -> np.ndarray:
    """Sums of diameters (mm) at each visit (patients x visits) from cell counts."""
    ratio = np.clip(cells, 0.0, None) / cells0[:, None]
    return baseline_mm[:, None] * np.cbrt(ratio)


def assess(
    sums: np.ndarray, baseline_mm: np.ndarray, days: np.ndarray, confirm: bool = False,
    new_lesions: np.ndarray | None = None,
) -> Assessment:  # fmt: skip
    """RECIST 1.1 at each visit (columns of ``sums``, on ``days``) for each patient (rows);
    ``new_lesions`` (same shape, boolean) marks the visits where a new lesion is seen."""
    sums = np.asarray(sums, dtype=float)
    n, visits = sums.shape
    new = np.zeros(sums.shape, bool) if new_lesions is None else np.asarray(new_lesions, dtype=bool)
    if new.shape != sums.shape:
        raise ConfigError(f"new_lesions has shape {new.shape}, sums {sums.shape}")
    nadir = np.minimum.accumulate(np.column_stack([baseline_mm, sums]), axis=1)[:, :-1]
    progression = ((sums >= 1.2 * nadir) & (sums - nadir >= 5.0)) | new
    status = np.full((n, visits), "SD", dtype="<U2")
    status[sums <= 0.7 * baseline_mm[:, None]] = "PR"
    status[sums < DETECTION_MM] = "CR"
    status[progression] = "PD"
    first_pd = np.where(progression.any(axis=1), progression.argmax(axis=1), visits)
    progressed = first_pd < visits
    day = np.where(progressed, days[np.minimum(first_pd, visits - 1)], days[-1])
    response = np.full(n, "PD", dtype="<U2")
    best_change = np.full(n, np.nan)
    codes = np.vectorize(_ORDER.get)(status)
    for i in range(n):
        before = slice(0, first_pd[i])
        if first_pd[i] == 0:
            continue  # progression at the first visit: best response PD
        visit_codes = codes[i, before]
        if confirm:
            visit_codes = _confirmed(visit_codes, days[before])
        response[i] = _name(int(visit_codes.min()))
        best_change[i] = 100.0 * (sums[i, before].min() / baseline_mm[i] - 1.0)
    best_change = np.where(np.isnan(best_change), 100.0 * (sums[:, 0] / baseline_mm - 1.0), best_change)
    new_at_pd = progressed & new[np.arange(n), np.minimum(first_pd, visits - 1)]
    return Assessment(response, day.astype(float), progressed, best_change, new_at_pd)


def _confirmed(codes: np.ndarray, days: np.ndarray) -> np.ndarray:
    """A CR or PR stands only when the next visit, at least 28 days later, is as good."""
    out = codes.copy()
    for j in range(len(codes)):
        if codes[j] <= _ORDER["PR"]:
            later = [k for k in range(j + 1, len(codes)) if days[k] - days[j] >= 28]
            if not later or codes[later[0]] > _ORDER["PR"]:
                out[j] = _ORDER["SD"]
            elif codes[j] == _ORDER["CR"] and codes[later[0]] != _ORDER["CR"]:
                out[j] = _ORDER["PR"]
    return out


def _name(code: int) -> str:
    return next(k for k, v in _ORDER.items() if v == code)


def pathological_complete_response(cells_at_surgery: np.ndarray, threshold_cells: float) -> np.ndarray:
    """pCR: no more than ``threshold_cells`` residual invasive cells at surgery (ypT0/is)."""
    return np.asarray(cells_at_surgery, dtype=float) <= threshold_cells
