"""parse_query: read API parameters in, a validated Query (or InvalidQuery) out. No HTTP, no
database."""

from datetime import UTC, datetime

import pytest

from perfplat.datasets.queries import Collect, Query, parse_query
from perfplat.errors import InvalidQuery


def at(*parts: int) -> int:
    """Epoch seconds of a UTC date-time given as year, month, day[, hour, minute, second]."""
    return int(datetime(*parts, tzinfo=UTC).timestamp())


NOW = at(2024, 3, 13, 15, 45, 10)  # a Wednesday


def parse(raw_queries_allowed=True, now=NOW, **params) -> Query:
    """parse_query over keyword parameters; a list gives a repeated parameter."""
    lists = {name: value if isinstance(value, list) else [value] for name, value in params.items()}
    return parse_query(lists, raw_queries_allowed=raw_queries_allowed, now=now)


def refusal(raw_queries_allowed=True, **params) -> str:
    with pytest.raises(InvalidQuery) as caught:
        parse(raw_queries_allowed=raw_queries_allowed, **params)
    return caught.value.message


def test_no_parameters_is_a_raw_query_of_the_first_thousand_records():
    query = parse()
    assert query == Query(limit=1000)
    assert query.is_raw


def test_a_raw_query_may_ask_for_up_to_ten_thousand_records():
    assert parse(limit="10000").limit == 10_000
    assert parse(limit="0").limit == 0


def test_a_raw_query_asking_for_more_than_ten_thousand_records_is_refused():
    with pytest.raises(InvalidQuery) as raised:
        parse(limit="10001")
    assert raised.value.message == (
        "limit must be at most 10000 for a read without group_by or period: read the rest in "
        "smaller ranges of start_at and end_at"
    )


def test_group_by_or_period_makes_a_query_aggregated():
    assert not parse(group_by="a").is_raw
    assert not parse(period="day").is_raw


def test_start_at_and_end_at_become_epoch_seconds_in_utc():
    query = parse(start_at="2024-01-01T01:00:00+01:00", end_at="2024-01-02T00:00:00Z")
    assert (query.start_at, query.end_at) == (at(2024, 1, 1), at(2024, 1, 2))


def test_an_offset_whose_plus_arrived_as_a_space_is_read_as_positive():
    query = parse(start_at="2024-01-01T01:00:00 01:00", end_at="2024-01-02T02:00:00 02:00")
    assert (query.start_at, query.end_at) == (at(2024, 1, 1), at(2024, 1, 2))


def test_a_negative_offset_is_read_as_such():
    query = parse(start_at="2023-12-31T19:00:00-05:00", end_at="2024-01-02T00:00:00Z")
    assert query.start_at == at(2024, 1, 1)


@pytest.mark.parametrize(
    ("period", "start", "end"),
    [
        ("hour", at(2024, 3, 13, 15), at(2024, 3, 13, 17)),
        ("day", at(2024, 3, 13), at(2024, 3, 15)),
        ("week", at(2024, 3, 11), at(2024, 3, 25)),
        ("month", at(2024, 3, 1), at(2024, 5, 1)),
        ("quarter", at(2024, 1, 1), at(2024, 7, 1)),
        ("year", at(2024, 1, 1), at(2026, 1, 1)),
    ],
)
def test_duration_counts_forward_from_the_start_of_start_ats_period(period, start, end):
    query = parse(start_at="2024-03-13T15:45:10Z", duration="2", period=period)
    assert (query.start_at, query.end_at) == (start, end)


@pytest.mark.parametrize(
    ("period", "start", "end"),
    [
        ("hour", at(2024, 3, 13, 13), at(2024, 3, 13, 15)),
        ("day", at(2024, 3, 11), at(2024, 3, 13)),
        ("week", at(2024, 2, 26), at(2024, 3, 11)),
        ("month", at(2024, 1, 1), at(2024, 3, 1)),
        ("quarter", at(2023, 7, 1), at(2024, 1, 1)),
        ("year", at(2022, 1, 1), at(2024, 1, 1)),
    ],
)
def test_duration_counts_back_from_the_start_of_end_ats_period(period, start, end):
    query = parse(end_at="2024-03-13T15:45:10Z", duration="2", period=period)
    assert (query.start_at, query.end_at) == (start, end)


