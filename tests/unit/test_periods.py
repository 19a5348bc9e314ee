"""Time in perfplat: parsing ISO 8601, period starts, moving by periods, period ranges."""

from datetime import UTC, datetime

import pytest

from perfplat.datasets.periods import (
    add_periods,
    format_timestamp,
    parse_datetime,
    period_range,
    period_start,
    period_starts,
)


def at(text: str) -> int:
    """Epoch seconds of a UTC moment written as YYYY-MM-DD[THH:MM:SS]."""
    if "T" not in text:
        text += "T00:00:00"
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp())


NEW_YEAR_2024 = 1704067200  # 2024-01-01T00:00:00Z


# parse_datetime


@pytest.mark.parametrize(
    "text",
    [
        "2024-01-01T00:00:00Z",
        "2024-01-01T00:00:00z",
        "2024-01-01t00:00:00Z",
        "2024-01-01 00:00:00Z",
        "2024-01-01T00:00:00+00:00",
        "2024-01-01T00:00:00-00:00",
        "2024-01-01T00:00:00+0000",
        "2024-01-01T00:00:00+00",
        "2024-01-01T00:00Z",
    ],
)
def test_utc_date_times_are_parsed_in_every_accepted_spelling(text):
    assert parse_datetime(text) == NEW_YEAR_2024


@pytest.mark.parametrize(
    "text",
    [
        "2024-01-01T01:00:00+01:00",
        "2024-01-01T01:00:00+0100",
        "2024-01-01T01:00:00+01",
        "2024-01-01T05:30:00+05:30",
        "2023-12-31T19:00:00-05:00",
        "2023-12-31T14:15:00-09:45",
    ],
)
def test_offsets_are_converted_to_utc(text):
    assert parse_datetime(text) == NEW_YEAR_2024


@pytest.mark.parametrize(
    "text",
    [
        "2024-01-01T00:00:00.999Z",
        "2024-01-01T00:00:00.5+00:00",
        "2024-01-01T00:00:00,25Z",
        "2024-01-01T00:00:00.000001Z",
    ],
)
def test_fractions_of_a_second_are_dropped(text):
    assert parse_datetime(text) == NEW_YEAR_2024


def test_a_leap_day_is_parsed():
    assert parse_datetime("2024-02-29T12:00:00Z") == at("2024-02-29T12:00:00")


def test_the_epoch_is_zero():
    assert parse_datetime("1970-01-01T00:00:00Z") == 0


@pytest.mark.parametrize(
    "text",
    [
        "2024-01-01T00:00:00",
        "2024-01-01",
        "2024-01-01T00:00",
        "20240101T000000Z",
        "2024-1-1T00:00:00Z",
        "2024-01-01T00:00:00 Z",
        " 2024-01-01T00:00:00Z",
        "2024-01-01T00:00:00Z ",
        "2024-01-01T00:00:00+1",
        "2024-01-01T00:00:00UTC",
        "yesterday",
        "",
    ],
)
def test_text_that_is_not_an_iso_date_time_with_offset_is_refused(text):
    with pytest.raises(ValueError, match="not an ISO 8601 date-time with a UTC offset"):
        parse_datetime(text)


@pytest.mark.parametrize(
    "text",
    [
        "2024-02-30T00:00:00Z",
        "2023-02-29T00:00:00Z",
        "2024-13-01T00:00:00Z",
        "2024-00-10T00:00:00Z",
        "2024-04-31T00:00:00Z",
        "2024-01-01T24:00:00Z",
        "2024-01-01T23:60:00Z",
        "2024-01-01T23:59:60Z",
    ],
)
def test_dates_and_times_that_do_not_exist_are_refused(text):
    with pytest.raises(ValueError):
        parse_datetime(text)


@pytest.mark.parametrize("text", ["2024-01-01T00:00:00+24:00", "2024-01-01T00:00:00-25:00"])
def test_offsets_of_a_day_or_more_are_refused(text):
    with pytest.raises(ValueError):
        parse_datetime(text)


@pytest.mark.parametrize("value", [None, 1704067200, 1.5, ["2024-01-01T00:00:00Z"]])
def test_values_that_are_not_strings_are_refused(value):
    with pytest.raises(ValueError, match="not an ISO 8601 date-time with a UTC offset"):
        parse_datetime(value)


# format_timestamp


def test_timestamps_are_formatted_in_utc_with_a_plus_zero_offset():
    assert format_timestamp(at("2024-03-14T15:09:26")) == "2024-03-14T15:09:26+00:00"


def test_no_timestamp_formats_as_none():
    assert format_timestamp(None) is None


# period_starts

THURSDAY = at("2024-03-14T15:09:26")


def test_period_starts_of_a_moment():
    assert period_starts(THURSDAY) == (
        at("2024-03-14T15:00:00"),
        at("2024-03-14"),
        at("2024-03-11"),
        at("2024-03-01"),
        at("2024-01-01"),
        at("2024-01-01"),
    )


@pytest.mark.parametrize(
    ("moment", "monday"),
    [
        ("2024-03-11T00:00:00", "2024-03-11"),
        ("2024-03-11T23:59:59", "2024-03-11"),
        ("2024-03-14T15:09:26", "2024-03-11"),
        ("2024-03-17T23:59:59", "2024-03-11"),
        ("2024-03-18T00:00:00", "2024-03-18"),
    ],
)
def test_week_periods_start_on_monday(moment, monday):
    assert period_start("week", at(moment)) == at(monday)


def test_a_week_can_start_in_the_previous_year():
    assert period_start("week", at("2025-01-01T08:00:00")) == at("2024-12-30")


