"""The chart of reports and sightings per day: bars scaled to the busiest day, sightings
stacked on top of reports, dates under every seventh bar counted back from today, nothing
drawn for an empty series."""

from __future__ import annotations

from cityshield.soc.models import DayCount
from cityshield.web.chart import HEIGHT, WIDTH, bar_chart


def series(*counts: int, sightings: int = 0) -> list[DayCount]:
    return [
        DayCount(day=f"2027-01-{day + 1:02d}", reports=n, sightings=sightings)
        for day, n in enumerate(counts)
    ]


def test_the_busiest_day_fills_the_plot_and_the_others_scale() -> None:
    chart = bar_chart(series(0, 5, 10))
    low, mid, peak = chart.bars
    assert low.height == 0 and low.y == chart.baseline
    assert peak.y + peak.height == chart.baseline and peak.y > 0
    assert mid.height == peak.height / 2
    assert chart.total == 15
    assert all(b.x >= 0 and b.x + b.width <= WIDTH and b.y >= 0 for b in chart.bars)
    assert chart.labels[-1].text == "10", "the scale's top"


def test_sightings_stack_on_reports() -> None:
    chart = bar_chart(series(0, 3, sightings=1))
    only_sighting, both = chart.bars
    assert (both.reports, both.sightings, both.count) == (3, 1, 4)
    assert both.y + both.height == chart.baseline, "the whole bar stands on the axis"
    assert both.sightings_height == both.height / 4
    assert only_sighting.sightings_height == only_sighting.height == both.height / 4
    assert chart.total == 5


def test_today_is_always_labelled() -> None:
    days = series(*range(30))
    dated = [label.text for label in bar_chart(days).labels[:-1]]
    assert dated[-1] == days[-1].day[5:]
    assert len(dated) == 5  # every seventh day back from the 30th: 30, 23, 16, 9, 2


def test_no_submissions_draw_no_bars() -> None:
    chart = bar_chart(series(0, 0, 0))
    assert chart.total == 0 and all(b.height == 0 and b.sightings_height == 0 for b in chart.bars)
    assert chart.height == HEIGHT
