"""The public pages' SVG charts (perfplat.public.charts) and the module tables made from the same
read API result (perfplat.public.modules): structure, names for assistive technology, escaping,
colours, and tables whose rows match the data drawn."""

import xml.etree.ElementTree as ET

import pytest

from perfplat.datasets.queries import parse_query
from perfplat.public import charts
from perfplat.public.modules import _distribution, _funnel, _table, _time_series

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # noqa: S314 - markup made by the test itself


def find_all(root, tag):
    return root.findall(f".//{SVG}{tag}")


def line(values, label="Transactions"):
    return charts.Series(label, tuple(values))


# names for assistive technology


def test_a_chart_is_an_image_named_by_its_title_and_description():
    svg = charts.line_chart(
        "module-2-chart",
        "Transactions per week",
        "Completed transactions.",
        ["6 Jan 2025", "13 Jan 2025", "20 Jan 2025"],
        [line([10, 30, 20])],
        x_axis="Week starting",
        y_axis="Count",
    )

    root = parse(svg)
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "module-2-chart-title module-2-chart-desc"
    title, desc = list(root)[:2]
    assert (title.tag, title.get("id"), title.text) == (
        f"{SVG}title",
        "module-2-chart-title",
        "Transactions per week",
    )
    assert (desc.tag, desc.get("id")) == (f"{SVG}desc", "module-2-chart-desc")
    assert desc.text == (
        "Completed transactions. From 6 Jan 2025 to 20 Jan 2025. latest 20 (20 Jan 2025), "
        "highest 30 (13 Jan 2025), lowest 10 (6 Jan 2025)."
    )


def test_a_chart_has_labelled_axes():
    svg = charts.line_chart(
        "c", "T", "", ["Jan", "Feb"], [line([0, 250])], x_axis="Month", y_axis="Cost (£)"
    )

    texts = [t.text for t in find_all(parse(svg), "text")]
    assert "Month" in texts and "Cost (£)" in texts
    assert texts[:4] == ["0", "50", "100", "150"]  # y axis values from 0
    assert "Jan" in texts and "Feb" in texts


def test_svg_output_is_marked_safe_for_templates():
    svg = charts.bar_chart("c", "T", "", [charts.Bar("a", 1)])
    assert isinstance(svg, charts.Svg) and svg.__html__() == svg


def test_every_text_is_escaped():
    evil = '<script>alert("x")</script> & more'
    svg = charts.line_chart(
        'id"><script>',
        evil,
        evil,
        [evil, "b"],
        [line([1, 2], label=evil), line([2, 1], label="other")],
        x_axis=evil,
        y_axis=evil,
    )

    assert "<script>" not in svg
    root = parse(svg)  # still well-formed XML
    assert root.find(f"{SVG}title").text == evil
    assert evil in [t.text for t in find_all(root, "text")]
    bars = charts.bar_chart("c", evil, evil, [charts.Bar(evil, 3, note=evil)])
    assert "<script>" not in bars
    parse(bars)


# lines


def test_each_value_is_a_marker_and_a_missing_value_breaks_the_line():
    svg = charts.line_chart(
        "c", "T", "", ["a", "b", "c", "d", "e"], [line([1, 2, None, 4, 5])], x_axis="x", y_axis="y"
    )

    root = parse(svg)
    paths = [p for p in find_all(root, "path") if p.get("fill") == "none"]
    assert len(paths) == 1
    assert paths[0].get("d").count("M") == 2  # two stretches: a-b and d-e
    assert len(find_all(root, "circle")) == 4


def test_lines_differ_by_dash_and_marker_not_only_by_colour_and_have_a_legend():
    series = [line([1, 2], "digital"), line([2, 1], "phone"), line([3, 3], "paper")]
    root = parse(
        charts.line_chart("c", "T", "", ["Jan", "Feb"], series, x_axis="Month", y_axis="Count")
    )

    lines = [p for p in find_all(root, "path") if p.get("fill") == "none"]
    dashes = [p.get("stroke-dasharray") for p in lines]
    assert len(set(dashes)) == 3
    assert len(find_all(root, "circle")) == 2 + 1  # digital's 2 markers, its legend sample
    assert len(find_all(root, "rect")) == 2 + 1  # phone: squares
    assert len(find_all(root, "polygon")) == 2 + 1  # paper: triangles
    legend = [t.text for t in find_all(root, "text")]
    assert {"digital", "phone", "paper"} <= set(legend)