@pytest.mark.parametrize(
    ("period", "start", "end"),
    [
        ("hour", at(2024, 3, 13, 12), at(2024, 3, 13, 15)),
        ("day", at(2024, 3, 10), at(2024, 3, 13)),
        ("week", at(2024, 2, 19), at(2024, 3, 11)),
        ("month", at(2023, 12, 1), at(2024, 3, 1)),
        ("quarter", at(2023, 4, 1), at(2024, 1, 1)),
        ("year", at(2021, 1, 1), at(2024, 1, 1)),
    ],
)
def test_duration_alone_counts_complete_periods_back_from_now(period, start, end):
    query = parse(duration="3", period=period)
    assert (query.start_at, query.end_at) == (start, end)


def test_duration_back_from_end_of_march_counts_whole_months():
    query = parse(end_at="2024-03-31T00:00:00Z", duration="1", period="month")
    assert (query.start_at, query.end_at) == (at(2024, 2, 1), at(2024, 3, 1))


def test_inclusive_with_period_moves_end_at_to_the_end_of_its_period():
    query = parse(
        start_at="2024-01-01T00:00:00Z",
        end_at="2024-02-14T10:00:00Z",
        period="month",
        inclusive="true",
    )
    assert query.end_at == at(2024, 3, 1)


def test_inclusive_with_period_on_a_period_start_includes_that_whole_period():
    query = parse(
        start_at="2024-01-01T00:00:00Z",
        end_at="2024-01-03T00:00:00Z",
        period="day",
        inclusive="true",
    )
    assert query.end_at == at(2024, 1, 4)


def test_inclusive_without_period_includes_the_moment_of_end_at():
    query = parse(start_at="2024-01-01T00:00:00Z", end_at="2024-01-03T00:00:00Z", inclusive="true")
    assert query.end_at == at(2024, 1, 3) + 1


def test_inclusive_with_duration_back_from_now_includes_the_current_period():
    query = parse(duration="2", period="day", inclusive="true")
    assert (query.start_at, query.end_at) == (at(2024, 3, 11), at(2024, 3, 14))


def test_inclusive_false_leaves_end_at_alone():
    query = parse(start_at="2024-01-01T00:00:00Z", end_at="2024-01-03T00:00:00Z", inclusive="false")
    assert query.end_at == at(2024, 1, 3)


def test_group_by_keeps_the_order_of_its_fields():
    assert parse(group_by=["b", "a"]).group_by == ("b", "a")


def test_filters_split_at_the_first_colon():
    query = parse(filter_by=["at:10:30", "empty:"], filter_by_prefix="name:Dr:")
    assert query.filters == (("at", "10:30"), ("empty", ""))
    assert query.prefix_filters == (("name", "Dr:"),)


def test_collect_keeps_each_field_and_method_once_in_order():
    query = parse(group_by="g", collect=["b:sum", "a", "b:sum", "a:set", "a"])
    assert query.collect == (Collect("b", "sum"), Collect("a", None), Collect("a", "set"))


def test_plain_collect_gives_the_field_and_its_set_as_keys():
    assert Collect("a", None).keys == ("a", "a:set")
    assert Collect("a", "mean").keys == ("a:mean",)


def test_sort_by_gives_the_field_and_its_direction():
    assert (parse(sort_by="n:descending").sort_by, parse(sort_by="n:descending").descending) == (
        "n",
        True,
    )
    assert parse(sort_by="n:ascending").descending is False


def test_sort_by_a_collected_key_keeps_the_whole_key():
    query = parse(group_by="g", collect="n:sum", sort_by="n:sum:descending")
    assert (query.sort_by, query.descending) == ("n:sum", True)


