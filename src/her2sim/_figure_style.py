"""The look shared by every figure: palette, colour maps, slide-sized text, cell labels.

Colours are the Okabe-Ito palette, which stays distinct under the common colour-vision
deficiencies (Okabe & Ito 2008, *Color Universal Design*); maps of a quantity are viridis
(sequential) and a blue-white-vermillion scale centred at zero (diverging), never a red-green
pair. Text is sized to be read on a projected slide.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, Any

from matplotlib import rc_context
from matplotlib.colors import LinearSegmentedColormap, to_rgb
from matplotlib.figure import Figure

if TYPE_CHECKING:
    from matplotlib.typing import RcKeyType

__all__ = [
    "DIVERGING",
    "OKABE_ITO",
    "OTHERS",
    "SEQUENTIAL",
    "STYLE",
    "cell_text",
    "ink_on",
    "new_figure",
    "styled",
    "wrapped",
]

#: Okabe-Ito colours, yellow last (it is faint on white).
OKABE_ITO = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442")
#: The grey of grouped or residual shares.
OTHERS = "#BBBBBB"
#: Sequential map of a quantity from 0 to 1 (an effect, an activity): perceptually even and
#: readable without colour vision.
SEQUENTIAL = "viridis"
#: Diverging map centred at zero: Okabe-Ito blue (negative) through white to vermillion
#: (positive); the two ends differ in lightness as well as hue.
DIVERGING = LinearSegmentedColormap.from_list("her2sim_diverging", ["#0072B2", "#FFFFFF", "#D55E00"])
#: Base font sizes for slides.
STYLE: dict[RcKeyType, Any] = {"font.size": 12, "axes.titlesize": 13, "axes.labelsize": 12, "xtick.labelsize": 11,
                                 "ytick.labelsize": 11, "legend.fontsize": 11, "axes.spines.top": False,
                                 "axes.spines.right": False}  # fmt: skip


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


def cell_text(value: float, digits: int = 2, signed: bool = False) -> str:
    """A heatmap cell's label: ``digits`` decimals, never ``-0.00`` (a value that rounds to zero
    is ``0.00``), with a ``+`` on positive values when ``signed``; empty for NaN.

    >>> cell_text(-0.001), cell_text(0.256), cell_text(0.256, signed=True), cell_text(-0.3, signed=True)
    ('0.00', '0.26', '+0.26', '-0.30')
    """
    if not math.isfinite(value):
        return ""
    rounded = round(value, digits)
    if rounded == 0:
        return f"{0:.{digits}f}"
    return f"{rounded:+.{digits}f}" if signed else f"{rounded:.{digits}f}"


def ink_on(colour: Any) -> str:
    """Black or white, whichever reads better on ``colour`` (by its relative luminance).

    >>> ink_on("#000000"), ink_on("#FFFFFF")
    ('white', 'black')
    """
    r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in to_rgb(colour))
    return "white" if 0.2126 * r + 0.7152 * g + 0.0722 * b < 0.18 else "black"


def wrapped(title: str, width: int = 60) -> str:
    """A title broken into lines of at most ``width`` characters, so it fits its figure.

    >>> wrapped("Effect of trastuzumab + alpelisib in ERBB2:amp; PIK3CA:H1047R", 40)
    'Effect of trastuzumab + alpelisib in\\nERBB2:amp; PIK3CA:H1047R'
    """
    return "\n".join(textwrap.wrap(title, width, break_on_hyphens=False)) if title else ""
