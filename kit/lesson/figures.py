"""Static output that reads the same with or without a kernel: SVG figures, HTML, full tables."""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

import altair as alt
import pandas as pd

from kit import charts
from kit.widgets import STYLE

e = html.escape


@dataclass
class Figure:
    """A chart rendered to SVG on the kernel: shows in JupyterLab, nbconvert and on GitHub alike."""

    svg: str
    title: str

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, str]:
        return {"image/svg+xml": self.svg, "text/plain": f"[chart] {self.title}"}


def figure(chart: alt.TopLevelMixin, scope: str) -> Figure:
    """Return ``chart`` as a static SVG figure; ``scope`` keeps its internal ids unique on the page."""
    title = chart.to_dict(validate=False).get("title", {})
    return Figure(charts.svg(chart, scope), title.get("text", "") if isinstance(title, dict) else str(title))


def _inline(chart: alt.TopLevelMixin, scope: str) -> str:
    return f'<div class="kit-chart">{charts.svg(chart, scope)}</div>'


def _page(*parts: str) -> str:
    return STYLE + '<div class="kit-app">' + "".join(parts) + "</div>"


def _row(*parts: str) -> str:
    return '<div style="display:flex;flex-wrap:wrap;gap:18px;align-items:flex-start">' + "".join(parts) + "</div>"


def table(df: pd.DataFrame) -> HTML:
    """Show a table in full (pandas' notebook view cuts long text at 50 characters)."""
    return HTML(_page(df.to_html(classes="kit-table", border=0, na_rep="-")))


class HTML:
    """Raw HTML output (an IPython-free display object)."""

    def __init__(self, text: str):
        self.text = text

    def __repr__(self) -> str:
        return "[HTML output: run in Jupyter to see it rendered]"

    def _repr_html_(self) -> str:
        return self.text


def show(text: str) -> HTML:
    """Wrap an HTML string from this module for display, styled like the app."""
    return HTML(text if text.startswith(STYLE) else _page(text))
