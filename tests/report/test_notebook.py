"""Jupyter's view of a model and of a result: the content that matters, bounded in size."""

from __future__ import annotations

import re

import her2sim
from her2sim.examples import example_path
from her2sim.formats.bnet import parse_bnet
from her2sim.formats.maboss import read_maboss
from her2sim.report.notebook import MAX_ROWS


def cells(html: str) -> list[str]:
    return re.findall(r"<td>(.*?)</td>", html)


def test_model_shows_name_size_parameters_and_rules() -> None:
    model, _ = read_maboss(example_path("erbb_core"))
    html = model._repr_html_()
    assert "<b>erbb_core</b>: 9 nodes (2 inputs, 1 output), 1 parameter" in html
    assert "parameters: $k_dimer = 2" in html
    assert re.findall(r"<th[^>]*>([^<]+)</th>", html) == ["node", "rule", "rate_up", "rate_down", "P(on) at start"]
    row = cells(html)[10:15]  # HER2_HER3, the third node
    assert row == ["<b>HER2_HER3</b>", "HER2 &amp; (NRG1 | !AKT)", "@logic ? $k_dimer : 0", "@logic ? 0 : 1", "0.5"]
    assert cells(html)[:2] == ["<b>NRG1</b>", "input"]


def test_model_without_rates_has_no_rate_columns() -> None:
    html = parse_bnet("A, A\nB, !A")._repr_html_()
    assert "rate_up" not in html and "<td>!A</td>" in html


def test_a_large_model_shows_a_bounded_table_and_cut_rules() -> None:
    long_rule = " | ".join(f"N{i}" for i in range(100))
    text = "\n".join(f"N{i}, {long_rule}" for i in range(100))
    html = parse_bnet(text)._repr_html_()
    assert html.count("<tr>") == MAX_ROWS + 1  # header and the first rows
    assert f"… and {100 - MAX_ROWS} more nodes" in html
    assert max(len(c) for c in cells(html)) <= 100 and "…</td>" in html
    assert len(html) < 20_000


def test_result_shows_settings_last_probabilities_and_final_states() -> None:
    model, config = read_maboss(example_path("erbb_core"))
    result = her2sim.simulate(model, config.with_(sample_count=300, max_time=4.0, threads=1))
    html = result._repr_html_()
    assert "<b>erbb_core</b>: 300 trajectories to t = 4 (windows of 0.5), seed 1, 1 thread," in html
    assert "P(on) at t = 3.5" in html
    assert "<td>HER2</td>" in html and " 1.000</td>" in html  # HER2 starts on and stays on
    assert "likeliest final states (of " in html
    assert re.search(r"\d+ fixed points? reached by \d+\.\d% of trajectories", html)
    no_states = her2sim.simulate(model, config.with_(sample_count=50, max_time=2.0), states=False)._repr_html_()
    assert "final states" not in no_states
