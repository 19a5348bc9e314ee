"""Charts as server-rendered SVG: pure functions from numbers to markup, no Django, no database.

Every chart is an `<svg role="img">` named by its `<title>` and `<desc>` (aria-labelledby), so
assistive technology reads a summary of it; its data table sits next to it on the page. Charts
never rely on colour alone: each line of a multi-line chart has its own dash pattern and marker
shape, repeated in the legend, and bars carry their label and value as text. Every colour has a
contrast of at least 3:1 against the white background (WCAG 2.2 non-text contrast), text 4.5:1.

All text that reaches the markup (titles, labels, which may come from users) is escaped here;
the result is an `Svg` string that templates output as it is.
"""

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

# The drawing's own units; it scales to its column (at most 36rem wide), so text of FONT_SIZE
# stays readable on a phone too.
WIDTH = 480
FONT_SIZE = 15
TEXT = "#0b0c0c"
SECONDARY_TEXT = "#484949"
AXIS = "#484949"
GRID = "#cecece"  # decoration only: values are read from the axis labels and the table
BAR = "#1d70b8"
# (colour, dash pattern, marker) of each line in turn; dash and marker tell lines apart without
# colour.
STYLES = (
    ("#1d70b8", "", "circle"),
    ("#0b0c0c", "8 4", "square"),
    ("#0f7a52", "2 3", "triangle"),
    ("#ca3535", "10 3 2 3", "diamond"),
    ("#54319f", "5 2", "cross"),
    ("#7a3c1c", "1 2", "circle-open"),
)
# A rough width of one character at FONT_SIZE, to lay out legends and labels.
CHAR_WIDTH = 8.2
# Bar labels start clear of the axis line the bars grow from.
LABEL_INDENT = 8


class Svg(str):
    """Markup made by this module, with every piece of text in it escaped: safe to output."""

    def __html__(self):
        return self


@dataclass(frozen=True)
class Series:
    label: str
    values: tuple[float | None, ...]  # one per x label; None: no value for that period


@dataclass(frozen=True)
class Bar:
    label: str
    value: float | None
    note: str = ""  # shown after the value, e.g. "81.2% of those who started"


def _e(text) -> str:
    return escape(str(text), quote=True)


