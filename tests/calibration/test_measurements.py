"""Measurement and cell-line tables: what they mean, and every malformed row a located error."""

from __future__ import annotations

from pathlib import Path

import pytest

from her2sim.calibration.measurements import (
    from_expectations,
    parse_cell_lines,
    parse_measurements,
    read_tables,
    shipped_cell_lines,
    shipped_tables,
    unexpressed_report,
)
from her2sim.errors import ModelFormatError, ModelValidationError
from her2sim.her2.validation import parse_expectations

HEADER = "id\tkind\tcontext\tcell_line\ttherapy\treadout\tvalue\tsd\tresponse\tcompare_to\tsource\n"
LINES = "cell_line\tcontext\tnot_expressed\tsource\nBT-474\tERBB2:amp; ESR1:high\tPIK3CA:K111N\tsomeone 2020\n"


def table(*rows: str) -> str:
    return HEADER + "".join(r + "\n" for r in rows)


def test_every_kind_of_measurement_reads() -> None:
    lines = parse_cell_lines(LINES)
    rows = parse_measurements(
        table(
            "m1\teffect\tERBB2:amp\t\tlapatinib@250nM\t\t0.6\t0.05\t\t\tsomeone 2020",
            "m2\tclass\t\tBT-474\ttrastuzumab\t\t\t\tsensitive\t\tsomeone 2020",
            "m3\tratio\tERBB2:amp; PIK3CA:H1047R\t\ttrastuzumab+lapatinib\t\t0.5\t\t\tcontext:ERBB2:amp\tx 2021",
            "m4\tstronger\tERBB2:amp\t\tT-DXd\tapoptosis\t\t\t\ttherapy:T-DM1\ty 2022",
            "m5\tclass\tERBB2:amp\t\teverolimus\tpAKT\t\t\tincrease\t\tz 2006",
        ),
        "m.tsv",
        lines,
    )
    assert [r.kind for r in rows] == ["effect", "class", "ratio", "stronger", "class"]
    assert rows[0].sd == 0.05 and rows[2].sd == 0.1  # the default sd of a ratio
    assert rows[1].context.label == "ERBB2:amp; ESR1:high" and rows[1].cell_line == "BT-474"
    assert rows[2].compare_context is not None and rows[2].compare_context.label == "ERBB2:amp"
    assert rows[3].readout == "apoptosis" and rows[3].compare_regimen is not None
    assert rows[0].origin == "m.tsv:2"


@pytest.mark.parametrize(
    ("row", "fragment"),
    [
        ("m\tguess\tERBB2:amp\t\tlapatinib\t\t0.5\t\t\t\ts", "kind must be one of"),
        ("m\teffect\tERBB2:ampp\t\tlapatinib\t\t0.5\t\t\t\ts", "unknown alteration 'ERBB2:ampp'"),
        ("m\teffect\tERBB2:amp\t\tlapatinibb\t\t0.5\t\t\t\ts", "unknown therapy 'lapatinibb'"),
        ("m\teffect\tERBB2:amp\t\tlapatinib@3 furlongs\t\t0.5\t\t\t\ts", "unknown unit"),
        ("m\teffect\tERBB2:amp\t\tlapatinib\t\tlots\t\t\t\ts", "value must be a number"),
        ("m\teffect\tERBB2:amp\t\tlapatinib\t\t0.5\tinf\t\t\ts", "sd must be a finite number, not 'inf'"),
        ("m\teffect\tERBB2:amp\t\tlapatinib\t\t1.5\t\t\t\ts", "effect is a fraction from -1 to 1"),
        ("m\teffect\tERBB2:amp\t\tlapatinib\t\t\t\t\t\ts", "needs a value"),
        ("m\teffect\tERBB2:amp\t\tlapatinib\t\t0.5\t0\t\t\ts", "sd must be > 0"),
        ("m\tratio\tERBB2:amp\t\tlapatinib\t\t0.5\t\t\t\ts", "needs compare_to"),
        ("m\tratio\tERBB2:amp\t\tlapatinib\t\t-2\t\t\tcontext:ERBB2:low\ts", "ratio must be > 0"),
        ("m\tclass\tERBB2:amp\t\tlapatinib\t\t\t\tbrilliant\t\ts", "needs response"),
        ("m\teffect\tERBB2:amp\t\tlapatinib\t\t0.5\t\tsensitive\t\ts", "response is only used with kind class"),
        ("m\tclass\t\tMCF-7\tlapatinib\t\t\t\tsensitive\t\ts", "unknown cell line 'MCF-7'"),
        ("m\tclass\tERBB2:low\tBT-474\tlapatinib\t\t\t\tsensitive\t\ts", "differs from cell line BT-474"),
        ("m\tclass\t\t\tlapatinib\t\t\t\tsensitive\t\ts", "give a context or a cell_line"),
        ("m\tclass\tERBB2:amp\t\tlapatinib\tmood\t\t\tsensitive\t\ts", "unknown readout 'mood'"),
        ("m\tclass\tERBB2:amp\t\t\t\t\t\tsensitive\t\ts", "the therapy column is empty"),
    ],
)
def test_a_bad_row_names_its_file_line_and_problem(row: str, fragment: str) -> None:
    with pytest.raises(ModelValidationError, match=fragment) as caught:
        parse_measurements(table("ok\teffect\tERBB2:amp\t\tlapatinib\t\t0.5\t\t\t\ts", row), "m.tsv",
                           parse_cell_lines(LINES))  # fmt: skip
    assert "m.tsv:3: row m:" in str(caught.value)


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(ModelValidationError) as caught:
        parse_measurements(table("a\tguess\tERBB2:amp\t\tlapatinib\t\t0.5\t\t\t\ts",
                                 "a\teffect\tERBB2:ampp\t\tlapatinib\t\t0.5\t\t\t\ts"), "m.tsv")  # fmt: skip
    text = str(caught.value)
    assert "m.tsv:2" in text and "m.tsv:3" in text and "duplicate id" in text


