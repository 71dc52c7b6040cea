"""Pictures of a tumour simulation: burden over time and clone composition (Muller-style)."""

from __future__ import annotations

import os

from her2sim.formats._io import save_figure
from her2sim.tumour.dynamics import TumourResult

__all__ = ["plot_tumour"]


def plot_tumour(result: TumourResult, path: str | os.PathLike[str]) -> None:
    """Write a PNG: total burden (log scale, treatment lines shaded) above the clones' shares."""
    import matplotlib.pyplot as plt

    days = result.cells.index.to_numpy()
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 6.5), sharex=True, height_ratios=[1.1, 1])
    top.semilogy(days, result.burden.clip(lower=1).to_numpy(), color="black")
    colours = plt.get_cmap("tab10")
    for i, line in enumerate(result.lines.itertuples(index=False)):
        top.axvspan(line.start, line.stop, color=colours(i % 10), alpha=0.12, lw=0)
        top.text(line.start, 1.02, str(line.therapy), transform=top.get_xaxis_transform(), fontsize=8, va="bottom")
        if line.progression_day == line.progression_day:  # not NaN
            top.axvline(line.progression_day, color="red", ls="--", lw=1)
    top.set_ylabel("tumour cells")
    top.set_title(f"{result.tumour}: best response {result.best_response}", fontsize=10, pad=18)
    shares = result.fractions()
    bottom.stackplot(days, shares.to_numpy().T, labels=list(shares.columns), alpha=0.85)
    bottom.set_ylim(0, 1)
    bottom.set_xlabel("day")
    bottom.set_ylabel("share of the tumour")
    bottom.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    save_figure(fig, path, dpi=120)