def _number(value: float) -> str:
    # Coordinates with at most one decimal keep the markup short.
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def default_format(value: float) -> str:
    if value == int(value):
        return f"{int(value):,}"
    return f"{value:,.2f}"


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round axis values from at most `low` to at least `high` (0 always included when the
    values do not cross it, so bars and lines are read from zero)."""
    low, high = min(low, 0.0), max(high, 0.0)
    if high == low:
        high = low + 1
    raw = (high - low) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    start = math.floor(low / step) * step
    ticks = []
    value = start
    while value < high + step * 1e-9:
        ticks.append(round(value, 10))
        value += step
    if ticks[-1] < high:
        ticks.append(round(value, 10))
    return ticks


def _open(chart_id: str, title: str, description: str, height: float) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="app-chart__svg" role="img" '
        f'viewBox="0 0 {WIDTH} {_number(height)}" '
        f'aria-labelledby="{_e(chart_id)}-title {_e(chart_id)}-desc" focusable="false">',
        f'<title id="{_e(chart_id)}-title">{_e(title)}</title>',
        f'<desc id="{_e(chart_id)}-desc">{_e(description)}</desc>',
    ]


def _text(x, y, text, anchor="start", size=FONT_SIZE, colour=TEXT, extra="") -> str:
    return (
        f'<text x="{_number(x)}" y="{_number(y)}" font-size="{size}" fill="{colour}" '
        f'text-anchor="{anchor}"{extra}>{_e(text)}</text>'
    )


def marker(shape: str, x: float, y: float, colour: str, size: float = 4) -> str:
    """A point marker: its shape tells the series apart without colour."""
    if shape == "circle":
        return f'<circle cx="{_number(x)}" cy="{_number(y)}" r="{size}" fill="{colour}"/>'
    if shape == "circle-open":
        return (
            f'<circle cx="{_number(x)}" cy="{_number(y)}" r="{size}" fill="#fff" '
            f'stroke="{colour}" stroke-width="2"/>'
        )
    if shape == "square":
        return (
            f'<rect x="{_number(x - size)}" y="{_number(y - size)}" width="{2 * size}" '
            f'height="{2 * size}" fill="{colour}"/>'
        )
    if shape == "triangle":
        points = [(x, y - size * 1.2), (x + size * 1.1, y + size), (x - size * 1.1, y + size)]
    elif shape == "diamond":
        points = [
            (x, y - size * 1.3),
            (x + size * 1.3, y),
            (x, y + size * 1.3),
            (x - size * 1.3, y),
        ]
    else:  # cross
        return (
            f'<path d="M{_number(x - size)} {_number(y - size)}L{_number(x + size)} '
            f"{_number(y + size)}M{_number(x - size)} {_number(y + size)}L{_number(x + size)} "
            f'{_number(y - size)}" stroke="{colour}" stroke-width="2.5"/>'
        )
    joined = " ".join(f"{_number(px)},{_number(py)}" for px, py in points)
    return f'<polygon points="{joined}" fill="{colour}"/>'


def _legend(series: Sequence[Series], top: float) -> tuple[list[str], float]:
    """Legend items (line sample with its dash and marker, then the label), wrapped in rows."""
    parts, x, y = [], 0.0, top + FONT_SIZE
    for index, item in enumerate(series):
        colour, dash, shape = STYLES[index % len(STYLES)]
        label = item.label
        if all(value is None for value in item.values):
            label += " (no data)"
        width = 34 + len(label) * CHAR_WIDTH + 20
        if x > 0 and x + width > WIDTH:
            x, y = 0.0, y + FONT_SIZE + 10
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        parts.append(
            f'<line x1="{_number(x)}" y1="{_number(y - 5)}" x2="{_number(x + 28)}" '
            f'y2="{_number(y - 5)}" stroke="{colour}" stroke-width="3"{dash_attr}/>'
        )
        parts.append(marker(shape, x + 14, y - 5, colour))
        parts.append(_text(x + 34, y, label))
        x += width
    return parts, y + 12


def _shorten(label: str, limit: int) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def line_chart(
    chart_id: str,
    title: str,
    description: str,
    x_labels: Sequence[str],
    series: Sequence[Series],
    *,
    x_axis: str,
    y_axis: str,
    value_text: Callable[[float], str] = default_format,
    tick_text: Callable[[float], str] | None = None,
) -> Svg:
    """A line chart of one or more series over the same x labels (periods), with a legend
    when there is more than one series. Missing values break the line."""
    tick_text = tick_text or value_text
    values = [v for s in series for v in s.values if v is not None]
    summary = describe_lines(x_labels, series, value_text)
    full_description = f"{description} {summary}".strip() if description else summary

    parts: list[str] = []
    top = 8.0
    if len(series) > 1:
        legend, top = _legend(series, top)
    else:
        legend = []
    ticks = nice_ticks(min(values, default=0), max(values, default=1))
    tick_labels = [tick_text(t) for t in ticks]
    left = max(48.0, max(len(t) for t in tick_labels) * CHAR_WIDTH + 30)
    right, plot_top = 16.0, top + 10
    plot_height = 200.0
    bottom = plot_top + plot_height
    height = bottom + 62
    plot_width = WIDTH - left - right
    low, high = ticks[0], ticks[-1]

    def y_of(value: float) -> float:
        return bottom - (value - low) / (high - low) * plot_height

    count = len(x_labels)

    def x_of(index: int) -> float:
        if count <= 1:
            return left + plot_width / 2
        return left + index * plot_width / (count - 1)

    parts += _open(chart_id, title, full_description, height)
    parts += legend
    # Grid lines and the y axis's values.
    for tick, label in zip(ticks, tick_labels, strict=True):
        y = y_of(tick)
        parts.append(
            f'<line x1="{_number(left)}" y1="{_number(y)}" x2="{_number(WIDTH - right)}" '
            f'y2="{_number(y)}" stroke="{GRID if tick else AXIS}" stroke-width="1"/>'
        )
        parts.append(_text(left - 8, y + 5, label, anchor="end"))
    # The x axis: at most about six labels, evenly spaced, always the first and the last.
    parts.append(
        f'<line x1="{_number(left)}" y1="{_number(bottom)}" x2="{_number(WIDTH - right)}" '
        f'y2="{_number(bottom)}" stroke="{AXIS}" stroke-width="1.5"/>'
    )
    longest = max((len(label) for label in x_labels), default=1)
    room = max(1, int(plot_width // (longest * CHAR_WIDTH + 16)))
    step = max(1, math.ceil((count - 1) / max(1, min(room, 6) - 1))) if count > 1 else 1
    shown = set(range(0, count, step))
    if count > 1 and (count - 1) not in shown:
        # Keep the last label; drop the one before it if the two would overlap.
        shown.discard(max(shown))
        shown.add(count - 1)
    for index in sorted(shown):
        x = x_of(index)
        anchor = "middle"
        if count > 1 and index == 0:
            anchor = "start" if x - longest * CHAR_WIDTH / 2 < 0 else "middle"
        if count > 1 and index == count - 1:
            anchor = "end"
        parts.append(
            f'<line x1="{_number(x)}" y1="{_number(bottom)}" x2="{_number(x)}" '
            f'y2="{_number(bottom + 6)}" stroke="{AXIS}" stroke-width="1.5"/>'
        )
        parts.append(_text(x, bottom + 24, x_labels[index], anchor=anchor))
    # Axis titles.
    parts.append(_text(left + plot_width / 2, bottom + 52, x_axis, anchor="middle"))
    parts.append(
        _text(
            14,
            plot_top + plot_height / 2,
            y_axis,
            anchor="middle",
            extra=f' transform="rotate(-90 14 {_number(plot_top + plot_height / 2)})"',
        )
    )
    # The lines, then their markers on top.
    small = count > 30
    for index, item in enumerate(series):
        colour, dash, shape = STYLES[index % len(STYLES)]
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        path, pen_down = [], False
        for position, value in enumerate(item.values):
            if value is None:
                pen_down = False
                continue
            command = "L" if pen_down else "M"
            path.append(f"{command}{_number(x_of(position))} {_number(y_of(value))}")
            pen_down = True
        if path:
            parts.append(
                f'<path d="{"".join(path)}" fill="none" stroke="{colour}" stroke-width="2.5"'
                f'{dash_attr} stroke-linejoin="round"/>'
            )
        for position, value in enumerate(item.values):
            if value is not None:
                parts.append(
                    marker(shape, x_of(position), y_of(value), colour, 2.5 if small else 4)
                )
    parts.append("</svg>")
    return Svg("".join(parts))


def describe_lines(
    x_labels: Sequence[str], series: Sequence[Series], value_text: Callable[[float], str]
) -> str:
    """A sentence or two that says what the lines show, for the chart's <desc>."""
    if not x_labels:
        return "There is no data to show."
    sentences = [f"From {x_labels[0]} to {x_labels[-1]}."]
    for item in series:
        known = [(x, v) for x, v in zip(x_labels, item.values, strict=True) if v is not None]
        name = f"{item.label}: " if len(series) > 1 else ""
        if not known:
            sentences.append(f"{name}no data.")
            continue
        highest = max(known, key=lambda pair: pair[1])
        lowest = min(known, key=lambda pair: pair[1])
        sentences.append(
            f"{name}latest {value_text(known[-1][1])} ({known[-1][0]}), "
            f"highest {value_text(highest[1])} ({highest[0]}), "
            f"lowest {value_text(lowest[1])} ({lowest[0]})."
        )
    return " ".join(sentences)