@pytest.mark.parametrize(
    ("text", "fragment", "line"),
    [
        ("", "the table is empty", None),
        ("id\tkind\n", "missing column(s) therapy, source", 1),
        ("# comment\nid\tkind\ttherapy\tsource\tkind\n", "column 'kind' appears twice", 2),
        (HEADER, "the table has a header and no rows", 1),
        (table("m\teffect\tERBB2:amp\t\tlapatinib\t\t0.5\t\t\t\ts\textra"), "12 fields where the header has 11", 2),
    ],
)
def test_malformed_tables(text: str, fragment: str, line: int | None) -> None:
    with pytest.raises(ModelFormatError, match=fragment.replace("(", r"\(").replace(")", r"\)")) as caught:
        parse_measurements(text, "m.tsv")
    assert caught.value.source == "m.tsv" and caught.value.line == line


def test_cell_line_table_errors_and_the_report_of_what_a_context_leaves_out() -> None:
    lines = parse_cell_lines(LINES)
    assert unexpressed_report(lines.values()) == ["BT-474: context ERBB2:amp; ESR1:high leaves out PIK3CA:K111N"]
    with pytest.raises(ModelValidationError, match=r"c.tsv:3: .*unknown alteration 'PIK3CA:K111X'"):
        parse_cell_lines(LINES + "X\tPIK3CA:K111X\t\ts\n", "c.tsv")
    with pytest.raises(ModelValidationError, match=r"c.tsv:3: cell line 'bt-474' is listed twice"):
        parse_cell_lines(LINES + "bt-474\tERBB2:amp\t\ts\n", "c.tsv")
    with pytest.raises(ModelValidationError, match=r"has no source"):
        parse_cell_lines(LINES + "Y\tERBB2:amp\t\t\n", "c.tsv")


def test_expectation_rows_become_constraints() -> None:
    text = (
        "id\tcontext\ttherapy\texpected\tcompare_to\treadout\tconfidence\tsource\n"
        "E1\tERBB2:amp\tlapatinib\tsensitive\t\tproliferation\tstrong\ts\n"
        "E2\tERBB2:amp\tlapatinib+trastuzumab\tstronger\ttherapy:lapatinib\tproliferation\tstrong\ts\n"
    )
    rows = from_expectations(parse_expectations(text, "e.tsv"), "e.tsv")
    assert [(r.kind, r.response) for r in rows] == [("class", "sensitive"), ("stronger", "")]
    assert rows[1].compare_regimen is not None and rows[0].origin == "e.tsv:2"


def test_tables_are_told_apart_by_their_header(tmp_path: Path) -> None:
    measured = tmp_path / "m.tsv"
    measured.write_text(table("m1\teffect\tERBB2:amp\t\tlapatinib\t\t0.6\t\t\t\ts"))
    expected = tmp_path / "e.tsv"
    expected.write_text("id\tcontext\ttherapy\texpected\nE1\tERBB2:amp\tlapatinib\tsensitive\n")
    other = tmp_path / "o.tsv"
    other.write_text("a\tb\n1\t2\n")
    assert [r.id for r in read_tables([measured, expected])] == ["m1", "E1"]
    with pytest.raises(ModelFormatError, match="neither a measurement table"):
        read_tables([other])
    with pytest.raises(Exception, match="appears in more than one row"):
        read_tables([measured, measured])


def test_the_shipped_measurements_read() -> None:
    rows = read_tables(shipped_tables(), shipped_cell_lines())
    kinds = {r.kind for r in rows}
    assert {"class", "ratio", "stronger", "weaker"} <= kinds and len(rows) >= 50
