"""Reading and writing files, shared by every layer: decoding, size limits, tab-separated
tables, atomic writes that never leave partial output behind.

YAML data files are read by :mod:`her2sim.formats.records`, which keeps each value's line.
Figures are written by :mod:`her2sim.report.figures`; this module knows nothing of plotting.
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import secrets
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from her2sim.errors import ModelFormatError

__all__ = [
    "MAX_MODEL_BYTES",
    "atomic_write",
    "check_file",
    "decode",
    "read_text",
    "replace_when_written",
    "tsv_rows",
    "write_table",
]

#: Largest model or configuration file read (the largest published logical models are < 5 MB).
MAX_MODEL_BYTES = 32 * 1024 * 1024


def decode(data: bytes, source: str) -> str:
    """Decode model text: UTF-8 (with or without BOM), else Latin-1 as MaBoSS files often are.

    Files that contain NUL bytes are binary, not models, and are refused.
    """
    if b"\x00" in data[:65536]:
        raise ModelFormatError("this is a binary file, not a model", source, hint="check the file name")
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def check_file(path: Path, limit: int, kind: str, hint: str | None = None) -> None:
    """One-line errors for a missing file, a directory, or a file over ``limit`` bytes.

    ``kind`` names what the file should be ("model file"); ``hint`` follows the size error.
    """
    source = str(path)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise ModelFormatError("no such file", source) from None
    except OSError as exc:
        raise ModelFormatError(f"cannot read: {exc.strerror}", source) from None
    if path.is_dir():
        raise ModelFormatError(f"is a directory, not a {kind}", source)
    if size > limit:
        raise ModelFormatError(
            f"file is {size / 1e6:.1f} MB, over the {limit // (1024 * 1024)} MiB limit for {kind}s", source, hint=hint
        )


def read_text(path: str | os.PathLike[str]) -> str:
    """Read a model file as text, with one-line errors for missing, huge or binary files."""
    p = Path(path)
    source = str(p)
    check_file(p, MAX_MODEL_BYTES, "model file", hint="is this really a model file?")
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise ModelFormatError(f"cannot read: {exc.strerror}", source) from None
    return decode(data, source)


def atomic_write(path: str | os.PathLike[str], content: str | bytes) -> None:
    """Write ``content`` to ``path`` through a temporary file and a rename, so a failure
    never leaves a partial file that looks complete (see :func:`replace_when_written`)."""
    data = content.encode("utf-8") if isinstance(content, str) else content
    with replace_when_written(path) as tmp:
        tmp.write_bytes(data)


@contextlib.contextmanager
def replace_when_written(path: str | os.PathLike[str]) -> Iterator[Path]:
    """A new temporary file beside ``path`` for the block to write; renamed to ``path`` when
    the block ends, removed when it fails, so no partial file ever looks complete.

    The file gets the permissions any tool's output gets (``0o666`` less the user's umask),
    not the private ``0o600`` of :func:`tempfile.mkstemp`.
    """
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = _new_temporary(p)
    os.close(fd)
    try:
        yield tmp
        os.replace(tmp, p)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _new_temporary(target: Path) -> tuple[int, Path]:
    """A new, exclusively created file beside ``target``, opened for writing with mode 0o666
    (which the operating system narrows by the umask)."""
    for _ in range(100):
        tmp = target.with_name(f".{target.name}.{secrets.token_hex(6)}.tmp")
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name beside {target}")


def write_table(table: Any, path: str | os.PathLike[str]) -> None:
    """Write a DataFrame as Parquet or CSV (by suffix) through :func:`atomic_write`."""
    target = Path(path)
    data = table.to_parquet(None, index=False) if target.suffix.lower() == ".parquet" else table.to_csv(index=False)
    atomic_write(target, data)


def tsv_rows(
    text: str, source: str, required: Sequence[str], columns: Sequence[str] = ()
) -> list[tuple[int, dict[str, str]]]:
    """The (line, values) rows of a tab-separated table with one header line; ``#`` lines are
    comments and blank lines are skipped. Every row has a value (``""`` when absent) for each of
    ``columns`` and of the header's.

    A missing required column, a column named twice and a row with more fields than the header
    (its values would land in the wrong columns) are ``file:line`` errors; missing trailing
    fields read as empty.
    """
    lines = [(n, line) for n, line in enumerate(text.splitlines(), start=1) if line.strip()]
    lines = [(n, line) for n, line in lines if not line.lstrip().startswith("#")]
    if not lines:
        raise ModelFormatError("the table is empty", source, hint=f"a header line with {', '.join(required)}")
    header_line, header_text = lines[0]
    header = [h.strip() for h in header_text.split("\t")]
    missing = [c for c in required if c not in header]
    if missing:
        raise ModelFormatError(f"missing column(s) {', '.join(missing)}", source, header_line,
                               hint=f"tab-separated, one header line: {', '.join(columns or required)}")  # fmt: skip
    duplicated = sorted({h for h in header if h and header.count(h) > 1})
    if duplicated:
        raise ModelFormatError(f"column {duplicated[0]!r} appears twice", source, header_line)
    rows = []
    for number, line in lines[1:]:
        fields = next(csv.reader(io.StringIO(line), delimiter="\t", quoting=csv.QUOTE_NONE))
        if len(fields) > len(header):
            raise ModelFormatError(f"{len(fields)} fields where the header has {len(header)}", source, number,
                                   hint="a stray tab shifts every value after it")  # fmt: skip
        values = {h: f.strip() for h, f in zip(header, fields, strict=False)}
        rows.append((number, {c: values.get(c, "") for c in {*columns, *header}}))
    return rows