def test_the_week_of_the_epoch_starts_on_the_monday_before_it():
    assert period_start("week", 0) == at("1969-12-29")


@pytest.mark.parametrize(
    ("moment", "quarter"),
    [
        ("2024-01-01T00:00:00", "2024-01-01"),
        ("2024-02-15T12:00:00", "2024-01-01"),
        ("2024-03-31T23:59:59", "2024-01-01"),
        ("2024-04-01T00:00:00", "2024-04-01"),
        ("2024-06-30T23:59:59", "2024-04-01"),
        ("2024-07-01T00:00:00", "2024-07-01"),
        ("2024-09-30T12:00:00", "2024-07-01"),
        ("2024-10-01T00:00:00", "2024-10-01"),
        ("2024-12-31T23:59:59", "2024-10-01"),
    ],
)
def test_quarters_start_in_january_april_july_and_october(moment, quarter):
    assert period_start("quarter", at(moment)) == at(quarter)


@pytest.mark.parametrize(
    ("moment", "month"),
    [
        ("2024-02-29T23:59:59", "2024-02-01"),
        ("2024-03-01T00:00:00", "2024-03-01"),
        ("2023-12-31T23:59:59", "2023-12-01"),
    ],
)
def test_months_start_on_their_first_day_at_midnight(moment, month):
    assert period_start("month", at(moment)) == at(month)


@pytest.mark.parametrize(
    ("moment", "year"),
    [("2023-12-31T23:59:59", "2023-01-01"), ("2024-01-01T00:00:00", "2024-01-01")],
)
def test_years_start_on_the_first_of_january(moment, year):
    assert period_start("year", at(moment)) == at(year)


def test_days_start_at_midnight_utc():
    assert period_start("day", at("2024-03-14T23:59:59")) == at("2024-03-14")


def test_hours_start_on_the_hour():
    assert period_start("hour", at("2024-03-14T15:59:59")) == at("2024-03-14T15:00:00")


# add_periods


@pytest.mark.parametrize(
    ("period", "count", "expected"),
    [
        ("hour", 1, "2024-03-14T16:09:26"),
        ("hour", -16, "2024-03-13T23:09:26"),
        ("day", 18, "2024-04-01T15:09:26"),
        ("week", 1, "2024-03-21T15:09:26"),
        ("week", -11, "2023-12-28T15:09:26"),
        ("month", 1, "2024-04-14T15:09:26"),
        ("month", 10, "2025-01-14T15:09:26"),
        ("month", -3, "2023-12-14T15:09:26"),
        ("quarter", 1, "2024-06-14T15:09:26"),
        ("quarter", -1, "2023-12-14T15:09:26"),
        ("year", 2, "2026-03-14T15:09:26"),
        ("year", 0, "2024-03-14T15:09:26"),
    ],
)
def test_adding_periods_moves_the_moment(period, count, expected):
    assert add_periods(period, THURSDAY, count) == at(expected)


@pytest.mark.parametrize(
    ("period", "start", "count", "expected"),
    [
        ("month", "2024-01-31", 1, "2024-02-29"),
        ("month", "2023-01-31", 1, "2023-02-28"),
        ("month", "2024-03-31", -1, "2024-02-29"),
        ("month", "2024-05-31", 1, "2024-06-30"),
        ("quarter", "2023-11-30", 1, "2024-02-29"),
        ("year", "2024-02-29", 1, "2025-02-28"),
        ("year", "2024-02-29", 4, "2028-02-29"),
    ],
)
def test_adding_months_clamps_to_the_end_of_a_shorter_month(period, start, count, expected):
    assert add_periods(period, at(start), count) == at(expected)


# period_range


def test_period_range_starts_at_the_period_containing_start():
    assert period_range("week", at("2024-03-14"), at("2024-03-26")) == [
        at("2024-03-11"),
        at("2024-03-18"),
        at("2024-03-25"),
    ]


def test_period_range_excludes_the_period_starting_at_end():
    assert period_range("month", at("2024-01-15"), at("2024-04-01")) == [
        at("2024-01-01"),
        at("2024-02-01"),
        at("2024-03-01"),
    ]


def test_period_range_of_quarters_crosses_years():
    assert period_range("quarter", at("2023-08-01"), at("2024-04-02")) == [
        at("2023-07-01"),
        at("2023-10-01"),
        at("2024-01-01"),
        at("2024-04-01"),
    ]


def test_period_range_of_years():
    assert period_range("year", at("2022-06-01"), at("2024-01-01")) == [
        at("2022-01-01"),
        at("2023-01-01"),
    ]


def test_period_range_of_a_week_of_days():
    assert period_range("day", at("2024-02-26"), at("2024-03-04")) == [
        at(f"2024-0{month}-{day:02d}") for month, day in [(2, 26), (2, 27), (2, 28), (2, 29)]
    ] + [at(f"2024-03-0{day}") for day in (1, 2, 3)]


def test_period_range_of_hours_within_a_day():
    assert period_range("hour", at("2024-03-14T22:30:00"), at("2024-03-15T01:00:00")) == [
        at("2024-03-14T22:00:00"),
        at("2024-03-14T23:00:00"),
        at("2024-03-15T00:00:00"),
    ]


def test_period_range_is_empty_when_end_is_the_start_of_the_first_period():
    assert period_range("month", at("2024-03-01"), at("2024-03-01")) == []


def test_period_range_of_months_keeps_first_days_after_short_months():
    starts = period_range("month", at("2024-01-01"), at("2025-01-01"))
    assert [datetime.fromtimestamp(s, UTC).strftime("%m-%d") for s in starts] == [
        f"{month:02d}-01" for month in range(1, 13)
    ]
