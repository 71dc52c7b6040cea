"""``her2sim report``: one self-contained HTML file covering a scenario and the model's evidence.

Sections: the scenario's phenotypes, the pathway diagram coloured by activity (treated and
untreated), phenotype time courses, dose-response curves of each drug of the regimen, the
resistance landscape heatmap with each mechanism's rescue, a synergy map, the assumptions that
decide the therapy's effect (Morris screening), a tumour simulation
(burden and clone composition), a virtual trial (endpoints against the published results, the
mechanisms of progression) and the validation table. Every number is simulated when the
report is built, with the sample count given; the provenance section records it.
"""

from __future__ import annotations

import datetime as _dt
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from her2sim.her2.model import data_path
from her2sim.her2.settings import RunSettings
from her2sim.report.html import HtmlReport

if TYPE_CHECKING:
    from her2sim.trials.design import TrialDesign

__all__ = ["build_report"]

#: Called with (sections done, sections in all, the section starting).
Progress = Callable[[int, int, str], None]


def build_report(
    path: str | os.PathLike[str],
    alterations: str = "ERBB2:amp; PIK3CA:H1047R",
    therapy: str = "trastuzumab+pertuzumab",
    *,
    samples: int = 1000,
    tumour: str = "example:pik3ca_subclone",
    validation_table: str | os.PathLike[str] | None = None,
    progress: Progress | None = None,
    ensemble: int = 0,
    trial: str | None = "CLEOPATRA",
    trial_patients: int = 200,
) -> None:
    """Simulate and write the report for ``alterations`` under ``therapy``; with ``ensemble``
    members of the calibrated posterior, the scenario and the validation also carry credible
    intervals and the share of the ensemble behind each call. ``trial`` (a shipped design, or
    None) adds a virtual trial of ``trial_patients`` patients per arm. ``progress`` hears of
    each section as it starts, and of the end (``done``)."""
    from her2sim import __version__
    from her2sim.experiments.cells import evaluate_cells
    from her2sim.experiments.combinations import combination_cells, score_matrix
    from her2sim.experiments.doseresponse import dose_response
    from her2sim.experiments.landscape import landscape_cells, landscape_spec, rescues
    from her2sim.experiments.sensitivity import Target, her2_space, morris
    from her2sim.her2.ensemble import members as posterior_members
    from her2sim.her2.ensemble import scenario_ensemble, validate_ensemble
    from her2sim.her2.roles import roles
    from her2sim.her2.scenario import Her2Simulator
    from her2sim.her2.validation import read_expectations, validate
    from her2sim.report.diagram import network_activity_figure
    from her2sim.report.plots import (
        dose_response_figure,
        landscape_figure,
        sensitivity_figure,
        synergy_figure,
        timecourse_figure,
    )
    from her2sim.tumour.dynamics import simulate_tumour
    from her2sim.tumour.plots import tumour_figure
    from her2sim.tumour.spec import Line, read_tumour

    sections = ["scenario", *(["ensemble"] if ensemble else []), "network", "dose-response", "landscape", "synergy",
                "sensitivity", "tumour", *(["trial"] if trial else []), "validation"]  # fmt: skip

    def say(section: str) -> None:
        if progress is not None and section in sections:
            progress(sections.index(section), len(sections), section)
        elif progress is not None:  # the end
            progress(len(sections), len(sections), "")

    own_drugs = roles().report  # the synergy partners and the therapy at progression
    settings = RunSettings(samples=samples)
    sim = Her2Simulator(settings.config())
    regimen = sim.regimen(therapy)
    tumour_spec = read_tumour(tumour)  # read everything the user named before simulating
    trial_design = _trial_design(trial)
    table_path = validation_table or data_path("expectations.tsv")
    rows = read_expectations(table_path, sim)
    doc = HtmlReport(f"her2sim report: {sim.context(alterations).label} under {regimen.label}")
    say("scenario")
    result = sim.run(alterations, regimen)
    doc.heading("Scenario")
    intro = f"Context {result.context}; therapy {result.therapy}."
    doc.text(f"{intro} Steady-state readouts (mean over the second half of the run) with standard errors, "
             "and the effect against the context untreated.")  # fmt: skip
    doc.table(result.summary.reset_index())
    on = result.still_on()
    doc.text(f"Growth index {result.growth_index:.3f}. Signalling left on under treatment: "
             + (", ".join(on.index) or "none") + ".")  # fmt: skip
    if ensemble:
        say("ensemble")
        members = posterior_members(ensemble)
        spread = scenario_ensemble(alterations, therapy, members, settings=settings)
        doc.text(f"Over {ensemble} members of the calibrated posterior: medians with 90% credible intervals "
                 "(low, high), and the share of the ensemble calling each class.")  # fmt: skip
        doc.table(spread.reset_index().round(3))

    say("network")
    doc.heading("Network")
    for condition in ("treated", "untreated"):
        activity = network_activity_figure(result.nodes[condition], f"{result.context}: {condition}")
        doc.figure(activity, f"Node activity, {condition}")

    doc.heading("Phenotype time courses")
    doc.figure(timecourse_figure(result), "Proliferation and apoptosis over time")

    say("dose-response")
    doc.heading("Dose-response")
    fits = []
    for drug, _ in regimen.doses:
        curve = dose_response(alterations, drug.name, settings=settings)
        doc.figure(dose_response_figure(curve), f"{drug.name} in {curve.context}")
        fits.append({"therapy": drug.name, **curve.fit.as_dict()})
    if fits:
        doc.table(pd.DataFrame(fits))

    say("landscape")
    spec = landscape_spec()
    table = evaluate_cells(landscape_cells(spec), settings=settings, readouts=("proliferation",))
    doc.heading("Resistance landscape")
    doc.figure(landscape_figure(table), "Effect of each therapy (columns) on each mechanism (rows)")
    doc.table(rescues(table))

    say("synergy")
    pair = own_drugs.synergy_pair([d.name for d, _ in regimen.doses])
    matrix = evaluate_cells(combination_cells([alterations], pair, 4), settings=settings, readouts=("proliferation",))
    doc.heading("Synergy")
    scores = score_matrix(matrix)
    doc.figure(synergy_figure(matrix, f"{pair[0]} x {pair[1]} in {result.context}"),
               "Effect over the dose matrix, and its excess over Bliss independence")  # fmt: skip
    doc.table(scores)

    say("sensitivity")
    doc.heading("Sensitivity")
    target = Target(alterations, therapy)
    screened = morris(
        her2_space().for_target(target), target, trajectories=4, settings=settings.with_(samples=min(samples, 500))
    )
    doc.figure(sensitivity_figure(screened, f"Effect of {regimen.label}: Morris screening"),
               "Assumptions that move the therapy's effect most (declared space, spread 3)")  # fmt: skip
    doc.table(screened.head(10))

    say("tumour")
    doc.heading("Tumour")
    lines = (Line(therapy, 0.0), Line(own_drugs.next_line, "progression"))
    course = simulate_tumour(tumour_spec.with_schedule(lines), 730, simulator=sim)
    doc.figure(tumour_figure(course), f"{course.tumour}: {therapy}, then {own_drugs.next_line} at progression")
    doc.table(course.lines)
    doc.text(f"Best response {course.best_response}; time to progression {course.time_to_progression:g} days.")

    if trial_design is not None:
        say("trial")
        _trial_section(doc, trial_design, trial_patients, min(samples, 200))

    say("validation")
    checked = validate(rows, sim)
    doc.heading("Validation against the literature")
    passed = int(checked["passed"].sum())
    doc.text(f"{passed} of {len(checked)} findings reproduced ({Path(table_path).name}).")
    shown = checked.assign(result=checked["passed"].map({True: "pass", False: "FAIL"})).drop(columns="passed")
    if ensemble:
        shares = validate_ensemble(rows, members, settings=settings)[["id", "pass_share"]]
        shown = shown.merge(shares, on="id")
        robust = int((shares["pass_share"] >= 0.9).sum())
        doc.text(f"{robust} of {len(shares)} findings pass in at least 90% of {ensemble} posterior members.")
    doc.table(shown, classes={"pass": "pass", "FAIL": "fail"})

    doc.heading("Provenance")
    stamp = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
    doc.text(f"her2sim {__version__}; {samples} trajectories per scenario, seed {sim.config.seed}; built {stamp}.",
             note=True)  # fmt: skip
    doc.write(path)
    say("done")