def test_a_series_without_data_says_so_in_the_legend():
    root = parse(
        charts.line_chart(
            "c", "T", "", ["Jan"], [line([1], "a"), line([None], "b")], x_axis="x", y_axis="y"
        )
    )
    assert "b (no data)" in [t.text for t in find_all(root, "text")]


def test_colours_have_enough_contrast_against_white():
    for colour, _, _ in charts.STYLES:
        assert charts.contrast(colour) >= 3, colour
    assert charts.contrast(charts.BAR) >= 3
    assert charts.contrast(charts.AXIS) >= 3
    assert charts.contrast(charts.TEXT) >= 4.5
    assert len({colour for colour, _, _ in charts.STYLES}) == len(charts.STYLES)
    assert len({(dash, marker) for _, dash, marker in charts.STYLES}) == len(charts.STYLES)


@pytest.mark.parametrize(
    ("low", "high", "expected"),
    [
        (0, 1, [0, 0.2, 0.4, 0.6, 0.8, 1]),
        (3, 97, [0, 20, 40, 60, 80, 100]),
        (0, 410_000, [0, 100_000, 200_000, 300_000, 400_000, 500_000]),
        (-5, 5, [-6, -4, -2, 0, 2, 4, 6]),
        (0, 0, [0, 0.2, 0.4, 0.6, 0.8, 1]),
    ],
)
def test_axis_values_are_round_numbers_from_zero(low, high, expected):
    assert charts.nice_ticks(low, high) == pytest.approx(expected)


# bars


def test_bars_carry_their_label_and_value_as_text():
    root = parse(
        charts.bar_chart(
            "funnel",
            "Completion",
            "Journeys.",
            [charts.Bar("Started", 600), charts.Bar("Completed", 450, "75.0% of started")],
        )
    )

    assert root.get("role") == "img"
    assert root.find(f"{SVG}desc").text == (
        "Journeys. Started: 600; Completed: 450 (75.0% of started)."
    )
    widths = [float(r.get("width")) for r in find_all(root, "rect")]
    assert widths[1] / widths[0] == pytest.approx(0.75)
    texts = [t.text for t in find_all(root, "text")]
    assert texts == ["Started", "600", "Completed", "450 (75.0% of started)"]


def test_a_bar_without_data_says_so():
    root = parse(charts.bar_chart("c", "T", "", [charts.Bar("a", 5), charts.Bar("b", None)]))
    assert len(find_all(root, "rect")) == 1
    assert "No data" in [t.text for t in find_all(root, "text")]


# module tables: the rows match the data the chart draws


def query(text: str):
    from urllib.parse import parse_qs

    return parse_query(parse_qs(text), raw_queries_allowed=False, now=1_736_899_200)


BASE = {"number": 3, "title": "Transactions", "description": "", "value": "count:sum"}


def test_a_time_series_table_has_a_row_per_period_with_the_charted_values():
    result = [
        {"_start_at": "2025-01-06T00:00:00+00:00", "_count": 2, "count:sum": 120},
        {"_start_at": "2025-01-13T00:00:00+00:00", "_count": 0, "count:sum": None},
        {"_start_at": "2025-01-20T00:00:00+00:00", "_count": 3, "count:sum": 90},
    ]
    parts = _time_series(BASE, {}, query("period=week&collect=count:sum&duration=3"), result)

    assert [c.key for c in parts["columns"]] == ["_start_at", "count:sum"]
    assert parts["rows"] == (
        ("2025-01-06T00:00:00+00:00", 120),
        ("2025-01-13T00:00:00+00:00", None),
        ("2025-01-20T00:00:00+00:00", 90),
    )
    assert parts["cells"] == (
        ("6 January 2025", "120"),
        ("13 January 2025", "No data"),
        ("20 January 2025", "90"),
    )
    root = parse(parts["chart"])
    assert len(find_all(root, "circle")) == 2  # the two known values


