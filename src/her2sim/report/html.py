"""A self-contained HTML document: headings, paragraphs, tables and embedded PNG figures.

Figures are embedded as base64 data URIs and the style sheet is inline, so the file opens
offline, can be mailed, and holds no link to fetch.

Examples
--------
>>> import pandas as pd
>>> doc = HtmlReport("demo")
>>> doc.heading("Numbers"); doc.table(pd.DataFrame({"a": [1.23456]}))
>>> '<h2 id="s1">Numbers</h2>' in doc.render() and "<td>1.235</td>" in doc.render()
True
"""

from __future__ import annotations

import base64
import html
import os
from pathlib import Path
from typing import Any

import pandas as pd

from her2sim.files import atomic_write
from her2sim.report.figures import figure_bytes

__all__ = ["HtmlReport"]

_STYLE = """
body { font-family: system-ui, -apple-system, 'Segoe UI', sans-serif; margin: 2em auto; max-width: 1150px;
       color: #222; line-height: 1.45; padding: 0 1em; }
h1 { font-size: 1.7em; margin-bottom: 0.2em; } h2 { margin-top: 2em; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; font-size: 0.85em; margin: 0.8em 0; }
th, td { border: 1px solid #ddd; padding: 3px 7px; text-align: right; }
th { background: #f3f3f3; } td:first-child, th:first-child { text-align: left; }
img { max-width: 100%; border: 1px solid #eee; margin: 0.5em 0; }
.note { color: #555; font-size: 0.9em; } .pass { color: #1a7f37; } .fail { color: #c62828; font-weight: bold; }
nav a { margin-right: 1em; }
"""


class HtmlReport:
    """Collects sections and writes them as one HTML file."""

    def __init__(self, title: str) -> None:
        self.title = title
        self._parts: list[str] = []
        self._toc: list[tuple[str, str]] = []

    def heading(self, text: str) -> None:
        anchor = f"s{len(self._toc) + 1}"
        self._toc.append((anchor, text))
        self._parts.append(f'<h2 id="{anchor}">{html.escape(text)}</h2>')

    def text(self, text: str, note: bool = False) -> None:
        cls = ' class="note"' if note else ""
        self._parts.append(f"<p{cls}>{html.escape(text)}</p>")

    def table(self, frame: pd.DataFrame, classes: dict[str, Any] | None = None, digits: int = 3) -> None:
        shown = frame.copy()
        for column in shown.columns:
            if pd.api.types.is_float_dtype(shown[column]):
                shown[column] = shown[column].map(lambda v: "" if pd.isna(v) else f"{v:.{digits}f}")
        body = shown.to_html(index=False, escape=True, border=0)
        for word, cls in (classes or {}).items():
            body = body.replace(f"<td>{word}</td>", f'<td class="{cls}">{word}</td>')
        self._parts.append(body)

    def figure(self, source: Any, caption: str = "") -> None:
        """Embed a matplotlib figure or a PNG file."""
        if isinstance(source, (str, os.PathLike)):
            data = Path(source).read_bytes()
        else:
            data = figure_bytes(source, "png", dpi=110, tight=True)
        encoded = base64.b64encode(data).decode("ascii")
        alt = html.escape(caption or "figure")
        self._parts.append(f'<figure><img alt="{alt}" src="data:image/png;base64,{encoded}">'
                           f"<figcaption class=\"note\">{html.escape(caption)}</figcaption></figure>")  # fmt: skip

    def render(self) -> str:
        toc = " ".join(f'<a href="#{a}">{html.escape(t)}</a>' for a, t in self._toc)
        return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                f"<title>{html.escape(self.title)}</title><style>{_STYLE}</style></head><body>"
                f"<h1>{html.escape(self.title)}</h1><nav>{toc}</nav>"
                f"{''.join(self._parts)}</body></html>\n")  # fmt: skip

    def write(self, path: str | os.PathLike[str]) -> None:
        atomic_write(Path(path), self.render())
