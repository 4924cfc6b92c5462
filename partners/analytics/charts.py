"""Charts drawn on the server as plain SVG strings (no script, no style element).

Contract: pure (no Django); every text given is escaped here, so the result
may be put in a page as it is. Each chart:
- has `role="img"` and a `<title>` and `<desc>` it is labelled by;
- names its axes with their units;
- holds at most `MAX_SERIES` series, told apart without colour: lines by dash
  pattern and marker shape, bars by hatch pattern; a legend repeats both;
- uses presentation attributes only (fill, stroke...), which the page's
  Content-Security-Policy allows, and dark inks that stay apart in grey print.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

MAX_SERIES = 6
WIDTH = 760
HEIGHT = 340
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 48, 64
CHAR_WIDTH = 6.6  # of a 12 px system font, on average

# Dark inks of different lightness: distinct in colour and in grey.
INKS = ("#1e3a8a", "#b45309", "#0f766e", "#6b21a8", "#111827", "#9f1239")
DASHES = ("", "8 4", "2 3", "10 3 2 3", "4 4", "1 5")
MARKERS = ("circle", "square", "triangle", "diamond", "cross", "bar")
# Hatches for bars: (line angle in degrees, spacing) drawn over a light fill.
HATCHES = ((45, 6), (-45, 6), (0, 5), (90, 5), (45, 3), (-45, 3))


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float | None]


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def _fmt(value: float) -> str:
    return f"{value:,.1f}".rstrip("0").rstrip(".")


def nice_max(value: float) -> float:
    """The top of a count axis: four equal whole-number steps of 1, 2, 2.5 or 5
    times a power of ten (2.5 only from 25 up), the smallest that reaches `value`."""
    wanted = max(value, 0) / 4
    if wanted <= 1:
        return 4.0
    power = 10 ** math.floor(math.log10(wanted))
    for step in (1, 2, 2.5, 5, 10):
        if step == 2.5 and power < 10:
            continue
        if wanted <= step * power:
            return float(4 * step * power)
    return float(40 * power)


def _check(series: Sequence[Series], categories: Sequence[str]) -> None:
    if len(series) > MAX_SERIES:
        raise ValueError(f"at most {MAX_SERIES} series, got {len(series)}")
    for s in series:
        if len(s.values) != len(categories):
            raise ValueError(f"series {s.name!r} has {len(s.values)} values for {len(categories)}")


def _scale(
    series: Sequence[Series], categories: Sequence[str], *, percent: bool
) -> tuple[list[float], float]:
    """The values drawn (checked against the categories) and the y axis's top."""
    _check(series, categories)
    values = [v for s in series for v in s.values if v is not None]
    return values, 100.0 if percent else nice_max(max(values, default=0))


def _open(chart_id: str, title: str, desc: str) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart__svg" viewBox="0 0 {WIDTH} '
        f'{HEIGHT}" role="img" aria-labelledby="{_e(chart_id)}-title {_e(chart_id)}-desc" '
        f'font-family="system-ui, sans-serif" font-size="12">',
        f'<title id="{_e(chart_id)}-title">{_e(title)}</title>',
        f'<desc id="{_e(chart_id)}-desc">{_e(desc)}</desc>',
        f'<rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>',
    ]


def _marker(shape: str, x: float, y: float, ink: str) -> str:
    r = 4.0
    if shape == "circle":
        return (
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r}" fill="#ffffff" stroke="{ink}" '
            'stroke-width="2"/>'
        )
    if shape == "square":
        return (
            f'<rect x="{x - r:.1f}" y="{y - r:.1f}" width="{2 * r}" height="{2 * r}" fill="{ink}"/>'
        )
    if shape == "triangle":
        return (
            f'<path d="M{x:.1f} {y - r - 1:.1f}L{x + r + 1:.1f} {y + r:.1f}'
            f'L{x - r - 1:.1f} {y + r:.1f}Z" fill="{ink}"/>'
        )
    if shape == "diamond":
        return (
            f'<path d="M{x:.1f} {y - r - 1:.1f}L{x + r + 1:.1f} {y:.1f}L{x:.1f} '
            f'{y + r + 1:.1f}L{x - r - 1:.1f} {y:.1f}Z" fill="#ffffff" stroke="{ink}" '
            'stroke-width="2"/>'
        )
    if shape == "cross":
        return (
            f'<path d="M{x - r:.1f} {y - r:.1f}L{x + r:.1f} {y + r:.1f}M{x - r:.1f} '
            f'{y + r:.1f}L{x + r:.1f} {y - r:.1f}" stroke="{ink}" stroke-width="2"/>'
        )
    return f'<path d="M{x - r:.1f} {y:.1f}L{x + r:.1f} {y:.1f}" stroke="{ink}" stroke-width="3"/>'


