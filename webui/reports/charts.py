"""Server-side SVG charts for the statistics page: no JavaScript, no inline style (the CSP forbids both)."""

from __future__ import annotations

from markupsafe import Markup, escape

from engine.services.statistics import StatTable

PALETTE = ("#b8252b", "#2f6db5", "#3f9b5b", "#d08a1e", "#7a4fa3", "#2a9d9a", "#8c6d5a", "#c2477d", "#5a6b7b")
FONT = 'font-family="Noto Sans CJK SC, sans-serif"'


def _svg(width: int, height: int, body: list[str], title: str) -> Markup:
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" '
        f'role="img" aria-label="{escape(title)}" class="chart"><title>{escape(title)}</title>'
        + "".join(body) + "</svg>")


def _nice_max(value: float) -> int:
    """A round upper bound for the axis (1, 2, 5 × 10^k)."""
    if value <= 0:
        return 1
    magnitude = 1
    while magnitude * 10 <= value:
        magnitude *= 10
    for step in (1, 2, 5, 10):
        if step * magnitude >= value:
            return step * magnitude
    return 10 * magnitude


def horizontal_bars(table: StatTable, *, label_width: int = 330, width: int = 760) -> Markup:
    """One bar per row (first value column): suits long Chinese labels such as the report rows."""
    rows = [(str(r[0]), float(r[1])) for r in table.rows]
    bar_h, gap, top = 18, 6, 8
    height = top + len(rows) * (bar_h + gap) + 24
    scale_max = _nice_max(max((v for _, v in rows), default=0))
    plot = width - label_width - 50
    body = []
    for i, (label, value) in enumerate(rows):
        y = top + i * (bar_h + gap)
        length = plot * value / scale_max
        short = label if len(label) <= 24 else label[:23] + "…"
        body.append(f'<text x="{label_width - 6}" y="{y + 13}" text-anchor="end" font-size="12" {FONT}>'
                    f'<title>{escape(label)}</title>{escape(short)}</text>')
        body.append(f'<rect x="{label_width}" y="{y}" width="{length:.1f}" height="{bar_h}" fill="{PALETTE[0]}"/>')
        body.append(f'<text x="{label_width + length + 4:.1f}" y="{y + 13}" font-size="12" {FONT}>{value:g}</text>')
    axis_y = top + len(rows) * (bar_h + gap)
    body.append(f'<line x1="{label_width}" y1="{axis_y}" x2="{label_width + plot}" y2="{axis_y}" stroke="#888"/>')
    body.append(f'<text x="{label_width + plot}" y="{axis_y + 16}" text-anchor="end" font-size="11" {FONT}>'
                f'{scale_max}</text>')
    return _svg(width, height, body, table.title)


def stacked_columns(table: StatTable, *, width: int = 760, height: int = 300) -> Markup:
    """One column per row, stacked by the value columns (e.g. months × channels), with a legend."""
    series = table.series
    totals = [sum(float(v) for v in r[1:]) for r in table.rows]
    scale_max = _nice_max(max(totals, default=0))
    left, right, top, bottom = 40, 10, 10, 60
    plot_w, plot_h = width - left - right, height - top - bottom
    slot = plot_w / max(len(table.rows), 1)
    body = [f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="#888"/>',
            f'<text x="{left - 4}" y="{top + 10}" text-anchor="end" font-size="11" {FONT}>{scale_max}</text>',
            f'<text x="{left - 4}" y="{top + plot_h}" text-anchor="end" font-size="11" {FONT}>0</text>']
    for i, row in enumerate(table.rows):
        x = left + i * slot + slot * 0.15
        y = top + plot_h
        for s, value in enumerate(row[1:]):
            h = plot_h * float(value) / scale_max
            if h > 0:
                y -= h
                body.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{slot * 0.7:.1f}" height="{h:.1f}" '
                            f'fill="{PALETTE[s % len(PALETTE)]}"><title>{escape(str(row[0]))} '
                            f'{escape(series[s])}：{value}</title></rect>')
        if totals[i]:
            body.append(f'<text x="{x + slot * 0.35:.1f}" y="{y - 3:.1f}" text-anchor="middle" font-size="10" '
                        f'{FONT}>{totals[i]:g}</text>')
        label = str(row[0]) if len(str(row[0])) <= 8 else str(row[0])[:7] + "…"
        body.append(f'<text x="{x + slot * 0.35:.1f}" y="{top + plot_h + 14}" text-anchor="middle" font-size="11" '
                    f'{FONT}>{escape(label)}</text>')
    legend_y = height - 22
    x = left
    for s, name in enumerate(series):
        body.append(f'<rect x="{x}" y="{legend_y}" width="10" height="10" fill="{PALETTE[s % len(PALETTE)]}"/>')
        body.append(f'<text x="{x + 14}" y="{legend_y + 9}" font-size="11" {FONT}>{escape(name)}</text>')
        x += 24 + 12 * len(name)
    return _svg(width, height, body, table.title)


def chart_for(table: StatTable) -> Markup:
    """Stacked columns when a row has several values, bars otherwise; text tables get no chart."""
    if not table.rows or not all(isinstance(v, int | float) for r in table.rows for v in r[1:]):
        return Markup("")
    if len(table.series) > 1:
        return stacked_columns(table)
    return horizontal_bars(table)
