"""``her2sim report``: one self-contained HTML file with every section."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from her2sim.her2.model import load_model
from her2sim.model.graph import signed_edges
from her2sim.report.diagram import layout_positions
from tests.cli.test_cli import assert_one_line_error, run, run_main

SECTIONS = ["Scenario", "Network", "Phenotype time courses", "Dose-response", "Resistance landscape", "Synergy",
            "Sensitivity", "Tumour", "Virtual trial: CLEOPATRA", "Validation against the literature",
            "Provenance"]  # fmt: skip


def test_report_is_self_contained_and_complete(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HER2SIM_CACHE", str(tmp_path / "responses"))
    monkeypatch.setenv("HER2SIM_PROGRESS", "lines")  # every section's line, however fast
    out = tmp_path / "report.html"
    result = run("report", "-o", out, "-n", "200", "-a", "ERBB2:amp", "-a", "PIK3CA:H1047R", "-t",
                 "trastuzumab+alpelisib", "--trial-patients", "12")  # fmt: skip
    progress = result.stderr.splitlines()
    assert progress[0].startswith("her2sim: report:   0% (0/9 sections), scenario, ")
    assert any(", landscape, " in line for line in progress) and "left" not in result.stderr  # no estimate
    assert progress[-1].startswith("her2sim: report: done, 9/9 sections in ")
    text = out.read_text()
    assert re.findall(r'<h2 id="s\d+">([^<]+)</h2>', text) == SECTIONS
    assert text.count("data:image/png;base64,") == 12  # the trial adds Kaplan-Meier, waterfall and spider plots
    assert "Published results of the trial" in text and "T05" in text  # CLEOPATRA's shipped rows
    assert not re.search(r"(src|href)=\"https?://", text)  # opens offline
    assert "ERBB2:amp; PIK3CA:H1047R under alpelisib + trastuzumab" in text or "trastuzumab + alpelisib" in text
    assert re.search(r"\d+ of 43 findings reproduced", text)


def test_report_refuses_a_non_html_name(tmp_path: Path) -> None:
    assert_one_line_error(run_main("report", "-o", "report.pdf", cwd=tmp_path), "report.pdf", "HTML")
    assert_one_line_error(run_main("report", "-t", "trastuzumabb", cwd=tmp_path), "trastuzumab")
    assert not (tmp_path / "report.html").exists()


def test_every_node_has_a_place_in_the_diagram_and_edges_are_signed() -> None:
    model = load_model()
    assert set(layout_positions()) == set(model.names)
    signs = {(a, b): s for a, b, s in signed_edges(model)}
    assert signs[("PTEN", "AKT")] == -1 and signs[("PI3K", "AKT")] == 1 and signs[("RB1", "E2F")] == -1


def test_trial_tables_keep_three_significant_figures_so_small_growth_rates_show() -> None:
    import numpy as np
    import pandas as pd

    from her2sim.report.build import _three_figures

    table = pd.DataFrame({"endpoint": ["median_g_per_day", "median_PFS_months", "ORR_pct"],
                          "value": [0.00069812, 18.6123, np.nan], "n": [450, 500, 3]})  # fmt: skip
    shown = _three_figures(table)
    assert shown["value"].iloc[:2].tolist() == [0.000698, 18.6] and np.isnan(shown["value"].iloc[2])
    assert shown["n"].tolist() == [450, 500, 3] and shown["n"].dtype == table["n"].dtype