def bar_chart(
    chart_id: str,
    title: str,
    description: str,
    bars: Sequence[Bar],
    *,
    value_text: Callable[[float], str] = default_format,
) -> Svg:
    """Horizontal bars, each with its label above it and its value (and note) beside it: used
    for completion funnels, satisfaction distributions and comparisons."""
    summary = describe_bars(bars, value_text)
    full_description = f"{description} {summary}".strip() if description else summary
    row, label_gap, bar_height = 58.0, 20.0, 24.0
    height = max(1, len(bars)) * row + 8
    values = [bar.value for bar in bars if bar.value is not None]
    largest = max(values, default=0) or 1
    value_labels = [
        ("No data" if bar.value is None else value_text(bar.value))
        + (f" ({bar.note})" if bar.note and bar.value is not None else "")
        for bar in bars
    ]
    room = max((len(text) for text in value_labels), default=0) * CHAR_WIDTH + 12
    scale = max(60.0, WIDTH - room - 4)
    parts = _open(chart_id, title, full_description, height)
    limit = int((WIDTH - LABEL_INDENT) // CHAR_WIDTH)
    for index, (bar, value_label) in enumerate(zip(bars, value_labels, strict=True)):
        top = index * row + 4
        parts.append(_text(LABEL_INDENT, top + FONT_SIZE, _shorten(bar.label, limit)))
        bar_top = top + label_gap + 2
        width = 0.0 if bar.value is None else max(0.0, bar.value) / largest * scale
        if width:
            parts.append(
                f'<rect x="1.5" y="{_number(bar_top)}" width="{_number(max(width, 2))}" '
                f'height="{_number(bar_height)}" fill="{BAR}"/>'
            )
        parts.append(_text(width + 8, bar_top + bar_height / 2 + 5, value_label, colour=TEXT))
    # The axis the bars grow from.
    parts.append(
        f'<line x1="0.75" y1="{_number(label_gap)}" x2="0.75" y2="{_number(height - 4)}" '
        f'stroke="{AXIS}" stroke-width="1.5"/>'
    )
    parts.append("</svg>")
    return Svg("".join(parts))


def describe_bars(bars: Sequence[Bar], value_text: Callable[[float], str]) -> str:
    if not bars:
        return "There is no data to show."
    items = []
    for bar in bars:
        if bar.value is None:
            items.append(f"{bar.label}: no data")
        else:
            note = f" ({bar.note})" if bar.note else ""
            items.append(f"{bar.label}: {value_text(bar.value)}{note}")
    return "; ".join(items) + "."


def relative_luminance(colour: str) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    red, green, blue = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(red) + 0.7152 * channel(green) + 0.0722 * channel(blue)


def contrast(first: str, second: str = "#ffffff") -> float:
    """The WCAG contrast ratio of two #rrggbb colours."""
    a, b = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (a + 0.05) / (b + 0.05)
