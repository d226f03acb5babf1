"""The client page's history chart as plain geometry for an inline SVG: a bar per month for
the amount found at stake, and a line for how many findings there were. Hand-drawn SVG
rather than a charting library: two series and a few labels, no script to vendor, and it
prints and reads without JavaScript."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

WIDTH, HEIGHT = 640, 220
LEFT, RIGHT, TOP, BOTTOM = 56, 40, 16, 32  # room for the axis labels


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str  # the month
    amount: Decimal
    count: int
    cx: float  # the count's point on the line
    cy: float


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bars: tuple[Bar, ...]
    line: str  # the count series as SVG points
    max_amount: Decimal
    max_amount_label: str  # "100k": the scale's top, short enough for the margin
    max_count: int
    baseline: float
    left: int
    right_edge: int


def _nice_ceiling(value: Decimal) -> Decimal:
    """The next round number above a value (1, 2 or 5 times a power of ten), for the scale."""
    if value <= 0:
        return Decimal(1)
    power = Decimal(10) ** (len(str(int(value))) - 1)
    for step in (1, 2, 5, 10):
        if value <= step * power:
            return step * power
    return 10 * power


def short_amount(value: Decimal) -> str:
    """A scale label: 950, 20k, 1.5M."""
    for size, suffix in ((Decimal(1_000_000), "M"), (Decimal(1_000), "k")):
        if value >= size:
            return f"{(value / size).normalize():f}{suffix}"
    return f"{value.normalize():f}"


def history_chart(points: list[tuple[date, int, Decimal]]) -> Chart | None:
    """(month, findings, amount at stake) oldest first → the chart; None with no months."""
    if not points:
        return None
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    max_amount = _nice_ceiling(max(amount for _, _, amount in points))
    max_count = int(_nice_ceiling(Decimal(max(count for _, count, _ in points))))
    slot = plot_w / len(points)
    bar_w = min(slot * 0.6, 48)
    bars = []
    for i, (month, count, amount) in enumerate(points):
        h = float(amount / max_amount) * plot_h
        x = LEFT + i * slot + (slot - bar_w) / 2
        cy = TOP + plot_h - (count / max_count) * plot_h
        bars.append(
            Bar(
                round(x, 1), round(TOP + plot_h - h, 1), round(bar_w, 1), round(h, 1),
                f"{month:%b %Y}", amount, count, round(x + bar_w / 2, 1), round(cy, 1),
            )
        )  # fmt: skip
    line = " ".join(f"{b.cx},{b.cy}" for b in bars)
    return Chart(
        WIDTH, HEIGHT, tuple(bars), line, max_amount, short_amount(max_amount), max_count,
        TOP + plot_h, LEFT, WIDTH - RIGHT,
    )  # fmt: skip
