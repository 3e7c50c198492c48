"""Small inline SVG charts for the dashboard: no JavaScript, text in the page's own font (so Chinese renders
wherever the page does), readable by a screen reader through <title>. The full semester report keeps its
matplotlib charts (services/assessment/report)."""
from __future__ import annotations

from dataclasses import dataclass
from html import escape

from markupsafe import Markup

from shared.academic.vocabulary import LEVELS

NOW, BEFORE = "#2f5d8a", "#a9bfd6"
# One colour per warning level, lowest first (the stylesheet's .level-* badges use the same).
_LEVEL_PALETTE = ("#e8c547", "#ec8a2f", "#d2453a", "#6d2a5e")
if len(_LEVEL_PALETTE) != len(LEVELS):
    raise RuntimeError(f"charts: a colour for each warning level {LEVELS} is needed")
LEVEL_COLOURS = dict(zip(LEVELS, _LEVEL_PALETTE))


@dataclass(frozen=True)
class Bar:
    label: str
    now: float | None
    before: float | None = None
    colour: str = NOW


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _text(x, y, text, *, anchor="start", size=12, colour="#222", weight="normal") -> str:
    return (f'<text x="{_num(x)}" y="{_num(y)}" text-anchor="{anchor}" font-size="{size}" fill="{colour}" '
            f'font-weight="{weight}">{escape(str(text))}</text>')


def _legend(x: float, y: float, items: list[tuple[str, tuple[str, ...]]]) -> list[str]:
    """One swatch per item; an item drawn in several colours (bars coloured by level) gets a striped swatch."""
    parts = []
    for label, colours in items:
        width = 12 / len(colours)
        for i, colour in enumerate(colours):
            parts.append(f'<rect x="{_num(x + i * width)}" y="{_num(y - 10)}" width="{_num(width)}" height="12" '
                         f'fill="{colour}"/>')
        parts.append(_text(x + 16, y, label, size=12))
        x += 24 + 13 * len(label)
    return parts


def column_pairs(title: str, bars: list[Bar], now_label: str, before_label: str | None,
                 value_format=_num) -> Markup:
    """Vertical bars per category, this period (coloured per bar) beside the one before (grey-blue)."""
    width, height, top, bottom, left = 460, 250, 40, 46, 40
    plot_h = height - top - bottom
    top_value = max([b.now or 0 for b in bars] + [b.before or 0 for b in bars] + [1])
    slot = (width - left - 10) / max(len(bars), 1)
    parts = [_text(width / 2, 20, title, anchor="middle", size=14, weight="bold"),
             f'<line x1="{left}" y1="{top + plot_h}" x2="{width - 10}" y2="{top + plot_h}" stroke="#888"/>']
    for i, bar in enumerate(bars):
        x0 = left + i * slot + slot * 0.15
        w = slot * 0.34
        for offset, value, colour, series in ((0, bar.before, BEFORE, before_label),
                                              (w + 2, bar.now, bar.colour, now_label)):
            if value is None or series is None:
                continue
            h = plot_h * value / top_value
            parts.append(f'<rect x="{_num(x0 + offset)}" y="{_num(top + plot_h - h)}" width="{_num(w)}" '
                         f'height="{_num(h)}" fill="{colour}"><title>{escape(series)} {escape(bar.label)}: '
                         f'{escape(value_format(value))}</title></rect>')
            parts.append(_text(x0 + offset + w / 2, top + plot_h - h - 4, value_format(value), anchor="middle",
                               size=11))
        parts.append(_text(left + i * slot + slot / 2, top + plot_h + 18, bar.label, anchor="middle"))
    colours = tuple(dict.fromkeys(b.colour for b in bars))
    legend = [(now_label, colours)] + ([(before_label, (BEFORE,))] if before_label else [])
    parts += _legend(left, height - 6, legend)
    return _svg(width, height, title, parts)


def bar_rows(title: str, bars: list[Bar], now_label: str, before_label: str | None, value_format=_num,
             scale: float | None = None) -> Markup:
    """Horizontal bars, one row per group: this period and (thinner, behind) the one before."""
    label_w, row_h, top = 190, 34, 36
    width = 620
    plot_w = width - label_w - 70
    height = top + row_h * max(len(bars), 1) + 34
    top_value = scale or max([b.now or 0 for b in bars] + [b.before or 0 for b in bars] + [1e-9])
    parts = [_text(width / 2, 20, title, anchor="middle", size=14, weight="bold")]
    for i, bar in enumerate(bars):
        y = top + i * row_h
        parts.append(_text(label_w - 8, y + 17, bar.label, anchor="end"))
        if bar.before is not None and before_label:
            w = plot_w * bar.before / top_value
            parts.append(f'<rect x="{label_w}" y="{_num(y + 3)}" width="{_num(w)}" height="9" fill="{BEFORE}">'
                         f'<title>{escape(before_label)}: {escape(value_format(bar.before))}</title></rect>')
        if bar.now is not None:
            w = plot_w * bar.now / top_value
            parts.append(f'<rect x="{label_w}" y="{_num(y + 13)}" width="{_num(w)}" height="14" fill="{bar.colour}">'
                         f'<title>{escape(bar.label)}: {escape(value_format(bar.now))}</title></rect>')
            parts.append(_text(label_w + w + 4, y + 25, value_format(bar.now), size=11))
    parts.append(f'<line x1="{label_w}" y1="{top - 4}" x2="{label_w}" y2="{top + row_h * len(bars)}" '
                 f'stroke="#888"/>')
    legend = [(now_label, (NOW,))] + ([(before_label, (BEFORE,))] if before_label else [])
    parts += _legend(label_w, height - 8, legend)
    return _svg(width, height, title, parts)


def _svg(width: int, height: int, title: str, parts: list[str]) -> Markup:
    body = "".join(parts)
    return Markup(f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
                  f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>{body}</svg>')


def percent(value: float) -> str:
    return f"{value * 100:.1f}%"
