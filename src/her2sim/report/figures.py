"""Writing matplotlib figures: rendered to bytes, or saved atomically by file suffix."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from her2sim.files import atomic_write

__all__ = ["figure_bytes", "save_figure"]


def figure_bytes(fig: Any, fmt: str = "png", dpi: int = 120, tight: bool = False) -> bytes:
    """A matplotlib figure rendered to bytes (PNG, SVG, ... by ``fmt``); the figure is closed."""
    import io

    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format=fmt, dpi=dpi, **({"bbox_inches": "tight"} if tight else {}))
    plt.close(fig)
    return buffer.getvalue()


def save_figure(fig: Any, path: str | os.PathLike[str], dpi: int = 120) -> None:
    """Write a matplotlib figure (format from the suffix) atomically, and close it."""
    target = Path(path)
    atomic_write(target, figure_bytes(fig, target.suffix.lstrip(".").lower() or "png", dpi))