def test_limit_is_a_whole_number():
    assert parse(limit="007").limit == 7
    assert parse(limit="0").limit == 0


def test_limit_beyond_64_bits_is_capped_at_the_largest_database_integer():
    assert parse(limit="1" + "0" * 30, group_by="a").limit == 2**63 - 1
    assert parse(limit="0" * 30 + "12").limit == 12


def test_flatten_and_format_are_read():
    query = parse(flatten="true", format="csv")
    assert (query.flatten, query.format) == (True, "csv")
    assert (parse().flatten, parse().format) == (False, "json")


def test_data_set_without_raw_queries_accepts_a_relative_range_back_from_now():
    query = parse(raw_queries_allowed=False, duration="4", period="week")
    assert (query.start_at, query.end_at) == (at(2024, 2, 12), at(2024, 3, 11))


def test_data_set_without_raw_queries_accepts_hours_at_any_time():
    query = parse(
        raw_queries_allowed=False,
        period="hour",
        start_at="2024-01-01T10:00:00Z",
        end_at="2024-01-01T11:00:00Z",
    )
    assert (query.start_at, query.end_at) == (at(2024, 1, 1, 10), at(2024, 1, 1, 11))


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {"colour": "red"},
            "Unknown parameter(s): colour. The read API accepts: start_at, end_at, duration, "
            "period, sort_by, limit, flatten, inclusive, format, group_by, filter_by, "
            "filter_by_prefix, collect",
        ),
        ({"limit": ["1", "1"]}, "limit may be given only once"),
        (
            {"period": "minute"},
            "period must be one of hour, day, week, month, quarter, year, not 'minute'",
        ),
        ({"format": "xml"}, "format must be json or csv, not 'xml'"),
        (
            {"start_at": "2024-01-01T00:00:00.5Q", "end_at": "2024-01-02T00:00:00Z"},
            "start_at '2024-01-01T00:00:00.5Q' is not an ISO 8601 date-time with a UTC offset, "
            "such as 2024-01-01T00:00:00Z",
        ),
        (
            {"start_at": "2024-01-01T00:00:00+24:00", "end_at": "2024-01-02T00:00:00Z"},
            "start_at '2024-01-01T00:00:00+24:00' is not an ISO 8601 date-time with a UTC "
            "offset, such as 2024-01-01T00:00:00Z",
        ),
        (
            {"start_at": "2024-01-01T00:00:00Z"},
            "start_at needs end_at as well (or duration with period for a relative range)",
        ),
        ({"duration": "3"}, "duration needs a period (hour, day, week, month, quarter, year)"),
        ({"duration": "0", "period": "day"}, "duration must be a positive whole number, not '0'"),
        ({"duration": "²", "period": "day"}, "duration must be a positive whole number, not '²'"),
        (
            {"duration": "9" * 5000, "period": "day"},
            "duration is too long: the range must be between 1000-01-01T00:00:00Z and "
            "9000-01-01T00:00:00Z",
        ),
        (
            {"end_at": "1000-06-01T00:00:00Z", "duration": "1", "period": "year"},
            "duration is too long: the range must be between 1000-01-01T00:00:00Z and "
            "9000-01-01T00:00:00Z",
        ),
        (
            {
                "start_at": "2024-01-01T00:00:00Z",
                "end_at": "2024-01-02T00:00:00Z",
                "duration": "1",
                "period": "day",
            },
            "Absolute and relative time cannot be requested at the same time: give start_at "
            "and end_at, or one of them with duration",
        ),
        ({"inclusive": "yes"}, "inclusive must be true or false, not 'yes'"),
        ({"inclusive": "true"}, "inclusive needs end_at (or duration)"),
        ({"flatten": "True"}, "flatten must be true or false, not 'True'"),
        ({"group_by": "9lives"}, "group_by: '9lives' is not a valid field name"),
        ({"group_by": "_id"}, "group_by: cannot group by internal field '_id'"),
        ({"group_by": ["a", "a"]}, "group_by: 'a' is given twice"),
        ({"filter_by": "a"}, "filter_by must be field:value, not 'a'"),
        ({"filter_by_prefix": "_id:x"}, "filter_by_prefix: cannot filter by internal field '_id'"),
        ({"collect": "a"}, "collect needs group_by or period"),
        (
            {"period": "day", "collect": "a:max"},
            "collect: unknown method 'max' in 'a:max'; use one of sum, mean, count, set",
        ),
        ({"group_by": "a", "collect": "a:count"}, "collect: cannot collect the group_by field 'a'"),
        ({"period": "day", "collect": "_id"}, "collect: cannot collect internal field '_id'"),
        (
            {"period": "day", "sort_by": "a:ascending"},
            "sort_by is not allowed for period queries without group_by: they are always in "
            "time order",
        ),
        ({"sort_by": "a:up"}, "sort_by must be field:ascending or field:descending, not 'a:up'"),
        ({"sort_by": ":ascending"}, "sort_by: '' is not a valid field name"),
        ({"limit": "-3"}, "limit must be a non-negative whole number, not '-3'"),
        ({"group_by": "a\x00"}, "group_by must not contain the NUL character (\\u0000)"),
    ],
)
def test_invalid_queries_are_refused_with_a_message(params, message):
    assert refusal(**params) == message


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, "This data set does not allow raw queries: add group_by or period"),
        (
            {"period": "day", "start_at": "2024-01-01T06:00:00Z", "end_at": "2024-01-09T00:00:00Z"},
            "start_at must be midnight UTC for this data set",
        ),
        (
            {"period": "day", "start_at": "2024-01-01T00:00:00Z", "end_at": "2024-01-07T23:00:00Z"},
            "end_at must be midnight UTC for this data set",
        ),
        (
            {"group_by": "a", "start_at": "2024-01-01T00:00:00Z", "end_at": "2024-01-07T00:00:00Z"},
            "start_at and end_at must be at least 7 days apart for this data set",
        ),
        (
            {
                "period": "week",
                "start_at": "2024-01-07T00:00:00Z",
                "end_at": "2024-01-22T00:00:00Z",
            },
            "start_at must be a Monday for period=week",
        ),
        (
            {
                "period": "month",
                "start_at": "2024-01-01T00:00:00Z",
                "end_at": "2024-02-15T00:00:00Z",
            },
            "end_at must be the first day of a month for period=month",
        ),
    ],
)
def test_data_set_without_raw_queries_refuses_unaligned_or_raw_queries(params, message):
    assert refusal(raw_queries_allowed=False, **params) == message


def test_data_set_without_raw_queries_checks_the_given_end_at_not_the_inclusive_one():
    query = parse(
        raw_queries_allowed=False,
        period="day",
        start_at="2024-01-01T00:00:00Z",
        end_at="2024-01-08T00:00:00Z",
        inclusive="true",
    )
    assert query.end_at == at(2024, 1, 9)


def test_a_range_of_more_than_ten_thousand_periods_is_refused():
    with pytest.raises(InvalidQuery) as error:
        parse_query(
            {
                "period": ["hour"],
                "start_at": ["2000-01-01T00:00:00Z"],
                "end_at": ["2002-01-01T00:00:00Z"],
            },
            raw_queries_allowed=True,
            now=0,
        )
    assert error.value.message == (
        "The range holds more than 10000 hours: ask for a longer period or a shorter range"
    )


def test_a_range_of_ten_thousand_days_is_allowed():
    query = parse_query(
        {"period": ["day"], "start_at": ["2000-01-01T00:00:00Z"], "duration": ["10000"]},
        raw_queries_allowed=True,
        now=0,
    )
    assert (query.end_at - query.start_at) // 86400 == 10000
