"""The look shared by the figures of a simulation and of a model's graph.

Colours are the Okabe-Ito palette, which stays distinct under the common colour-vision
deficiencies (Okabe & Ito 2008, *Color Universal Design*); text is sized to be read on a
projected slide.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from matplotlib import rc_context
from matplotlib.figure import Figure

__all__ = ["OKABE_ITO", "OTHERS", "STYLE", "new_figure", "styled"]

#: Okabe-Ito colours, yellow last (it is faint on white).
OKABE_ITO = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442")
#: The grey of grouped or residual shares.
OTHERS = "#BBBBBB"
#: Base font sizes for slides.
STYLE = {"font.size": 12, "axes.titlesize": 13, "axes.labelsize": 12, "xtick.labelsize": 11, "ytick.labelsize": 11,
         "legend.fontsize": 11, "axes.spines.top": False, "axes.spines.right": False}  # fmt: skip


def styled(build: Callable[..., Figure]) -> Callable[..., Figure]:
    """Build the figure under :data:`STYLE`, without touching the caller's rcParams."""

    @wraps(build)
    def wrapper(*args: Any, **kwargs: Any) -> Figure:
        with rc_context(STYLE):
            return build(*args, **kwargs)

    return wrapper


def new_figure(**kwargs: Any) -> Figure:
    """A matplotlib figure that pyplot does not keep.

    It is made through pyplot, then closed at once: making it loads the backend, which in a
    notebook is the one that registers how a returned figure is shown (a figure made without
    pyplot prints as ``<Figure size ...>`` there); closing it means pyplot neither keeps it
    (no leak over many figures) nor shows it a second time at the end of the cell.
    """
    import matplotlib.pyplot as plt

    fig: Figure = plt.figure(**kwargs)
    plt.close(fig)
    return fig