def _hatch_defs(chart_id: str, count: int) -> str:
    parts = ["<defs>"]
    for i in range(count):
        angle, gap = HATCHES[i]
        ink = INKS[i]
        parts.append(
            f'<pattern id="{_e(chart_id)}-h{i}" width="{gap}" height="{gap}" '
            f'patternUnits="userSpaceOnUse" patternTransform="rotate({angle})">'
            f'<rect width="{gap}" height="{gap}" fill="#ffffff"/>'
            f'<line x1="0" y1="0" x2="0" y2="{gap}" stroke="{ink}" stroke-width="{gap / 2:.1f}"/>'
            "</pattern>"
        )
    parts.append("</defs>")
    return "".join(parts)


def _legend_line(i: int, name: str, x: float, y: float) -> str:
    ink = INKS[i]
    dash = f' stroke-dasharray="{DASHES[i]}"' if DASHES[i] else ""
    return (
        f'<g><line x1="{x:.1f}" y1="{y:.1f}" x2="{x + 28:.1f}" y2="{y:.1f}" stroke="{ink}" '
        f'stroke-width="2.5"{dash}/>{_marker(MARKERS[i], x + 14, y, ink)}'
        f'<text x="{x + 34:.1f}" y="{y + 4:.1f}" fill="#111827">{_e(name)}</text></g>'
    )


def _legend_box(chart_id: str, i: int, name: str, x: float, y: float) -> str:
    return (
        f'<g><rect x="{x:.1f}" y="{y - 7:.1f}" width="22" height="14" '
        f'fill="url(#{_e(chart_id)}-h{i})" stroke="{INKS[i]}" stroke-width="1.5"/>'
        f'<text x="{x + 28:.1f}" y="{y + 4:.1f}" fill="#111827">{_e(name)}</text></g>'
    )


def _legend(items: list[str]) -> str:
    return '<g class="chart__legend">' + "".join(items) + "</g>"


def _legend_positions(names: Sequence[str]) -> list[tuple[float, float]]:
    x, y, out = float(LEFT), 20.0, []
    for name in names:
        width = 60 + CHAR_WIDTH * len(name)
        if x + width > WIDTH - RIGHT and x > LEFT:
            x, y = float(LEFT), y + 18
        out.append((x, y))
        x += width
    return out


def _axes(
    *,
    categories: Sequence[str],
    y_max: float,
    y_label: str,
    x_label: str,
    percent: bool,
    centred: bool,
) -> list[str]:
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    parts = []
    for k in range(5):
        value = y_max * k / 4
        y = TOP + plot_h - plot_h * k / 4
        parts.append(
            f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" '
            f'stroke="{"#6b7280" if k == 0 else "#d1d5db"}" stroke-width="1"/>'
        )
        label = f"{_fmt(value)} %" if percent else _fmt(value)
        parts.append(
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" fill="#374151">'
            f"{_e(label)}</text>"
        )
    n = max(len(categories), 1)
    every = max(1, math.ceil(n / 8))
    slot = (WIDTH - LEFT - RIGHT) / n * every
    for i, category in enumerate(categories):
        if i % every:
            continue
        x = _x(i, n, centred)
        lines = _wrap(category, slot)
        spans = "".join(
            f'<tspan x="{x:.1f}" dy="{0 if k == 0 else 14}">{_e(line)}</tspan>'
            for k, line in enumerate(lines)
        )
        parts.append(
            f'<text x="{x:.1f}" y="{TOP + plot_h + 20}" text-anchor="middle" fill="#374151">'
            f"{spans}</text>"
        )
    parts.append(
        f'<text x="{LEFT + plot_w / 2:.1f}" y="{HEIGHT - 14}" text-anchor="middle" '
        f'fill="#111827" font-weight="600">{_e(x_label)}</text>'
    )
    parts.append(
        f'<text x="16" y="{TOP + plot_h / 2:.1f}" text-anchor="middle" fill="#111827" '
        f'font-weight="600" transform="rotate(-90 16 {TOP + plot_h / 2:.1f})">{_e(y_label)}</text>'
    )
    return parts


def _wrap(label: str, width: float) -> list[str]:
    """One line, or two split at the space nearest the middle when it is too wide."""
    if len(label) * CHAR_WIDTH <= width * 0.92 or " " not in label:
        return [label]
    middle = len(label) / 2
    cut = min((i for i, c in enumerate(label) if c == " "), key=lambda i: abs(i - middle))
    return [label[:cut], label[cut + 1 :]]


def _x(i: int, n: int, centred: bool) -> float:
    plot_w = WIDTH - LEFT - RIGHT
    if centred or n == 1:
        return LEFT + plot_w * (i + 0.5) / n
    return LEFT + plot_w * i / (n - 1)


def _y(value: float, y_max: float) -> float:
    plot_h = HEIGHT - TOP - BOTTOM
    return TOP + plot_h - plot_h * min(value, y_max) / y_max


def _empty(parts: list[str]) -> None:
    parts.append(
        f'<text x="{WIDTH / 2}" y="{HEIGHT / 2}" text-anchor="middle" fill="#374151" '
        'font-size="14">No data in this period</text>'
    )


def line_chart(
    *,
    chart_id: str,
    title: str,
    desc: str,
    categories: Sequence[str],
    series: Sequence[Series],
    y_label: str,
    x_label: str,
    percent: bool = False,
) -> str:
    """Lines over ordered categories (months); a missing value (None) breaks the line."""
    values, y_max = _scale(series, categories, percent=percent)
    parts = _open(chart_id, title, desc)
    parts += _axes(
        categories=categories,
        y_max=y_max,
        y_label=y_label,
        x_label=x_label,
        percent=percent,
        centred=False,
    )
    if not values:
        _empty(parts)
    n = len(categories)
    for i, s in enumerate(series):
        ink = INKS[i]
        dash = f' stroke-dasharray="{DASHES[i]}"' if DASHES[i] else ""
        runs: list[list[tuple[float, float]]] = [[]]
        for k, value in enumerate(s.values):
            if value is None:
                runs.append([])
                continue
            runs[-1].append((_x(k, n, False), _y(value, y_max)))
        parts.append(f'<g aria-hidden="true" data-series="{i}">')
        for run in runs:
            if len(run) > 1:
                points = " ".join(f"{x:.1f},{y:.1f}" for x, y in run)
                parts.append(
                    f'<polyline points="{points}" fill="none" stroke="{ink}" '
                    f'stroke-width="2.5"{dash}/>'
                )
            for x, y in run:
                parts.append(_marker(MARKERS[i], x, y, ink))
        parts.append("</g>")
    positions = _legend_positions([s.name for s in series])
    parts.append(_legend([_legend_line(i, s.name, *positions[i]) for i, s in enumerate(series)]))
    parts.append("</svg>")
    return "".join(parts)


def bar_chart(
    *,
    chart_id: str,
    title: str,
    desc: str,
    categories: Sequence[str],
    series: Sequence[Series],
    y_label: str,
    x_label: str,
    percent: bool = False,
) -> str:
    """Grouped bars, one group per category, each bar labelled with its value."""
    values, y_max = _scale(series, categories, percent=percent)
    parts = _open(chart_id, title, desc)
    parts.append(_hatch_defs(chart_id, len(series)))
    parts += _axes(
        categories=categories,
        y_max=y_max,
        y_label=y_label,
        x_label=x_label,
        percent=percent,
        centred=True,
    )
    if not values:
        _empty(parts)
    n = max(len(categories), 1)
    bar_w = min((WIDTH - LEFT - RIGHT) / n * 0.7 / max(len(series), 1), 56.0)
    group_w = bar_w * max(len(series), 1)
    base = _y(0, y_max)
    for i, s in enumerate(series):
        parts.append(f'<g aria-hidden="true" data-series="{i}">')
        for k, value in enumerate(s.values):
            if value is None:
                continue
            x = _x(k, n, True) - group_w / 2 + i * bar_w
            y = _y(value, y_max)
            parts.append(
                f'<rect x="{x + 1:.1f}" y="{y:.1f}" width="{max(bar_w - 2, 1):.1f}" '
                f'height="{max(base - y, 0):.1f}" fill="url(#{_e(chart_id)}-h{i})" '
                f'stroke="{INKS[i]}" stroke-width="1.5"/>'
            )
            if bar_w >= 14:
                label = f"{_fmt(value)} %" if percent else _fmt(value)
                parts.append(
                    f'<text x="{x + bar_w / 2:.1f}" y="{y - 4:.1f}" text-anchor="middle" '
                    f'fill="#111827" font-size="11">{_e(label)}</text>'
                )
        parts.append("</g>")
    positions = _legend_positions([s.name for s in series])
    parts.append(
        _legend([_legend_box(chart_id, i, s.name, *positions[i]) for i, s in enumerate(series)])
    )
    parts.append("</svg>")
    return "".join(parts)
