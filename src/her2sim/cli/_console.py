"""Where the commands print: one rich console for every command module."""

from __future__ import annotations

import sys

from rich.console import Console

__all__ = ["console"]

# Piped output (files, pipes, test runners) gets wide lines so tables are not wrapped mid-rule.
console = Console(soft_wrap=True, width=None if sys.stdout.isatty() else 200)
