"""The class report's plots, drawn with matplotlib and returned as inline SVG (no pyplot, no files).

Why matplotlib: it is already installed (fastai depends on it), it writes vector SVG without a
browser or a server, and with ``svg.fonttype = none`` its text stays real ``<text>`` elements that
matplotlib XML-escapes itself, so a student id on an axis is text, never markup (labels are also
cleaned by :func:`.safe_text.one_line` and never parsed as mathtext). Plots are drawn on
:class:`matplotlib.figure.Figure` objects with the SVG canvas: no pyplot, no global figure
registry. matplotlib is imported when the first plot is drawn, so grading never pays for it.

matplotlib spends its time making axes and ticks and laying out their text (about 20-80 ms per
figure, more than everything else in the report), so a :class:`Plotter` makes each kind of figure
once per report and only swaps the data for the next exercise, titles are left to the page's
headings, and tick labels are few.

Every method returns an ``<svg>`` element ready for HTML: the XML prolog and metadata are dropped
and every id is prefixed with the plot's ``key``, so that several plots in one page never share an
id (matplotlib names its clip paths and markers per figure).
"""

from __future__ import annotations

import contextlib
import html
import io
import re
import typing as t
import warnings

from . import safe_text

if t.TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["CELL_COLORS", "CELL_STATES", "KIND_COLORS", "Plotter", "plain"]

#: The states of a heatmap cell (one student, one check function), in the colour map's order.
CELL_STATES = ("none", "passed", "partly", "failed", "skipped")
#: Okabe-Ito colours (readable with the common colour-vision deficiencies), one per cell state.
CELL_COLORS = {"none": "#f2f2f2", "passed": "#009e73", "partly": "#e69f00", "failed": "#d55e00",
               "skipped": "#b8b8b8"}
#: One colour per failure kind (:data:`grader.results.KINDS`).
KIND_COLORS = {"wrong": "#d55e00", "exception": "#cc79a7", "import": "#f0e442", "timeout": "#e69f00",
               "crash": "#444444", "rule": "#0072b2", "missing": "#b8b8b8"}
_SCORE_COLOR, _TIME_COLOR = "#0072b2", "#56b4e9"
#: The report's matplotlib settings; artists read them when they are made, the SVG writer when it draws.
_RC = {"svg.fonttype": "none", "svg.hashsalt": "dl-grader", "text.parse_math": False, "font.size": 8,
       "axes.labelsize": 8, "axes.titley": 1.0, "axes.spines.top": False, "axes.spines.right": False,
       "font.family": "sans-serif", "font.sans-serif": ["DejaVu Sans", "Arial", "Helvetica"],
       "xtick.labelsize": 7.5, "ytick.labelsize": 7.5}
_TAG = re.compile(r"<[^<>]+>")
#: Width of the heatmap and of the other figures, in inches (about a laptop's text column).
WIDTH = 9.0


def plain(value: object, limit: int = 60) -> str:
    """``value`` as one line of text for a plot label: no control or bidi characters, at most ``limit``."""
    one = safe_text.one_line(str(value))
    return one if len(one) <= limit else one[:limit - 1] + "…"


@contextlib.contextmanager
def _style() -> t.Iterator[None]:
    import matplotlib

    with matplotlib.rc_context(_RC), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"Glyph \d+ .*missing from")  # a label's odd character
        yield


