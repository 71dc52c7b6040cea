"""Located YAML documents: plain values, and the line of every key and item."""

from __future__ import annotations

from pathlib import Path

import pytest

from her2sim.errors import ModelFormatError
from her2sim.formats.records import dotted, parse_document, read_document

TEXT = "name: X\narms:\n  - name: A\n    doses: [1, 2]\n  - name: B\n"


def test_values_are_plain_and_every_path_has_its_line() -> None:
    doc = parse_document(TEXT, "d.yaml")
    assert doc.data == {"name": "X", "arms": [{"name": "A", "doses": [1, 2]}, {"name": "B"}]}
    assert doc.line(("arms", 1, "name")) == 5 and doc.line(("arms", 0, "doses", 1)) == 4
    assert doc.line(("arms", 1, "missing")) == 5  # a key that is not there: its parent's line
    assert dotted(("arms", 0, "doses", 1)) == "arms[0].doses[1]"


@pytest.mark.parametrize(
    ("text", "fragment", "line"),
    [
        ("a: 1\na: 2\n", "key 'a' appears twice", 2),
        ("a: [1, 2\n", "not valid YAML", 2),
        ("? [1, 2]\n: x\n", "expected a plain value", 1),
    ],
)
def test_malformed_documents_are_located(text: str, fragment: str, line: int) -> None:
    with pytest.raises(ModelFormatError, match=fragment) as caught:
        parse_document(text, "d.yaml")
    assert (caught.value.source, caught.value.line) == ("d.yaml", line)


def test_errors_name_the_path(tmp_path: Path) -> None:
    (tmp_path / "d.yaml").write_text(TEXT)
    doc = read_document(tmp_path / "d.yaml")
    error = doc.error(("arms", 0, "doses"), "unknown unit", "use mg")
    assert str(error) == f"{tmp_path / 'd.yaml'}:4: arms[0].doses: unknown unit (use mg)"
    assert parse_document("", "e.yaml").data is None