def _trial_design(name: str | None) -> TrialDesign | None:
    from her2sim.trials.design import design

    return None if name is None else design(name)


def _three_figures(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with its numbers to three significant figures: a growth rate of 0.0007 per day
    and a median of 18.6 months both stay readable, where rounding to decimals zeroes the first."""
    numbers = table.select_dtypes("floating").columns
    return table.assign(**{c: table[c].map(lambda x: float(f"{x:.3g}")) for c in numbers})


def _trial_section(doc: HtmlReport, trial: TrialDesign, patients: int, samples: int) -> None:
    """A virtual trial: endpoints per arm, published rows of the trial against the simulation,
    Kaplan-Meier, waterfall and spider plots, and what drove progression."""
    from her2sim.trials.plots import km_figure, spider_figure, waterfall_figure
    from her2sim.trials.published import resolve_trials_table, shipped_table
    from her2sim.trials.simulate import TrialSettings, run_trial
    from her2sim.trials.validate import compare

    result = run_trial(trial, TrialSettings(patients=patients, samples=samples))
    doc.heading(f"Virtual trial: {trial.name}")
    doc.text(f"{trial.title}. {patients} virtual patients per arm, drawn from the population "
             f"{trial.population!r} and the trial's eligibility; drugs at their population PK, the cell model's "
             "response read on precomputed tables, tumours as a main clone and a resistant subclone; "
             "population-level parameters from the shipped trial fit.")  # fmt: skip
    doc.table(_three_figures(result.summary[result.summary["subgroup"] == "all"]))
    published = [r for r in resolve_trials_table(shipped_table()) if r.design.name == trial.name]
    if published:
        compared = compare(published, result.patients)
        doc.text("Published results of the trial (shipped table) against this simulation; within: inside the "
                 "tolerance (10 points, 30% of a median, 0.15 of a hazard ratio).")  # fmt: skip
        doc.table(compared.drop(columns=["source"]).round(3))
    patients_table = result.patients
    if "pfs_months" in patients_table:
        doc.figure(km_figure(patients_table), "Progression-free survival by arm")
        doc.figure(waterfall_figure(patients_table), "Best change of the sum of diameters per patient")
        doc.figure(spider_figure(patients_table), "Change of the sum of diameters over time per patient")
        drivers = patients_table[patients_table["progressed"]].groupby(["arm", "mechanism"]).size()
        doc.text("What the largest clone was when each tumour progressed:")
        doc.table(drivers.rename("patients").reset_index())
    for note in result.notes:
        doc.text(note, note=True)
