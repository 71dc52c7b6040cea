"""The expectations table: format, errors, and the shared literature findings."""

from __future__ import annotations

from pathlib import Path

import pytest

from her2sim.errors import ModelValidationError
from her2sim.her2.model import data_path, load_config
from her2sim.her2.scenario import Her2Simulator
from her2sim.her2.validation import parse_expectations, read_expectations, validate
from tests.conftest import SHARED

SHARED_TABLE = SHARED / "biology" / "expectations.tsv"
HEADER = "id\tcontext\ttherapy\texpected\tcompare_to\treadout\tconfidence\tsource\n"


@pytest.fixture(scope="module")
def sim() -> Her2Simulator:
    return Her2Simulator(load_config(samples=1000))


def test_shared_table_passes_at_least_90_percent(sim: Her2Simulator) -> None:
    table = SHARED_TABLE if SHARED_TABLE.exists() else data_path("expectations.tsv")
    results = validate(read_expectations(table, sim), sim)
    failing = results.loc[~results["passed"], ["id", "expected", "observed", "effect"]]
    assert results["passed"].mean() >= 0.9, failing.to_string()


def test_rows_are_judged_by_the_thresholds(sim: Her2Simulator) -> None:
    text = HEADER + (
        "A\tERBB2:amp\tlapatinib\tsensitive\t\tproliferation\tstrong\tx\n"
        "B\tERBB2:amp\tlapatinib\tresistant\t\tproliferation\tstrong\tx\n"
        "C\tERBB2:amp\ttrastuzumab+lapatinib\tstronger\ttherapy:trastuzumab\t\tstrong\tx\n"
        "D\tERBB2:amp; p95HER2\ttrastuzumab\tweaker\tcontext:ERBB2:amp\tpERK\tstrong\tx\n"
    )
    results = validate(parse_expectations(text, "t.tsv", sim), sim).set_index("id")
    assert results.loc["A", "passed"] and not results.loc["B", "passed"]
    assert results.loc["B", "observed"] == "sensitive"
    assert results.loc["C", "passed"] and results.loc["C", "compare_effect"] < results.loc["C", "effect"]
    assert results.loc["D", "readout"] == "pERK" and results.loc["D", "passed"]


def test_every_bad_row_is_reported_with_its_line(sim: Her2Simulator) -> None:
    text = HEADER + (
        "A\tERBB2:amp; KRAS:Q61X\ttrastuzumab\tsensitive\t\t\t\t\n"
        "B\tERBB2:amp\ttrastuzumab@3 parsecs\tsensitive\t\t\t\t\n"
        "C\tERBB2:amp\ttrastuzumab\tstronger\t\t\t\t\n"
        "D\tERBB2:amp\ttrastuzumab\tsensitive\t\tpHER9\t\t\n"
        "E\tERBB2:amp\ttrastuzumab\tgreat\t\t\t\t\n"
        "A\tERBB2:amp\ttrastuzumab\tsensitive\t\t\t\t\n"
    )
    with pytest.raises(ModelValidationError) as info:
        parse_expectations(text, "t.tsv", sim)
    problems = info.value.problems
    assert [p.split(":")[1] for p in problems] == ["2", "3", "4", "5", "6", "7"]
    assert "unknown alteration 'KRAS:Q61X'" in problems[0]
    assert "unknown unit" in problems[1]
    assert "compare_to" in problems[2] and "readout" in problems[3] and "expected" in problems[4]
    assert "duplicate id" in problems[5]


def test_missing_columns_are_an_error(tmp_path: Path, sim: Her2Simulator) -> None:
    path = tmp_path / "t.tsv"
    path.write_text("id\tcontext\n")
    with pytest.raises(Exception, match=r"t.tsv:1: missing column\(s\) therapy, expected"):
        read_expectations(path, sim)
