"""The her2sim exception family.

Every error a user can cause (a malformed file, an unknown name, an impossible setting) is a
:class:`Her2simError`. The command line turns one into a single ``stderr`` line and exit code 2;
any other exception escaping the library is a bug.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable

__all__ = [
    "ConfigError",
    "Her2simError",
    "Her2simWarning",
    "ModelFormatError",
    "ModelValidationError",
    "UnknownNameError",
    "closest",
    "finite_number",
    "location",
]


def location(source: str | None, line: int | None = None, col: int | None = None) -> str:
    """Format a ``source:line:col`` prefix, leaving out the parts that are unknown."""
    parts = [source or "<string>"]
    if line is not None:
        parts.append(str(line))
        if col is not None:
            parts.append(str(col))
    return ":".join(parts)


def finite_number(text: str, what: str) -> float:
    """``text`` as a finite float, or a :class:`ConfigError` saying that ``what`` must be one
    (a table cell or a command-line value: the caller adds where it came from)."""
    try:
        value = float(text)
    except ValueError:
        raise ConfigError(f"{what} must be a number, not {text!r}") from None
    if not math.isfinite(value):
        raise ConfigError(f"{what} must be a finite number, not {text!r}")
    return value


def closest(name: str, candidates: Iterable[str], n: int = 3) -> list[str]:
    """Return up to ``n`` candidates that look like ``name`` (case-insensitive)."""
    pool = list(candidates)
    lowered = {c.lower(): c for c in pool}
    hits = difflib.get_close_matches(name.lower(), list(lowered), n=n, cutoff=0.6)
    return [lowered[h] for h in hits]


class Her2simError(Exception):
    """Root of every error caused by user input."""


class ModelFormatError(Her2simError, ValueError):
    """A model or configuration file cannot be read.

    The message reads ``source:line:col: what is wrong (hint)``.
    """

    def __init__(
        self,
        message: str,
        source: str | None = None,
        line: int | None = None,
        col: int | None = None,
        hint: str | None = None,
    ) -> None:
        self.message = message
        self.source = source
        self.line = line
        self.col = col
        self.hint = hint
        text = f"{location(source, line, col)}: {message}"
        if hint:
            text += f" ({hint})"
        super().__init__(text)


class ModelValidationError(Her2simError, ValueError):
    """A model is structurally wrong: undefined names, bad rates, type errors.

    ``problems`` holds every problem found, so a user fixes them all in one pass.
    """

    def __init__(self, problems: list[str], source: str | None = None) -> None:
        self.problems = problems
        shown = "; ".join(problems[:5])
        more = f"; and {len(problems) - 5} more" if len(problems) > 5 else ""
        # problems read from a file already start with "file:line"; do not name the file twice
        located = bool(problems) and all(p.startswith(f"{source}:") for p in problems)
        prefix = f"{source}: " if source and not located else ""
        super().__init__(f"{prefix}{shown}{more}")


class UnknownNameError(Her2simError, KeyError):
    """A node, parameter, drug or alteration name that does not exist."""

    def __init__(self, kind: str, name: str, candidates: Iterable[str] = ()) -> None:
        self.kind = kind
        self.name = name
        self.suggestions = closest(name, candidates)
        text = f"unknown {kind} {name!r}"
        if self.suggestions:
            text += " (did you mean " + ", ".join(repr(s) for s in self.suggestions) + "?)"
        self.text = text
        super().__init__(text)

    def __str__(self) -> str:  # KeyError would add quotes around the message
        return self.text


class ConfigError(Her2simError, ValueError):
    """A simulation or experiment setting is impossible (negative time, zero samples, ...)."""


class Her2simWarning(UserWarning):
    """Something a user should know before or after a run that is not an error (a long run,
    statistics that were not all kept). The command line prints each as one ``warning:`` line."""