class Plotter:
    """Draws the plots of one report; each kind of figure is made once and reused for every exercise."""

    def __init__(self, decimal: str = ".") -> None:
        #: How numbers on the axes are written: ``","`` for German (``2,5 s``).
        self.decimal = decimal
        self._distribution: tuple[t.Any, ...] | None = None
        self._heatmap: tuple[t.Any, ...] | None = None

    def distribution(self, key: str, scores: t.Sequence[float], max_score: float, seconds: t.Sequence[float], *,
                     label: str, score_label: str, time_label: str, students_label: str) -> str:
        """Two histograms side by side: the points the students scored, and the seconds grading took."""
        import numpy as np

        with _style():
            if self._distribution is None:
                fig = _figure(WIDTH, 1.9)
                left, right = fig.subplots(1, 2)
                fig.subplots_adjust(left=0.07, right=0.985, bottom=0.25, top=0.95, wspace=0.22)
                bars = []
                for ax, color in ((left, _SCORE_COLOR), (right, _TIME_COLOR)):
                    bars.append(ax.stairs([0], [0, 1], fill=True, color=color, edgecolor="white"))
                    _few_ticks(ax.yaxis, integer=True)
                    for axis in (ax.xaxis, ax.yaxis):
                        axis.set_major_formatter(self._number)
                    ax.tick_params(axis="y", left=False)
                    ax.xaxis.set_label_coords(0.5, -0.19)  # placed by hand: matplotlib's placement measures every label
                left.yaxis.set_label_coords(-0.075, 0.5)
                self._distribution = (fig, left, right, *bars)
            fig, left, right, score_bars, time_bars = self._distribution
            top = max(max_score, max(scores, default=0.0), 1e-9)
            step = _step([*scores, top])
            if step:  # one bar per possible score, centred on it
                counts, edges = np.histogram(scores, bins=np.arange(-step / 2, top + step, step))
            else:
                counts, edges = np.histogram(np.clip(scores, 0, top), bins=10, range=(0, top))
            _few_ticks(left.xaxis, integer=step == 1)
            _fill(left, score_bars, counts, edges, plain(score_label, 80), students_label)
            longest = max(max(seconds, default=0.0), 1e-3)
            counts, edges = np.histogram(np.clip(seconds, 0, longest), bins=12, range=(0, longest))
            _few_ticks(right.xaxis, integer=False)
            _fill(right, time_bars, counts, edges, plain(time_label, 80), "")
            return _svg(fig, key, label)

    def heatmap(self, key: str, states: t.Sequence[t.Sequence[int]], checks: t.Sequence[str],
                students: t.Sequence[str] | None, *, label: str, students_label: str) -> str:
        """Checks (rows) by students (columns), each cell one :data:`CELL_STATES` index.

        ``students`` labels the columns (a small class); ``None`` numbers them 1..n instead, as in
        the report's table of students (a large class: 200 names would be unreadable).
        """
        import numpy as np

        rows, cols = len(checks), len(states[0]) if states else 0
        names = [plain(c, 44) for c in checks]
        column_room = (max((len(plain(s, 24)) for s in students), default=2) * 0.055 + 0.25) if students else 0.38
        label_room = max((len(n) for n in names), default=4) * 0.058 + 0.2
        height = rows * 0.19 + 0.12 + column_room
        with _style():
            if self._heatmap is None:
                from matplotlib.colors import BoundaryNorm, ListedColormap

                fig = _figure(WIDTH, height)
                ax = fig.add_axes((0.2, 0.2, 0.7, 0.7))
                cmap = ListedColormap([CELL_COLORS[s] for s in CELL_STATES])
                norm = BoundaryNorm(np.arange(len(CELL_STATES) + 1) - 0.5, cmap.N)
                image = ax.imshow(np.zeros((1, 1)), cmap=cmap, norm=norm, aspect="auto", interpolation="none")
                ax.tick_params(left=False, bottom=False)
                for side in ("left", "bottom"):
                    ax.spines[side].set_visible(False)
                across = ax.hlines([], 0, 1, colors="white", linewidth=1.2)
                down = ax.vlines([], 0, 1, colors="white", linewidth=0.8)
                self._heatmap = (fig, ax, image, across, down)
            fig, ax, image, across, down = self._heatmap
            fig.set_size_inches(WIDTH, height)
            ax.set_position((label_room / WIDTH, column_room / height, 1 - (label_room + 0.1) / WIDTH,
                             1 - (column_room + 0.08) / height))
            image.set_data(np.asarray(states, dtype=float).reshape(rows, cols))
            image.set_extent((-0.5, cols - 0.5, rows - 0.5, -0.5))
            ax.set_xlim(-0.5, cols - 0.5)
            ax.set_ylim(rows - 0.5, -0.5)
            ax.set_yticks(range(rows), names)
            across.set_segments([((-0.5, y), (cols - 0.5, y)) for y in np.arange(rows - 1) + 0.5])
            if students is not None:
                ax.set_xticks(range(cols), [plain(s, 24) for s in students], rotation=90)
                down.set_segments([((x, -0.5), (x, rows - 0.5)) for x in np.arange(cols - 1) + 0.5])
            else:
                step = next(n for n in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, cols) if n * 5 >= cols)
                ticks = [0, *range(step - 1, cols, step)] if step > 1 else list(range(cols))
                ax.set_xticks(ticks, [str(i + 1) for i in ticks], rotation=0)
                down.set_segments([])
            ax.set_xlabel(students_label)
            ax.xaxis.set_label_coords(0.5, -(column_room - 0.1) / (height - column_room - 0.08))  # in axes units
            return _svg(fig, key, label)

    def kinds(self, key: str, exercises: t.Sequence[str], counts: t.Mapping[tuple[str, str], int],
              kind_labels: t.Mapping[str, str], *, label: str, count_label: str) -> str:
        """One stacked bar per exercise: its failed checks split by why they failed (:data:`KIND_COLORS`)."""
        kinds = [k for k in kind_labels if any(counts.get((e, k), 0) for e in exercises)]
        names = [plain(e, 30) for e in exercises]
        height = 0.55 + 0.2 * len(exercises)
        room = max((len(n) for n in names), default=4) * 0.06 + 0.25
        legend_room = max((len(plain(kind_labels[k], 40)) for k in kinds), default=4) * 0.055 + 0.5
        with _style():
            fig = _figure(WIDTH, height)
            ax = fig.add_axes((room / WIDTH, 0.45 / height, 1 - (room + legend_room) / WIDTH, 1 - 0.55 / height))
            positions = list(range(len(exercises)))
            start = [0] * len(exercises)
            for kind in kinds:
                widths = [counts.get((e, kind), 0) for e in exercises]
                ax.barh(positions, widths, left=start, color=KIND_COLORS.get(kind, "#888888"), height=0.72,
                        label=plain(kind_labels[kind], 40))
                start = [s + w for s, w in zip(start, widths)]
            ax.set_yticks(positions, names)
            ax.set_ylim(len(exercises) - 0.5, -0.5)
            ax.tick_params(axis="y", length=0)
            ax.set_xlabel(count_label, labelpad=2)
            _few_ticks(ax.xaxis, integer=True)
            ax.xaxis.set_major_formatter(self._number)
            if kinds:
                ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize=7.5)
            return _svg(fig, key, label)


    def _number(self, value: float, _position: object = None) -> str:
        """An axis label: ``2.5`` -> ``2,5`` in German, ``3.0`` -> ``3``."""
        return f"{value:.6g}".replace(".", self.decimal).replace("-", "\u2212")


