"""Pictures of a tumour simulation: burden over time and clone composition (Muller-style)."""

from __future__ import annotations

import math

from matplotlib.figure import Figure

from her2sim._figure_style import OKABE_ITO, new_figure, styled, wrapped
from her2sim.tumour.dynamics import TumourResult

__all__ = ["tumour_figure"]


@styled
def tumour_figure(result: TumourResult) -> Figure:
    """Total burden (log scale, each line of therapy shaded and named, progression dashed)
    above the clones' shares of the tumour, in Okabe-Ito colours.

    Examples
    --------
    >>> from her2sim.tumour.dynamics import simulate_tumour
    >>> from her2sim.tumour.spec import read_tumour
    >>> fig = tumour_figure(simulate_tumour(read_tumour("example:homogeneous_3plus"), 30))
    >>> [ax.get_ylabel() for ax in fig.axes], fig.axes[1].get_xlabel()
    (['tumour cells', 'share of the tumour'], 'day')
    """
    days = result.cells.index.to_numpy()
    fig = new_figure(figsize=(10, 7), layout="constrained")
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[1.1, 1])
    top.semilogy(days, result.burden.clip(lower=1).to_numpy(), color="black", lw=2)
    shades = OKABE_ITO[5], OKABE_ITO[4], OKABE_ITO[3], OKABE_ITO[2]
    for i, line in enumerate(result.lines.itertuples(index=False)):
        top.axvspan(line.start, line.stop, color=shades[i % len(shades)], alpha=0.15, lw=0)
        top.text(line.start, 1.01, f" {line.therapy}", transform=top.get_xaxis_transform(), fontsize=10,
                 va="bottom")  # fmt: skip
        if not math.isnan(line.progression_day):
            top.axvline(line.progression_day, color="black", ls="--", lw=1.5,
                        label="progression" if i == 0 else None)  # fmt: skip
    if top.get_legend_handles_labels()[0]:
        top.legend(loc="lower left", frameon=False)
    top.set_ylabel("tumour cells")
    fig.suptitle(wrapped(f"{result.tumour}: best response {result.best_response}", 80), x=0.01, ha="left")
    shares = result.fractions()
    colours = [OKABE_ITO[i % len(OKABE_ITO)] for i in range(shares.shape[1])]
    bottom.stackplot(days, shares.to_numpy().T, labels=list(shares.columns), colors=colours, alpha=0.9)
    bottom.set(ylim=(0, 1), xlim=(days[0], days[-1]), xlabel="day", ylabel="share of the tumour")
    bottom.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, title="clone", alignment="left")
    return fig
