"""Figures shared by the command line and the report (matplotlib); write them with
:func:`her2sim.formats._io.save_figure`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

    from her2sim.experiments.doseresponse import DoseResponse
    from her2sim.her2.scenario import ScenarioResult

__all__ = [
    "dose_response_figure",
    "sensitivity_figure",
    "synergy_figure",
    "timecourse_figure",
]


def _pyplot() -> Any:
    import matplotlib.pyplot as plt

    return plt


def timecourse_figure(result: ScenarioResult) -> Any:
    """Proliferation and apoptosis over time, treated (solid) and untreated (dashed)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for (readout, condition), part in result.timecourse.groupby(["readout", "condition"], sort=False):
        if readout in ("proliferation", "apoptosis"):
            ax.plot(
                part["time"],
                part["probability"],
                "-" if condition == "treated" else "--",
                label=f"{readout}, {condition}",
            )
    ax.set(xlabel="time", ylabel="probability", ylim=(0, 1))
    ax.set_title(f"{result.context} | {result.regimen}", fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def dose_response_figure(curve: DoseResponse) -> Any:
    """Simulated effects and the fitted Hill curve, log dose."""
    plt = _pyplot()
    table = curve.table()
    positive = table[table["dose_nM"] > 0]
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.semilogx(positive["dose_nM"], positive["effect"], "o", label="simulated")
    if curve.fit.converged:
        grid = np.geomspace(positive["dose_nM"].min(), positive["dose_nM"].max(), 200)
        ax.semilogx(grid, curve.fit.predict(grid), "-", label=f"Hill fit, IC50 {curve.fit.ic50_nM:.3g} nM")
    ax.set(xlabel=f"{curve.therapy} (nM)", ylabel=f"effect on {curve.readout}")
    ax.set_title(curve.context, fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def synergy_figure(matrix: pd.DataFrame, title: str = "") -> Any:
    """Effect over a two-drug dose matrix (rows: drug 1 dose, columns: drug 2 dose)."""
    plt = _pyplot()
    grid = matrix.pivot_table(index="dose_1_nM", columns="dose_2_nM", values="effect")
    fig, ax = plt.subplots(figsize=(5.5, 4.5))
    image = ax.imshow(grid.to_numpy(), origin="lower", cmap="viridis", vmin=0, vmax=1)
    ax.set_xticks(range(grid.shape[1]), [f"{v:.3g}" for v in grid.columns], rotation=45, fontsize=8)
    ax.set_yticks(range(grid.shape[0]), [f"{v:.3g}" for v in grid.index], fontsize=8)
    ax.set(xlabel=f"{matrix['drug_2'].iloc[0]} (nM)", ylabel=f"{matrix['drug_1'].iloc[0]} (nM)")
    for (i, j), value in np.ndenumerate(grid.to_numpy()):
        ax.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=7, color="white" if value < 0.5 else "black")
    fig.colorbar(image, ax=ax, label="effect on proliferation")
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


def sensitivity_figure(indices: pd.DataFrame, title: str = "") -> Any:
    """A tornado plot (Morris mu* with its interval) or Sobol bars (first-order and total), top 15."""
    plt = _pyplot()
    top = indices.head(15).iloc[::-1]
    fig, ax = plt.subplots(figsize=(7, 0.35 * len(top) + 1.5))
    y = np.arange(len(top))
    if "mu_star" in top:
        ax.barh(y, top["mu_star"], xerr=top["mu_star_conf"], color="#4c72b0")
        ax.set_xlabel("Morris mu* (mean absolute elementary effect)")
    else:
        ax.barh(y + 0.2, top["ST"], height=0.4, xerr=top["ST_conf"], label="total (ST)", color="#c44e52")
        ax.barh(y - 0.2, top["S1"], height=0.4, xerr=top["S1_conf"], label="first order (S1)", color="#4c72b0")
        ax.set_xlabel("Sobol index")
        ax.legend(fontsize=8)
    ax.set_yticks(y, top["factor"], fontsize=8)
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig
