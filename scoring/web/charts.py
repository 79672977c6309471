"""Server-side SVG line charts (nothing to load in the browser; prints as it shows)."""

from __future__ import annotations

from decimal import Decimal
from html import escape
from typing import Sequence

from markupsafe import Markup

COLOURS = ("#1f4e79", "#c0504d", "#4f8a3c", "#8064a2", "#d08a1c", "#2c8c99", "#7f7f7f", "#a3476b", "#5b6f1f")


def _num(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return text.replace(".", ",")


def line_chart(years: Sequence[int], series: Sequence[tuple[str, Sequence[Decimal | None]]], *, title: str,
               width: int = 640, height: int = 260) -> Markup:
    """One line per series over the years, with the values written at each point."""
    left, right, top, bottom = 48, 150, 28, 34
    values = [v for _l, vs in series for v in vs if v is not None]
    hi = max(values, default=Decimal(1))
    lo = min(values, default=Decimal(0))
    lo = min(Decimal(0), lo) if hi - lo > hi / 2 else lo - (hi - lo) * Decimal("0.2") - 1
    hi = hi + (hi - lo) * Decimal("0.1") or Decimal(1)
    pw, ph = width - left - right, height - top - bottom
    n = len(years)

    def x(i: int) -> float:
        return left + (pw / 2 if n == 1 else pw * i / (n - 1))

    def y(v: Decimal) -> float:
        return top + ph - float((v - lo) / (hi - lo)) * ph

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
           f'height="{height}" role="img" aria-label="{escape(title)}" class="chart">',
           f'<title>{escape(title)}</title>',
           f'<text x="{left}" y="16" font-size="13" font-weight="bold">{escape(title)}</text>',
           f'<line x1="{left}" y1="{top + ph}" x2="{left + pw}" y2="{top + ph}" stroke="#444"/>',
           f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + ph}" stroke="#444"/>']
    for k in range(5):
        v = lo + (hi - lo) * k / 4
        out.append(f'<text x="{left - 6}" y="{y(v) + 4:.1f}" font-size="10" text-anchor="end">'
                   f'{_num(v.quantize(Decimal("0.1")))}</text>')
        out.append(f'<line x1="{left}" y1="{y(v):.1f}" x2="{left + pw}" y2="{y(v):.1f}" stroke="#ddd"/>')
    for i, year in enumerate(years):
        out.append(f'<text x="{x(i):.1f}" y="{top + ph + 18}" font-size="11" text-anchor="middle">{year}</text>')
    for s, (label, vs) in enumerate(series):
        colour = COLOURS[s % len(COLOURS)]
        points = [(x(i), y(v), v) for i, v in enumerate(vs) if v is not None]
        if len(points) > 1:
            path = " ".join(f"{px:.1f},{py:.1f}" for px, py, _v in points)
            out.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for px, py, v in points:
            out.append(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="3.5" fill="{colour}"><title>{escape(label)}: '
                       f'{_num(v)}</title></circle>')
            if len(series) == 1:
                out.append(f'<text x="{px:.1f}" y="{py - 8:.1f}" font-size="11" text-anchor="middle">{_num(v)}</text>')
        ly = top + 14 * s + 6
        out.append(f'<rect x="{left + pw + 12}" y="{ly - 8}" width="10" height="10" fill="{colour}"/>')
        out.append(f'<text x="{left + pw + 26}" y="{ly + 1}" font-size="11">{escape(label)}</text>')
    out.append("</svg>")
    return Markup("".join(out))