def test_a_grouped_time_series_has_a_column_and_a_line_per_group():
    result = [
        {
            "channel": "digital",
            "values": [
                {"_start_at": "2024-12-01T00:00:00+00:00", "count:sum": 200},
                {"_start_at": "2025-01-01T00:00:00+00:00", "count:sum": 300},
            ],
        },
        {
            "channel": "phone",
            "values": [
                {"_start_at": "2024-12-01T00:00:00+00:00", "count:sum": 200},
                {"_start_at": "2025-01-01T00:00:00+00:00", "count:sum": 100},
            ],
        },
    ]
    parts = _time_series(
        BASE, {}, query("period=month&group_by=channel&collect=count:sum&duration=2"), result
    )

    assert [c.label for c in parts["columns"]] == ["Month", "digital", "phone"]
    assert parts["cells"] == (("December 2024", "200", "200"), ("January 2025", "300", "100"))
    legend = [t.text for t in find_all(parse(parts["chart"]), "text")]
    assert "digital" in legend and "phone" in legend


def test_flattened_grouped_results_give_the_same_table():
    nested = [
        {"channel": "digital", "values": [{"_start_at": "2025-01-01T00:00:00+00:00", "n": 1}]}
    ]
    flat = [{"channel": "digital", "_start_at": "2025-01-01T00:00:00+00:00", "n": 1}]
    base = BASE | {"value": "n"}
    one = _time_series(base, {}, query("period=month&group_by=channel&collect=n:sum"), nested)
    two = _time_series(
        base, {}, query("period=month&group_by=channel&collect=n:sum&flatten=true"), flat
    )
    assert one["rows"] == two["rows"]


def test_a_funnel_adds_up_each_stage_over_the_periods():
    result = [
        {"_start_at": "2025-01-06T00:00:00+00:00", "started:sum": 100, "completed:sum": 50},
        {"_start_at": "2025-01-13T00:00:00+00:00", "started:sum": 500, "completed:sum": 400},
    ]
    parts = _funnel(
        BASE, {}, query("period=week&collect=started:sum&collect=completed:sum"), result
    )

    assert parts["rows"] == (("Started", 600, 1.0), ("Completed", 450, 0.75))
    assert parts["cells"] == (("Started", "600", "100.0%"), ("Completed", "450", "75.0%"))
    texts = [t.text for t in find_all(parse(parts["chart"]), "text")]
    assert texts == ["Started", "600", "Completed", "450 (75.0% of started)"]


def test_a_satisfaction_distribution_names_each_rating():
    collect = "&".join(f"collect=rating_{n}:sum" for n in range(1, 6))
    result = [
        {"_start_at": "2025-01-06T00:00:00+00:00"} | {f"rating_{n}:sum": n for n in range(1, 6)}
    ]
    parts = _distribution(BASE, {}, query(f"period=week&{collect}"), result)

    assert [row[0] for row in parts["rows"]] == [
        "Very dissatisfied",
        "Dissatisfied",
        "Neither satisfied nor dissatisfied",
        "Satisfied",
        "Very satisfied",
    ]
    assert [row[1] for row in parts["rows"]] == [1, 2, 3, 4, 5]
    assert parts["cells"][4] == ("Very satisfied", "5", "33.3%")


def test_a_table_module_lists_group_period_and_collected_columns():
    result = [
        {
            "channel": "digital",
            "values": [{"_start_at": "2025-01-01T00:00:00+00:00", "_count": 3, "count:sum": 7}],
        }
    ]
    parts = _table(BASE, {}, query("period=quarter&group_by=channel&collect=count:sum"), result)

    assert [c.key for c in parts["columns"]] == ["channel", "_start_at", "count:sum", "_count"]
    assert parts["rows"] == (("digital", "2025-01-01T00:00:00+00:00", 7, 3),)
    assert parts["cells"] == (("digital", "January to March 2025", "7", "3"),)
    assert parts["chart"] is None
