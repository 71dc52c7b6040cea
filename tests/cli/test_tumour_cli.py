"""``her2sim tumour`` driven as a user drives it."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from tests.cli.test_cli import PNG_SIGNATURE, assert_one_line_error, run, run_main, table_rows

YAML = """name: my tumour
cells: 5.0e8
doubling_time_days: 45
clones:
  - {name: main, fraction: 0.95, her2: "3+"}
  - {name: p95, fraction: 0.05, her2: "3+", alterations: [p95HER2]}
schedule:
  - {therapy: trastuzumab, start: 0}
  - {therapy: lapatinib, start: progression}
"""


def test_example_with_a_first_line_and_a_switch(tmp_path: Path) -> None:
    png, out = tmp_path / "t.png", tmp_path / "t.csv"
    result = run("tumour", "example:pik3ca_subclone", "-t", "trastuzumab+pertuzumab", "--then", "T-DXd",
                 "--days", "730", "--plot", png, "-o", out)  # fmt: skip
    rows = table_rows(result.output)
    assert rows["1"][0] == "trastuzumab+pertuzumab" and rows["1"][3] == "progression"
    assert rows["2"][0] == "T-DXd"
    assert "best response PR" in result.output and "time to progression" in result.output
    assert png.read_bytes().startswith(PNG_SIGNATURE)
    table = pd.read_csv(out)
    assert set(table.columns) == {"day", "clone", "cells", "fraction", "therapy"}
    assert set(table["therapy"]) == {"trastuzumab+pertuzumab", "T-DXd"}


def test_a_users_yaml_file_with_its_own_schedule(tmp_path: Path) -> None:
    spec = tmp_path / "mine.yaml"
    spec.write_text(YAML)
    result = run("tumour", spec, "--days", "400")
    assert "my tumour: 2 clones" in result.output
    assert "trastuzumab" in result.output


def test_bad_tumour_input_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(YAML.replace("0.95", "0.5"))
    assert_one_line_error(run_main("tumour", bad, cwd=tmp_path), "bad.yaml", "clones[].fraction", "sum to 1")
    bad.write_text(YAML.replace("p95HER2", "p96HER2"))
    assert_one_line_error(run_main("tumour", bad, cwd=tmp_path), "clones[1].alterations", "p95HER2")
    assert_one_line_error(run_main("tumour", "example:nope", cwd=tmp_path), "unknown example tumour")
    assert_one_line_error(run_main("tumour", "example:her2_low", "--then", "T-DXd", cwd=tmp_path), "--therapy")
    assert_one_line_error(run_main("tumour", "example:her2_low", "--days", "0", cwd=tmp_path), "days")
    assert_one_line_error(run_main("tumour", "example:her2_low", "--plot", "x.jpg", cwd=tmp_path), "x.jpg")
