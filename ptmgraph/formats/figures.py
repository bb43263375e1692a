"""Format: a :class:`~ptmgraph.result.Figure` drawn by matplotlib (Agg backend) as PNG or SVG bytes.

Output is reproducible: no creation date in either format, and SVG element ids come from a fixed salt.
"""

from __future__ import annotations

import io
from typing import Any, Literal

import matplotlib

matplotlib.use("Agg")  # no display: figures are files

import matplotlib.pyplot as plt
from matplotlib.ticker import StrMethodFormatter

from ptmgraph.formats.escaping import printable, xml_text
from ptmgraph.result import Figure

ImageKind = Literal["png", "svg"]

_STYLE: dict[Any, Any] = {  # keys are matplotlib rcParams names
    "figure.figsize": (7.5, 4.2),
    "figure.dpi": 110,
    "font.size": 10,
    "axes.titlesize": 12,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "svg.hashsalt": "ptmgraph",
    "svg.fonttype": "none",  # text stays text: searchable and sharp
}
_COLOUR = "#3b6ea8"
_LONG_LABEL = 36  # characters; longer category labels are shortened with an ellipsis


def figure_text(label: object) -> str:
    """Text for a figure (matplotlib), the figures' escaping: controls, bidi controls and what SVG cannot
    hold shown as escapes (:func:`~ptmgraph.formats.escaping.printable`,
    :func:`~ptmgraph.formats.escaping.xml_text`), and ``$`` escaped so that no label is read as mathtext."""
    return xml_text(printable(str(label))).replace("$", r"\$")


def _short(label: object) -> str:
    text = str(label)
    return figure_text(text if len(text) <= _LONG_LABEL else text[: _LONG_LABEL - 1] + "…")


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def render_figure(figure: Figure, kind: ImageKind) -> bytes:
    """The figure as PNG or SVG bytes."""
    with plt.rc_context(_STYLE):
        fig, ax = plt.subplots()
        try:
            if figure.kind == "bar":
                labels = [_short(x) for x in figure.x]
                horizontal = len(labels) > 8 or max((len(s) for s in labels), default=0) > 10
                if horizontal:  # long or many labels read best down the side, largest on top
                    bars = ax.barh(labels[::-1], figure.y[::-1], color=_COLOUR)
                    ax.set_xlabel(figure.ylabel)
                    ax.set_ylabel(figure.xlabel)
                    ax.grid(axis="y", visible=False)
                else:
                    bars = ax.bar(labels, figure.y, color=_COLOUR)
                    ax.set_xlabel(figure.xlabel)
                    ax.set_ylabel(figure.ylabel)
                    ax.grid(axis="x", visible=False)
                (ax.xaxis if horizontal else ax.yaxis).set_major_formatter(StrMethodFormatter("{x:,.0f}"))
                if len(labels) <= 20:
                    shown = figure.y[::-1] if horizontal else figure.y  # in the order the bars were drawn
                    ax.bar_label(bars, labels=[_number(v) for v in shown], padding=2, fontsize=8)
                    ax.margins(x=0.08) if horizontal else ax.margins(y=0.1)
            elif figure.kind == "loglog":
                points = [(x, y) for x, y in zip(figure.x, figure.y, strict=True) if x > 0 and y > 0]
                ax.scatter([x for x, _ in points] or [1], [y for _, y in points] or [1], s=18, color=_COLOUR,
                           alpha=0.8 if points else 0.0)  # an empty log axis still needs one positive point
                ax.set_xscale("log")
                ax.set_yscale("log")
                for axis in (ax.xaxis, ax.yaxis):  # 1, 10, 1,000 rather than 10^0, 10^1, 10^3
                    axis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
                ax.set_xlabel(figure.xlabel)
                ax.set_ylabel(figure.ylabel)
            elif figure.kind == "hist":
                ax.hist(figure.x, bins=min(40, max(5, len(set(figure.x)))), color=_COLOUR)
                ax.set_xlabel(figure.xlabel)
                ax.set_ylabel(figure.ylabel)
            else:
                raise ValueError(f"unknown figure kind {figure.kind!r}")
            ax.set_title(figure_text(figure.title))
            fig.tight_layout()
            buffer = io.BytesIO()
            metadata = {"Date": None} if kind == "svg" else {"Software": None}
            fig.savefig(buffer, format=kind, metadata=metadata)
            return buffer.getvalue()
        finally:
            plt.close(fig)
