"""Progress of a long command on stderr: a bar on a terminal, log lines elsewhere.

Every command that runs for a while reports through :func:`progress`. On a terminal it is a
rich bar that vanishes when done. Elsewhere (a batch job, CI, a pipe) it is one line per
:data:`STEP` percent, with the time elapsed and an estimate of the time left; a job whose
work ends within :data:`QUIET` seconds of its first report prints nothing, so quick commands
keep a clean stderr. The
estimate counts from the first report, so work resumed from an earlier run (reported done at
once) does not make it look faster than it is.

``HER2SIM_PROGRESS`` overrides the choice: ``bar``, ``lines`` (from the first report, without
the quiet start) or ``off``.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Protocol

__all__ = ["QUIET", "STEP", "Update", "counting", "progress"]

#: Percent of the work between two log lines.
STEP = 5
#: Seconds from a job's first report to its first log line (``auto`` mode, not on a terminal).
QUIET = 2.0


class Update(Protocol):
    """Report (work done, work in all), with an optional note (the current step, a best loss)."""

    def __call__(self, done: int, total: int, note: str = "") -> None: ...


def _duration(seconds: float) -> str:
    """``45 s``, ``3 min 05 s``, ``2 h 04 min``.

    >>> _duration(4.2), _duration(185), _duration(7440)
    ('4 s', '3 min 05 s', '2 h 04 min')
    """
    s = round(seconds)
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s // 3600} h {s % 3600 // 60:02d} min"


class _Lines:
    """Log lines: one per :data:`STEP` percent and one at the end, from ``quiet`` seconds after
    the first report.

    >>> lines = _Lines("landscape", "cells", eta=True, quiet=0.0, write=print)
    >>> for done in (0, 1, 2, 30, 40):
    ...     lines(done, 40)
    her2sim: landscape:   0% (0/40 cells), 0 s elapsed
    her2sim: landscape:   5% (2/40 cells), 0 s elapsed, about 0 s left
    her2sim: landscape:  75% (30/40 cells), 0 s elapsed, about 0 s left
    her2sim: landscape: done, 40/40 cells in 0 s
    """

    def __init__(self, label: str, unit: str, eta: bool, quiet: float, write: Callable[[str], None]) -> None:
        self.label, self.unit, self.eta, self.quiet, self.write = label, unit, eta, quiet, write
        self.started = time.monotonic()
        self.first: tuple[float, int] | None = None  # (time, done) of the first report
        self.total = -1
        self.shown = -1  # the last step printed
        self.spoke = False

    def __call__(self, done: int, total: int, note: str = "") -> None:
        now = time.monotonic()
        if total != self.total or self.first is None:  # a new batch: a new baseline
            self.first, self.total, self.shown = (now, done), total, -1
        step = int(100 * done / total) // STEP if total > 0 else 0
        finished = total > 0 and done >= total
        if (step == self.shown and not finished) or (now - self.first[0] < self.quiet and not self.spoke):
            return
        self.shown, self.spoke = step, True
        counted = f"{done:,}/{total:,}{' ' + self.unit if self.unit else ''}"
        what = f", {note}" if note else ""
        elapsed = now - self.started
        if finished:
            self.write(f"her2sim: {self.label}: done, {counted}{what} in {_duration(elapsed)}")
            return
        percent = 100 * done / total if total > 0 else 0.0
        left = ""
        t0, d0 = self.first
        if self.eta and done > d0:
            left = f", about {_duration((now - t0) / (done - d0) * (total - done))} left"
        self.write(f"her2sim: {self.label}: {percent:3.0f}% ({counted}){what}, {_duration(elapsed)} elapsed{left}")


def _mode() -> str:
    """``bar``, ``lines``, ``quiet-lines`` (lines after :data:`QUIET` s) or ``off``."""
    chosen = os.environ.get("HER2SIM_PROGRESS", "auto").strip().lower()
    if chosen in ("bar", "lines", "off"):
        return chosen
    return "bar" if sys.stderr.isatty() else "quiet-lines"


@contextmanager
def progress(label: str, unit: str = "", *, eta: bool = True) -> Iterator[Update]:
    """Report the progress of ``label`` (counted in ``unit``) on stderr while the block runs.

    ``eta`` off leaves out the estimate of the time left, for steps of unequal cost (the
    sections of a report).
    """
    mode = _mode()
    if mode == "off":
        yield lambda done, total, note="": None
        return
    if mode != "bar":
        yield _Lines(label, unit, eta, QUIET if mode == "quiet-lines" else 0.0,
                     lambda line: print(line, file=sys.stderr, flush=True))  # fmt: skip
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    columns = [TextColumn(label), BarColumn(), MofNCompleteColumn(), TextColumn(unit)]
    columns += [TimeRemainingColumn()] if eta else []
    with Progress(*columns, TextColumn("{task.fields[note]}"), console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(label, total=None, note="")

        def update(done: int, total: int, note: str = "") -> None:
            bar.update(task, completed=done, total=total if total > 0 else None, note=note)

        yield update


def counting(update: Update, total: int) -> Callable[[int], None]:
    """An engine progress callback (``k`` more finished, from any thread) that reports running
    totals out of ``total`` to ``update``."""
    done, lock = 0, threading.Lock()

    def advance(k: int) -> None:
        nonlocal done
        with lock:
            done += k
            update(done, total)

    return advance
