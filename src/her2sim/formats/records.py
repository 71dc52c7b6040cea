"""YAML data files whose every value knows its line, so a data error names ``file:line``.

:func:`read_document` parses a YAML file into plain Python values (dicts, lists, strings,
numbers) and keeps, beside them, the line of every mapping key and list item by its path
(``("arms", 0, "schedule")``). Readers of data files (the HER2 libraries, experiment and
tumour files, trial designs, populations, PK models) check the plain values and report a
problem with :meth:`Document.error`, which locates it and names its path, or with
:meth:`Document.located`, which locates a message that names the entry its own way.

Examples
--------
>>> doc = parse_document("name: CLEOPATRA\\narms:\\n  - name: THP\\n    dose: 840 mg\\n", "t.yaml")
>>> doc.data["arms"][0]["dose"]
'840 mg'
>>> doc.line(("arms", 0, "dose"))
4
>>> str(doc.error(("arms", 0, "dose"), "unknown unit"))
't.yaml:4: arms[0].dose: unknown unit'
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from her2sim.errors import ModelFormatError
from her2sim.files import read_text

__all__ = ["Document", "Path", "parse_document", "read_document"]

#: A position in a document: mapping keys and list indices from the root.
Path = tuple[str | int, ...]


@dataclass(frozen=True)
class Document:
    """Plain data of a YAML file and the line of each value by its path."""

    data: Any
    source: str
    lines: dict[Path, int] = field(default_factory=dict)

    def line(self, path: Path) -> int | None:
        """The line of ``path``, or of its nearest ancestor that has one."""
        for depth in range(len(path), -1, -1):
            found = self.lines.get(tuple(path[:depth]))
            if found is not None:
                return found
        return None

    def error(self, path: Path, message: str, hint: str | None = None) -> ModelFormatError:
        """``file:line: a.b[2].c: message (hint)`` for a problem at ``path``."""
        where = dotted(path)
        return self.located(path, f"{where}: {message}" if where else message, hint)

    def located(self, path: Path, message: str, hint: str | None = None) -> ModelFormatError:
        """``file:line: message (hint)`` for a problem at ``path``, the message as written.

        For readers whose messages name the entry their own way (``ERBB2:amp: ...``,
        ``alteration #3 ...``) rather than by its path, as :meth:`error` does.

        >>> doc = parse_document("drugs:\\n  - name: d\\n    dose: 5\\n", "l.yaml")
        >>> str(doc.located(("drugs", 0, "dose"), "d: dose '5' has no unit"))
        "l.yaml:3: d: dose '5' has no unit"
        """
        return ModelFormatError(message, self.source, self.line(path), hint=hint)


def dotted(path: Sequence[str | int]) -> str:
    """``("arms", 0, "dose")`` -> ``arms[0].dose``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def parse_document(text: str, source: str = "<yaml>") -> Document:
    """Parse YAML text, keeping each value's line (YAML syntax errors are located too)."""
    import yaml

    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ModelFormatError(f"not valid YAML ({getattr(exc, 'problem', exc)})", source,
                               mark.line + 1 if mark is not None else None) from None  # fmt: skip
    lines: dict[Path, int] = {}
    if root is None:
        return Document(None, source, lines)
    data = _plain(root, (), lines, source)
    return Document(data, source, lines)


def read_document(path: str | os.PathLike[str]) -> Document:
    """Read a YAML data file (size, encoding and binary checks of :func:`read_text`)."""
    return parse_document(read_text(path), str(path))


def _plain(node: Any, path: Path, lines: dict[Path, int], source: str) -> Any:
    """Plain Python values of a composed YAML node, recording the line of each path."""
    import yaml

    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = _scalar(key_node, source)
            if not isinstance(key, (str, int, float, bool)) or key is None:
                raise ModelFormatError("a mapping key must be a plain value", source, key_node.start_mark.line + 1)
            key = str(key)
            if key in out:
                raise ModelFormatError(f"key {key!r} appears twice", source, key_node.start_mark.line + 1)
            out[key] = _plain(value_node, (*path, key), lines, source)
            lines[(*path, key)] = key_node.start_mark.line + 1
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_plain(item, (*path, i), lines, source) for i, item in enumerate(node.value)]
    return _scalar(node, source)


def _scalar(node: Any, source: str) -> Any:
    """A scalar node's value as PyYAML's safe loader reads it (numbers, booleans, null, text)."""
    import yaml

    if not isinstance(node, yaml.ScalarNode):
        raise ModelFormatError("expected a plain value here", source, node.start_mark.line + 1)
    return yaml.SafeLoader("").construct_object(node)