def _step(values: t.Sequence[float]) -> float | None:
    """1 or 0.5 when every value is a multiple of it and there are at most 25 such steps; else None."""
    for step in (1.0, 0.5):
        if all(abs(v / step - round(v / step)) < 1e-9 for v in values) and max(values, default=0) / step <= 25:
            return step
    return None


def _fill(ax: t.Any, bars: t.Any, counts: t.Any, edges: t.Any, xlabel: str, ylabel: str) -> None:
    bars.set_data(counts, edges)
    ax.set_xlim(edges[0], edges[-1])
    ax.set_ylim(0, max(1, int(counts.max())) * 1.1)
    ax.set_xlabel(xlabel, labelpad=2)
    ax.set_ylabel(ylabel)


def _few_ticks(axis: t.Any, integer: bool) -> None:
    from matplotlib.ticker import MaxNLocator

    axis.set_major_locator(MaxNLocator(nbins=3, integer=integer, min_n_ticks=2))  # a label costs 1-2 ms


def _figure(width: float, height: float) -> "Figure":
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=72)


def _svg(fig: "Figure", key: str, label: str) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None}, facecolor="white")
    svg = buf.getvalue()
    svg = svg[svg.index("<svg"):]
    svg = re.sub(r"\s*<metadata>.*?</metadata>", "", svg, count=1, flags=re.S)
    prefix = re.sub(r"[^A-Za-z0-9_-]", "", key) or "plot"

    def scoped(tag: t.Match[str]) -> str:  # only tags: the text between them is escaped and stays as it is
        found = tag.group(0)
        found = re.sub(r'(\sid=")', rf"\1{prefix}-", found)
        found = found.replace("url(#", f"url(#{prefix}-")
        return re.sub(r'(xlink:href=")#', rf"\1#{prefix}-", found)

    svg = _TAG.sub(scoped, svg).rstrip()
    return svg.replace("<svg ", f'<svg role="img" aria-label="{html.escape(plain(label, 200), quote=True)}" ', 1)
