"""Charts as inline SVG, drawn server-side: the reports' plots with no JavaScript and no CDN.

Why SVG strings rather than a chart library: a report must open offline, print, and stay small (a
class report of 50 students x 30 assignments is a few hundred KB); a vendored JS library would add
150-900 KB to every file and a browser's scripting to every render and test, while the six plot kinds
here are rectangles, circles and lines. Every chart is one ``<svg class="chart" data-chart=KIND>``
whose marks carry ``data-*`` attributes with the numbers they show (a browser test can check them) and
a ``<title>`` a teacher sees on hover.

>>> svg = bars([("19:00", 3.0), ("20:00", 1.0)], title="作业时段", unit="份")
>>> svg.count('<rect class="bar"'), 'data-chart="bars"' in svg
(2, True)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

__all__ = ["bars", "dot_strip", "heatmap", "mastery_colour", "nice_ticks", "scatter", "stacked_bars"]

FONT = "font-family:'Noto Sans CJK SC','Droid Sans Fallback','Microsoft YaHei',sans-serif"
KEY_COLOUR, WRONG_COLOURS, OTHER_COLOUR = "#2e7d32", ("#e65100", "#f9a825", "#8d6e63", "#6a1b9a"), "#bdbdbd"


def _svg(kind: str, width: float, height: float, body: list[str], title: str, **data: object) -> str:
    attrs = "".join(f' data-{k.replace("_", "-")}="{escape(str(v))}"' for k, v in data.items())
    head = f'<text x="4" y="14" font-size="13" font-weight="bold">{escape(title)}</text>' if title else ""
    return (f'<svg class="chart" data-chart="{kind}"{attrs} xmlns="http://www.w3.org/2000/svg" '
            f'viewBox="0 0 {width:.0f} {height:.0f}" width="{width:.0f}" height="{height:.0f}" '
            f'style="{FONT}" role="img" aria-label="{escape(title)}">{head}{"".join(body)}</svg>')


def _text(x: float, y: float, text: str, size: float = 10, anchor: str = "start", fill: str = "#333",
          rotate: float = 0) -> str:
    turn = f' transform="rotate({rotate:g} {x:.1f} {y:.1f})"' if rotate else ""
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size:g}" text-anchor="{anchor}" fill="{fill}"{turn}>'
            f'{escape(text)}</text>')


def mastery_colour(p: float) -> str:
    """Red (0) through amber (0.5) to green (1); grey for unknown.

    >>> mastery_colour(0.0), mastery_colour(1.0), mastery_colour(float("nan"))
    ('#d73027', '#1a9850', '#eeeeee')
    """
    if p is None or not math.isfinite(p):
        return "#eeeeee"
    stops = ((0.0, (215, 48, 39)), (0.5, (254, 224, 139)), (1.0, (26, 152, 80)))
    p = min(1.0, max(0.0, p))
    (a, ca), (b, cb) = (stops[0], stops[1]) if p <= 0.5 else (stops[1], stops[2])
    t = (p - a) / (b - a)
    return "#" + "".join(f"{round(x + (y - x) * t):02x}" for x, y in zip(ca, cb, strict=True))


def heatmap(rows: Sequence[str], columns: Sequence[str], values: Sequence[Sequence[float]],
            counts: Sequence[Sequence[int]], *, title: str = "", cell: float = 22) -> str:
    """A rows x columns grid coloured by value (0-1); a cell with fewer answers is paler, one with none
    is grey, and each shows its number of answers small in the corner."""
    left, top = 8 + 12 * max((len(r) for r in rows), default=1), 30 + 11 * max((len(c) for c in columns), default=1)
    width, height = left + cell * len(columns) + 60, top + cell * len(rows) + 10
    body = [_text(left + (j + 0.6) * cell, top - 4, c, 10, rotate=-60) for j, c in enumerate(columns)]
    for i, row in enumerate(rows):
        y = top + i * cell
        body.append(_text(left - 4, y + cell * 0.68, row, 11, "end"))
        for j, column in enumerate(columns):
            v, n = values[i][j], counts[i][j]
            shade = 0.35 + 0.65 * min(1.0, n / 5) if n else 1.0
            tip = f"{row} · {column}: " + (f"{v:.2f}（{n} 题）" if n else "未作答")
            body.append(f'<rect class="cell" x="{left + j * cell:.1f}" y="{y:.1f}" width="{cell - 1:.1f}" '
                        f'height="{cell - 1:.1f}" fill="{mastery_colour(v if n else math.nan)}" '
                        f'fill-opacity="{shade:.2f}" data-value="{v:.3f}" data-n="{n}"><title>{escape(tip)}</title></rect>')
            if n:
                body.append(_text(left + (j + 1) * cell - 3, y + cell - 4, str(n), 7, "end", "#555"))
    return _svg("heatmap", width, height, body, title, rows=len(rows), columns=len(columns))


def stacked_bars(labels: Sequence[str], segments: Sequence[Sequence[tuple[str, float, bool]]], *, title: str = "",
                 width: float = 620) -> str:
    """One horizontal bar per label, split into (answer, share, is_key) segments: the key green, the
    wrong answers in warm colours (largest first), and each segment labelled when it is wide enough."""
    left, row, top = 60, 20, 24
    span = width - left - 10
    body = []
    for i, (label, parts) in enumerate(zip(labels, segments, strict=True)):
        y, x, wrong = top + i * row, float(left), 0
        body.append(_text(left - 6, y + 13, label, 11, "end"))
        for answer, share, is_key in sorted(parts, key=lambda p: (not p[2], p[0] == "其他", -p[1])):
            colour = KEY_COLOUR if is_key else OTHER_COLOUR if answer == "其他" else WRONG_COLOURS[
                min(wrong, len(WRONG_COLOURS) - 1)]
            wrong += 0 if is_key else 1
            w = span * share
            tip = f"{label}: {answer} {share:.0%}" + ("（正确答案）" if is_key else "")
            body.append(f'<rect class="segment" x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{row - 4}" '
                        f'fill="{colour}" data-answer="{escape(answer)}" data-share="{share:.3f}" '
                        f'data-key="{int(is_key)}"><title>{escape(tip)}</title></rect>')
            if w > 34:
                body.append(_text(x + 3, y + 12, f"{answer[:8]} {share:.0%}", 9, fill="#fff" if is_key else "#222"))
            x += w
    return _svg("stacked-bars", width, top + row * len(labels) + 6, body, title, bars=len(labels))


def bars(values: Sequence[tuple[str, float]], *, title: str = "", unit: str = "", reference: float | None = None,
         reference_label: str = "", width: float = 480, height: float = 180, colour: str = "#1565c0",
         highlight: Sequence[bool] | None = None, errors: Sequence[float] | None = None) -> str:
    """Vertical bars with their value on top, optional error whiskers (± ``errors``) and a horizontal
    reference line; labels turn aslant when there are many bars."""
    slanted = len(values) > 12
    left, top, bottom = 34, 26, 64 if slanted else 34
    top_value = max([v for _, v in values if math.isfinite(v)] + [reference or 0, 1e-9]) * 1.12
    step = (width - left - 8) / max(1, len(values))
    plot = height - top - bottom
    body = [f'<line x1="{left}" y1="{height - bottom}" x2="{width - 4}" y2="{height - bottom}" stroke="#999"/>']
    for i, (label, v) in enumerate(values):
        h = plot * (v / top_value) if math.isfinite(v) else 0
        x = left + i * step
        fill = "#c62828" if highlight and highlight[i] else colour
        body.append(f'<rect class="bar" x="{x + step * 0.12:.1f}" y="{height - bottom - h:.1f}" '
                    f'width="{step * 0.76:.1f}" height="{h:.1f}" fill="{fill}" data-label="{escape(label)}" '
                    f'data-value="{v:.4g}"><title>{escape(f"{label}: {v:.4g} {unit}")}</title></rect>')
        if errors is not None and math.isfinite(v):
            lo, hi = (plot * max(0.0, v + d * errors[i]) / top_value for d in (-1, 1))
            body.append(f'<line class="error" x1="{x + step / 2:.1f}" x2="{x + step / 2:.1f}" '
                        f'y1="{height - bottom - lo:.1f}" y2="{height - bottom - hi:.1f}" stroke="#444"/>')
        elif math.isfinite(v) and v:
            body.append(_text(x + step / 2, height - bottom - h - 3, _short(v), 8.5, "middle"))
        if slanted:
            body.append(_text(x + step / 2 + 3, height - bottom + 10, label, 9, "end", rotate=-40))
        else:
            body.append(_text(x + step / 2, height - bottom + 12, label, 9, "middle"))
    if reference is not None:
        y = height - bottom - plot * reference / top_value
        body += [f'<line class="reference" x1="{left}" y1="{y:.1f}" x2="{width - 4}" y2="{y:.1f}" stroke="#c62828" '
                 f'stroke-dasharray="5 3" data-value="{reference:g}"/>',
                 _text(width - 6, y - 3, reference_label, 9, "end", "#c62828")]
    body.append(_text(4, height - 4, unit, 9, fill="#666"))
    return _svg("bars", width, height, body, title, bars=len(values))


def _short(v: float) -> str:
    """A bar's label: whole numbers from 100 on (1330, not 1.33e+03), else 3 significant digits.

    >>> _short(1330.0), _short(7.111), _short(0.5)
    ('1330', '7.11', '0.5')
    """
    return f"{v:.0f}" if abs(v) >= 100 else f"{v:.3g}"


def _scale(lo: float, hi: float, a: float, b: float):  # noqa: ANN202 - a tiny closure
    span = (hi - lo) or 1.0
    return lambda v: a + (v - lo) / span * (b - a)


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """Round tick values covering [lo, hi] (steps of 1, 2 or 5 times a power of ten).

    >>> nice_ticks(0, 93.5), nice_ticks(0, 1)
    ([0.0, 20.0, 40.0, 60.0, 80.0, 100.0], [0.0, 0.2, 0.4, 0.6, 0.8, 1.0])
    """
    raw = max((hi - lo) / max(1, count), 1e-9)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    first = math.floor(lo / step) * step
    return [float(round(first + k * step, 10)) for k in range(int(math.ceil((hi - first) / step - 1e-9)) + 1)]


def scatter(points: Sequence[tuple[float, float, str]], *, title: str = "", x_label: str = "", y_label: str = "",
            diagonal: bool = False, line: Sequence[tuple[float, float]] = (), width: float = 420,
            height: float = 260, x_range: tuple[float, float] | None = None,
            y_range: tuple[float, float] | None = None) -> str:
    """Points (x, y, tip) on axes with ticks; optionally the line y = x and a polyline (e.g. band means)."""
    left, top, bottom, right = 44, 26, 36, 10
    xs, ys = [p[0] for p in points] + [p[0] for p in line], [p[1] for p in points] + [p[1] for p in line]
    x0, x1 = x_range or (min(xs + [0]), max(xs + [1]))
    y0, y1 = y_range or (min(ys + [0]), max(ys + [1]))
    if diagonal:
        x0 = y0 = min(x0, y0)
        x1 = y1 = max(x1, y1)
    x_ticks, y_ticks = nice_ticks(x0, x1), nice_ticks(y0, y1)
    x0, x1, y0, y1 = x_ticks[0], x_ticks[-1], y_ticks[0], y_ticks[-1]
    fx, fy = _scale(x0, x1, left, width - right), _scale(y0, y1, height - bottom, top)
    body = [f'<line x1="{left}" y1="{height - bottom}" x2="{width - right}" y2="{height - bottom}" stroke="#999"/>',
            f'<line x1="{left}" y1="{top}" x2="{left}" y2="{height - bottom}" stroke="#999"/>']
    body += [_text(fx(v), height - bottom + 12, f"{v:g}", 9, "middle") for v in x_ticks]
    body += [_text(left - 4, fy(v) + 3, f"{v:g}", 9, "end") for v in y_ticks]
    if diagonal:
        body.append(f'<line class="diagonal" x1="{fx(x0):.1f}" y1="{fy(y0):.1f}" x2="{fx(x1):.1f}" y2="{fy(y1):.1f}" '
                    f'stroke="#888" stroke-dasharray="4 3"/>')
    for x, y, tip in points:
        body.append(f'<circle class="point" cx="{fx(x):.1f}" cy="{fy(y):.1f}" r="3" fill="#1565c0" fill-opacity="0.45" '
                    f'data-x="{x:.4g}" data-y="{y:.4g}"><title>{escape(tip)}</title></circle>')
    if line:
        path = " ".join(f"{fx(x):.1f},{fy(y):.1f}" for x, y in line)
        body.append(f'<polyline class="line" points="{path}" fill="none" stroke="#c62828" stroke-width="2"/>')
    body += [_text((left + width - right) / 2, height - 6, x_label, 10, "middle", "#555"),
             _text(12, (top + height - bottom) / 2, y_label, 10, "middle", "#555", rotate=-90)]
    return _svg("scatter", width, height, body, title, points=len(points))


def dot_strip(columns: Sequence[str], values: Sequence[Sequence[tuple[float, str]]], *, cap: float | None,
              title: str = "", unit: str = "分钟", width: float = 900, height: float = 240) -> str:
    """Per column (a day) one dot per value (a student's minutes), red above ``cap`` (the 双减 line)."""
    left, top, bottom = 40, 40, 40
    finite = [v for col in values for v, _ in col if math.isfinite(v)]
    ticks = nice_ticks(0, max(finite + [cap or 0, 1.0]))
    fy = _scale(0, ticks[-1], height - bottom, top)
    step = (width - left - 8) / max(1, len(columns))
    body = [f'<line x1="{left}" y1="{fy(0):.1f}" x2="{width - 4}" y2="{fy(0):.1f}" stroke="#999"/>']
    body += [_text(left - 4, fy(v) + 3, f"{v:g}", 9, "end") for v in ticks]
    for i, (column, col) in enumerate(zip(columns, values, strict=True)):
        cx = left + (i + 0.5) * step
        for n, (v, tip) in enumerate(col):
            if not math.isfinite(v):
                continue
            over = cap is not None and v > cap
            jitter = ((n * 7919) % 11 - 5) / 5 * step * 0.3
            body.append(f'<circle class="dot" cx="{cx + jitter:.1f}" cy="{fy(v):.1f}" r="2.6" '
                        f'fill="{"#c62828" if over else "#1565c0"}" fill-opacity="0.6" data-value="{v:g}" '
                        f'data-over="{int(over)}"><title>{escape(tip)}</title></circle>')
        if len(columns) <= 12 or i % max(1, len(columns) // 12) == 0:
            body.append(_text(cx, height - bottom + 12, column, 9, "middle", rotate=-35 if len(columns) > 8 else 0))
    if cap is not None:
        body += [f'<line class="reference" x1="{left}" y1="{fy(cap):.1f}" x2="{width - 4}" y2="{fy(cap):.1f}" '
                 f'stroke="#c62828" stroke-dasharray="5 3" data-value="{cap:g}"/>',
                 _text(width - 6, top - 8, f"- - 双减上限 {cap:g} {unit}；红点：超过上限", 10, "end", "#c62828")]
    return _svg("dot-strip", width, height, body, title, columns=len(columns), cap="" if cap is None else cap)
