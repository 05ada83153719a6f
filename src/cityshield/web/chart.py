"""A bar chart as inline SVG geometry, computed on the server: reports and sightings per
day (the analyst statistics' ``by_day``, ``soc.stats``), one bar a day with its sightings
stacked on top of its reports.

The page has no JavaScript and its Content-Security-Policy allows none, so the chart is
drawn here: rectangles and labels with coordinates, which the template writes as SVG
elements (presentation attributes and CSS classes only; an inline ``style`` would be
refused by the policy too).
"""

from __future__ import annotations

from dataclasses import dataclass

from cityshield.soc.models import DayCount

WIDTH, HEIGHT = 720, 150
LEFT, RIGHT, BOTTOM, TOP = 36, 24, 22, 10
"""Room for the scale on the left, the last date's label, the dates under the bars and
the top label."""


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    """The whole bar: reports and sightings."""
    sightings_height: float
    """The top part of the bar, drawn over it in another colour."""
    day: str
    reports: int
    sightings: int

    @property
    def count(self) -> int:
        return self.reports + self.sightings


@dataclass(frozen=True)
class Label:
    x: float
    y: float
    text: str


@dataclass(frozen=True)
class BarChart:
    width: int
    height: int
    bars: list[Bar]
    labels: list[Label]
    """Dates under some bars and the scale's top value."""
    baseline: float
    total: int


def bar_chart(series: list[DayCount], *, label_every: int = 7) -> BarChart:
    """Bars scaled so the busiest day fills the height; a date under every
    ``label_every``-th bar, counted from the newest, so today is always labelled."""
    peak = max((d.reports + d.sightings for d in series), default=0)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - BOTTOM - TOP
    step = plot_w / max(len(series), 1)
    bars, labels = [], []
    for i, point in enumerate(series):
        scale = plot_h / peak if peak else 0.0
        height = (point.reports + point.sightings) * scale
        x = LEFT + i * step
        bars.append(
            Bar(
                x=round(x + step * 0.1, 2),
                y=round(TOP + plot_h - height, 2),
                width=round(step * 0.8, 2),
                height=round(height, 2),
                sightings_height=round(point.sightings * scale, 2),
                day=point.day,
                reports=point.reports,
                sightings=point.sightings,
            )
        )
        if (len(series) - 1 - i) % label_every == 0:
            labels.append(Label(round(x + step / 2, 2), HEIGHT - 6, point.day[5:]))
    labels.append(Label(LEFT - 4, TOP + 10, str(peak)))
    total = sum(d.reports + d.sightings for d in series)
    return BarChart(WIDTH, HEIGHT, bars, labels, TOP + plot_h, total)
