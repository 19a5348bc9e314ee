"""The KPI maths (SPEC section 3): exact values, "not enough data", period changes, rolling years,
roll-ups, rounding, and hypothesis checks against a direct computation. Plain data, no database.
The calendar rules (records shared between periods by day, complete periods) are in
test_kpi_calendar.py."""

from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from perfplat.kpis.maths import (
    ServiceData,
    Source,
    exact,
    monthly,
    plain,
    pounds,
    quarterly,
    rolled_up_kpis,
    rounded_value,
    service_kpis,
    service_sides,
)
from perfplat.kpis.periods import (
    Period,
    add_months,
    latest_period,
    period_containing,
    periods_to_show,
)

# Latest complete month: January 2025; latest complete quarter: October to December 2024.
TODAY = date(2025, 2, 10)
JAN, FEB = date(2025, 1, 1), date(2025, 2, 1)
DEC = date(2024, 12, 1)


def month(year: int, number: int) -> date:
    return date(year, number, 1)


def latest(data: ServiceData, kind="month"):
    return service_kpis(data, kind, TODAY)[-1]


def kpi(data: ServiceData, name: str, kind="month", channel=None):
    return latest(data, kind).get(name, channel)


def ratings(*counts) -> dict:
    return {f"rating_{n}": count for n, count in enumerate(counts, start=1)}


def transactions(digital, phone=0, paper=0) -> dict:
    return {"digital": digital, "phone": phone, "paper": paper}


# each KPI


def test_cost_per_transaction_is_total_cost_over_all_completed_transactions():
    data = ServiceData(
        transactions=monthly({JAN: transactions(700, 200, 100)}),
        cost=monthly({JAN: {"all": 234.56, "digital": 350, "phone": 400, "paper": 250}}),
    )
    found = kpi(data, "cost_per_transaction")
    assert found.numerator == Fraction("1234.56")
    assert found.denominator == 1000
    assert found.value == Fraction("1.23456")
    assert rounded_value("cost_per_transaction", found.value) == Decimal("1.23")
    assert found.not_enough_data is None


def test_cost_per_transaction_per_channel_where_costs_are_given_per_channel():
    data = ServiceData(
        transactions=monthly({JAN: transactions(700, 200, 100)}),
        cost=monthly({JAN: {"all": 234.56, "digital": 350, "phone": 400, "paper": 250}}),
    )
    by_channel = latest(data).cost_by_channel
    assert sorted(by_channel) == ["digital", "paper", "phone"]  # "all" is not a channel
    assert by_channel["digital"].value == Fraction(1, 2)
    assert by_channel["phone"].value == 2
    assert by_channel["paper"].value == Fraction(5, 2)


def test_a_cost_given_only_for_all_channels_has_no_per_channel_figures():
    data = ServiceData(
        transactions=monthly({JAN: transactions(80, 20)}), cost=monthly({JAN: {"all": 50}})
    )
    assert latest(data).cost_by_channel == {}
    assert kpi(data, "cost_per_transaction").value == Fraction(1, 2)


def test_user_satisfaction_is_the_share_rated_satisfied_or_very_satisfied():
    data = ServiceData(satisfaction=monthly({JAN: ratings(10, 20, 30, 25, 15)}))
    found = kpi(data, "user_satisfaction")
    assert (found.numerator, found.denominator, found.value) == (40, 100, Fraction(2, 5))


def test_user_satisfaction_score_maps_ratings_to_0_25_50_75_100_percent():
    data = ServiceData(satisfaction=monthly({JAN: ratings(10, 20, 30, 25, 15)}))
    found = kpi(data, "user_satisfaction_score")
    # (0 x 10 + 0.25 x 20 + 0.5 x 30 + 0.75 x 25 + 1 x 15) / 100
    assert found.numerator == Fraction("53.75")
    assert found.value == Fraction("0.5375")


def test_every_response_very_satisfied_scores_100_percent_and_very_dissatisfied_0():
    top = ServiceData(satisfaction=monthly({JAN: ratings(0, 0, 0, 0, 7)}))
    bottom = ServiceData(satisfaction=monthly({JAN: ratings(7, 0, 0, 0, 0)}))
    assert kpi(top, "user_satisfaction_score").value == 1
    assert kpi(bottom, "user_satisfaction_score").value == 0
    assert kpi(bottom, "user_satisfaction").value == 0


def test_completion_rate_is_completed_over_started():
    data = ServiceData(completion=monthly({JAN: {"started": 1200, "completed": 900}}))
    assert kpi(data, "completion_rate").value == Fraction(3, 4)


def test_digital_take_up_is_digital_over_all_channels():
    data = ServiceData(transactions=monthly({JAN: transactions(860, 90, 50)}))
    found = kpi(data, "digital_take_up")
    assert (found.numerator, found.denominator, found.value) == (860, 1000, Fraction(43, 50))


def test_no_digital_transactions_is_a_take_up_of_0_not_missing_data():
    data = ServiceData(transactions=monthly({JAN: {"phone": 10}}))
    found = kpi(data, "digital_take_up")
    assert found.value == 0
    assert found.not_enough_data is None


def test_the_five_kpis_come_in_a_fixed_order():
    names = [k.kpi for k in latest(ServiceData()).kpis]
    assert names == [
        "cost_per_transaction",
        "user_satisfaction",
        "user_satisfaction_score",
        "completion_rate",
        "digital_take_up",
    ]


# not enough data


def test_a_service_without_the_data_set_has_not_enough_data():
    found = kpi(ServiceData(transactions=monthly({JAN: transactions(1)})), "cost_per_transaction")
    assert found.value is None
    assert found.not_enough_data == "no cost data set"
    assert (found.numerator, found.denominator) == (None, 1)


def test_a_month_without_records_has_not_enough_data():
    data = ServiceData(
        transactions=monthly({JAN: transactions(10)}), cost=monthly({DEC: {"all": 5}})
    )
    found = kpi(data, "cost_per_transaction")
    assert found.value is None
    assert found.not_enough_data == "no cost data for this period"


def test_a_missing_denominator_is_not_enough_data():
    data = ServiceData(cost=monthly({JAN: {"all": 5}}), transactions=Source())
    found = kpi(data, "cost_per_transaction")
    assert found.value is None
    assert found.numerator == 5
    assert found.not_enough_data == "no transactions-by-channel data for this period"


def test_both_sides_missing_gives_both_reasons():
    data = ServiceData(cost=Source(), transactions=Source())
    found = kpi(data, "cost_per_transaction")
    assert found.not_enough_data == (
        "no cost data for this period; no transactions-by-channel data for this period"
    )


def test_an_unreadable_data_set_gives_its_reason():
    data = ServiceData(completion=Source(unavailable="the completion data cannot be added up"))
    assert kpi(data, "completion_rate").not_enough_data == "the completion data cannot be added up"


@pytest.mark.parametrize(
    ("data", "name", "reason"),
    [
        (
            ServiceData(
                transactions=monthly({JAN: transactions(0)}), cost=monthly({JAN: {"a": 9}})
            ),
            "cost_per_transaction",
            "no completed transactions in this period",
        ),
        (
            ServiceData(satisfaction=monthly({JAN: ratings(0, 0, 0, 0, 0)})),
            "user_satisfaction",
            "no survey responses in this period",
        ),
        (
            ServiceData(satisfaction=monthly({JAN: ratings(0, 0, 0, 0, 0)})),
            "user_satisfaction_score",
            "no survey responses in this period",
        ),
        (
            ServiceData(completion=monthly({JAN: {"started": 0, "completed": 0}})),
            "completion_rate",
            "no journeys started in this period",
        ),
        (
            ServiceData(transactions=monthly({JAN: transactions(0, 0, 0)})),
            "digital_take_up",
            "no completed transactions in this period",
        ),
    ],
)
def test_a_zero_denominator_is_not_enough_data_never_0_or_nan(data, name, reason):
    found = kpi(data, name)
    assert found.value is None
    assert found.denominator == 0
    assert found.not_enough_data == reason


def test_a_channel_with_costs_but_no_transactions_is_not_enough_data():
    data = ServiceData(
        transactions=monthly({JAN: {"digital": 10}}), cost=monthly({JAN: {"paper": 30}})
    )
    found = kpi(data, "cost_per_transaction", channel="paper")
    assert found.value is None
    assert found.not_enough_data == "no completed paper transactions in this period"


# changes


def take_up_by_month(months: dict) -> ServiceData:
    """Digital take-up per month given as (digital, total)."""
    return ServiceData(
        transactions=monthly(
            {m: {"digital": d, "phone": total - d} for m, (d, total) in months.items()}
        )
    )


def test_the_change_from_the_previous_month_is_absolute_and_relative():
    data = take_up_by_month({DEC: (50, 100), JAN: (60, 100)})
    change = kpi(data, "digital_take_up").previous_period
    assert change.compared_with == Period("month", DEC, JAN)
    assert change.absolute == Fraction(1, 10)
    assert change.relative == Fraction(1, 5)
    assert change.not_enough_data is None


def test_the_change_from_a_year_earlier_compares_the_same_month():
    data = take_up_by_month({month(2024, 1): (40, 100), JAN: (60, 100)})
    change = kpi(data, "digital_take_up").year_earlier
    assert change.compared_with == Period("month", month(2024, 1), month(2024, 2))
    assert change.absolute == Fraction(1, 5)
    assert change.relative == Fraction(1, 2)


def test_a_missing_earlier_period_leaves_the_change_unknown():
    data = take_up_by_month({JAN: (60, 100)})
    found = kpi(data, "digital_take_up")
    assert found.value == Fraction(3, 5)
    for change in (found.previous_period, found.year_earlier):
        assert (change.absolute, change.relative) == (None, None)
        assert change.not_enough_data == "not enough data in the earlier period"


def test_an_earlier_period_with_a_zero_denominator_leaves_the_change_unknown():
    data = take_up_by_month({DEC: (0, 0), JAN: (60, 100)})
    change = kpi(data, "digital_take_up").previous_period
    assert change.absolute is None
    assert change.not_enough_data == "not enough data in the earlier period"


def test_a_missing_current_period_leaves_the_change_unknown():
    # January's take-up is not known (no transactions in it); the cost data makes it complete.
    data = ServiceData(
        transactions=take_up_by_month({DEC: (50, 100)}).transactions,
        cost=monthly({JAN: {"all": 5}}),
    )
    found = kpi(data, "digital_take_up")
    assert latest(data).period == Period("month", JAN, FEB)
    assert found.previous_period.absolute is None
    assert found.previous_period.not_enough_data == "not enough data in this period"


def test_from_an_earlier_value_of_0_the_relative_change_is_unknown():
    data = take_up_by_month({DEC: (0, 100), JAN: (60, 100)})
    change = kpi(data, "digital_take_up").previous_period
    assert change.absolute == Fraction(3, 5)
    assert change.relative is None
    assert change.not_enough_data == "the earlier value is 0, so there is no relative change"


def test_a_fall_is_a_negative_change():
    data = take_up_by_month({DEC: (80, 100), JAN: (60, 100)})
    change = kpi(data, "digital_take_up").previous_period
    assert (change.absolute, change.relative) == (Fraction(-1, 5), Fraction(-1, 4))


# quarters


def test_a_quarter_adds_up_its_three_months():
    data = take_up_by_month(
        {month(2024, 10): (10, 100), month(2024, 11): (20, 100), month(2024, 12): (60, 100)}
    )
    found = kpi(data, "digital_take_up", kind="quarter")
    assert latest(data, "quarter").period == Period("quarter", month(2024, 10), JAN)
    assert (found.numerator, found.denominator, found.value) == (90, 300, Fraction(3, 10))


def test_a_quarter_missing_a_month_is_not_enough_data():
    data = take_up_by_month({month(2024, 10): (10, 100), month(2024, 12): (60, 100)})
    found = kpi(data, "digital_take_up", kind="quarter")
    assert found.value is None
    assert found.not_enough_data == (
        "transactions-by-channel data is missing for 30 days of the 92 (1 to 30 November 2024)"
    )


def test_quarterly_records_count_whole_in_their_quarter_and_by_day_in_a_month():
    data = ServiceData(
        transactions=take_up_by_month(
            {month(2024, 10): (10, 100), month(2024, 11): (20, 100), month(2024, 12): (60, 100)}
        ).transactions,
        cost=quarterly({month(2024, 10): {"all": 184}}),
    )
    assert kpi(data, "cost_per_transaction", kind="quarter").value == Fraction(184, 300)
    december = service_kpis(data, "month", date(2025, 1, 5))[-1]
    cost = december.get("cost_per_transaction")
    # 31 of the quarter's 92 days.
    assert (cost.numerator, cost.denominator) == (62, 100)
    assert cost.made_from == (
        "cost: quarterly data shared between months by day; transactions: monthly data"
    )


def test_the_previous_quarter_and_the_quarter_a_year_earlier():
    data = take_up_by_month(
        {month(y, m): (d, 100) for y, d in ((2023, 20), (2024, 40)) for m in (7, 8, 9, 10, 11, 12)}
    )
    found = kpi(data, "digital_take_up", kind="quarter")
    assert found.previous_period.compared_with == Period("quarter", month(2024, 7), month(2024, 10))
    assert found.previous_period.absolute == 0
    assert found.year_earlier.compared_with == Period("quarter", month(2023, 10), month(2024, 1))
    assert found.year_earlier.relative == 1


# rolling years


def year_of_months(last: date, values: list[tuple[int, int]]) -> dict:
    """(digital, total) for the len(values) months ending with `last`."""
    return {add_months(last, i - len(values) + 1): v for i, v in enumerate(values)}


def test_a_rolling_year_adds_up_the_12_months_ending_with_the_month():
    data = take_up_by_month(year_of_months(JAN, [(n, 10) for n in range(12)]))
    found = latest(data, "rolling-year")
    assert found.period == Period("rolling-year", month(2024, 2), FEB)
    take_up = found.get("digital_take_up")
    assert (take_up.numerator, take_up.denominator) == (66, 120)
    assert take_up.value == Fraction(11, 20)


def test_a_rolling_year_compares_with_the_year_ending_a_month_earlier_and_a_year_earlier():
    # 25 months: each month's digital count is its index, out of 10.
    data = take_up_by_month(year_of_months(JAN, [(n % 11, 10) for n in range(25)]))
    found = kpi(data, "digital_take_up", kind="rolling-year")
    window = lambda first: sum(n % 11 for n in range(first, first + 12))  # noqa: E731
    assert found.value == Fraction(window(13), 120)
    assert found.previous_period.compared_with == Period("rolling-year", month(2024, 1), JAN)
    assert found.previous_period.absolute == Fraction(window(13) - window(12), 120)
    assert found.year_earlier.compared_with == Period(
        "rolling-year", month(2023, 2), month(2024, 2)
    )
    assert found.year_earlier.absolute == Fraction(window(13) - window(1), 120)


def test_a_rolling_year_missing_a_month_is_not_enough_data():
    months = year_of_months(JAN, [(5, 10)] * 12)
    del months[month(2024, 6)]
    found = kpi(take_up_by_month(months), "digital_take_up", kind="rolling-year")
    assert found.value is None
    assert found.not_enough_data == (
        "transactions-by-channel data is missing for 30 days of the 366 (1 to 30 June 2024)"
    )


def test_rolling_years_are_listed_from_the_first_whose_months_all_follow_the_first_data():
    data = take_up_by_month(year_of_months(JAN, [(5, 10)] * 14))
    periods = [p.period for p in service_kpis(data, "rolling-year", TODAY)]
    assert [p.end for p in periods] == [month(2024, 12), JAN, FEB]


# periods


def test_the_latest_period_is_the_last_that_has_ended():
    assert latest_period("month", TODAY) == Period("month", JAN, FEB)
    assert latest_period("month", date(2025, 3, 1)) == Period("month", FEB, date(2025, 3, 1))
    assert latest_period("quarter", TODAY) == Period("quarter", month(2024, 10), JAN)
    assert latest_period("quarter", date(2025, 4, 1)) == Period("quarter", JAN, date(2025, 4, 1))
    assert latest_period("rolling-year", TODAY) == Period("rolling-year", month(2024, 2), FEB)
    # Monday 10 February: the week of 3 to 9 February has ended.
    assert latest_period("week", TODAY) == Period("week", date(2025, 2, 3), TODAY)
    assert latest_period("week", date(2025, 2, 9)) == Period(
        "week", date(2025, 1, 27), date(2025, 2, 3)
    )


def test_periods_run_from_the_first_data_to_the_latest_complete_period():
    last = Period("month", JAN, FEB)
    assert [p.start for p in periods_to_show("month", date(2024, 11, 20), last)] == [
        month(2024, 11),
        DEC,
        JAN,
    ]
    quarter = period_containing("quarter", DEC)
    assert [p.start for p in periods_to_show("quarter", date(2024, 5, 3), quarter)] == [
        month(2024, 4),
        month(2024, 7),
        month(2024, 10),
    ]


def test_without_data_the_latest_ended_period_is_still_shown_as_not_complete():
    last = Period("month", JAN, FEB)
    assert periods_to_show("month", None, last) == [last]
    assert periods_to_show("month", date(2025, 2, 3), last) == [last]
    found = service_kpis(ServiceData(), "quarter", TODAY)
    assert [p.period for p in found] == [Period("quarter", month(2024, 10), JAN)]
    assert found[0].complete is False
    assert all(k.value is None for k in found[0].kpis)


def test_the_history_shown_is_at_most_ten_years():
    periods = periods_to_show("month", date(1990, 1, 1), Period("month", JAN, FEB))
    assert len(periods) == 120
    assert periods[0].start == month(2015, 2)


def test_data_after_the_latest_complete_period_is_not_counted():
    data = take_up_by_month({JAN: (1, 10), FEB: (9, 10)})
    assert [p.period.start for p in service_kpis(data, "month", TODAY)] == [JAN]
    assert kpi(data, "digital_take_up").value == Fraction(1, 10)


# roll-ups


def test_a_roll_up_adds_numerators_and_denominators_never_averages_percentages():
    big = take_up_by_month({JAN: (90, 1000)})  # 9%
    small = take_up_by_month({JAN: (10, 10)})  # 100%
    found = rolled_up_kpis([big, small], "month", TODAY)[-1].get("digital_take_up")
    assert (found.numerator, found.denominator) == (100, 1010)
    assert found.value == Fraction(10, 101)  # about 9.9%; the average would be 54.5%
    assert found.value != (Fraction(9, 100) + 1) / 2


def test_a_roll_up_leaves_out_a_service_missing_one_side_of_a_kpi():
    both = ServiceData(
        transactions=monthly({JAN: transactions(100)}), cost=monthly({JAN: {"all": 50}})
    )
    no_cost = ServiceData(transactions=monthly({JAN: transactions(900)}))
    rolled = rolled_up_kpis([both, no_cost], "month", TODAY)[-1]
    cost = rolled.get("cost_per_transaction")
    assert (cost.numerator, cost.denominator, cost.value) == (50, 100, Fraction(1, 2))
    assert rolled.get("digital_take_up").denominator == 1000


def test_a_roll_up_with_no_service_having_both_sides_is_not_enough_data():
    rolled = rolled_up_kpis([ServiceData(), ServiceData()], "month", TODAY)[-1]
    found = rolled.get("completion_rate")
    assert found.value is None
    assert found.not_enough_data == "none of the 2 services has enough data for this period"


def test_a_roll_up_of_no_services_is_not_enough_data():
    found = rolled_up_kpis([], "month", TODAY)[-1].get("digital_take_up")
    assert found.not_enough_data == "no services to add up"


def test_a_roll_up_adds_cost_per_channel_across_services():
    one = ServiceData(
        transactions=monthly({JAN: transactions(10, 5)}),
        cost=monthly({JAN: {"digital": 5, "phone": 10}}),
    )
    two = ServiceData(
        transactions=monthly({JAN: transactions(30)}), cost=monthly({JAN: {"digital": 25}})
    )
    rolled = rolled_up_kpis([one, two], "month", TODAY)[-1]
    assert rolled.get("cost_per_transaction", "digital").value == Fraction(30, 40)
    assert rolled.get("cost_per_transaction", "phone").value == 2
    assert rolled.get("cost_per_transaction").value == Fraction(40, 45)


def test_a_roll_up_lists_periods_from_the_earliest_data_of_any_service():
    early = take_up_by_month({DEC: (1, 2)})
    late = take_up_by_month({JAN: (1, 2)})
    assert [p.period.start for p in rolled_up_kpis([late, early], "month", TODAY)] == [DEC, JAN]


# numbers


def test_sums_from_the_database_become_exact_numbers():
    assert exact(0.1) == Fraction(1, 10)
    assert exact(Decimal("1234.56")) == Fraction(123456, 100)
    assert exact(7.0) == 7 and isinstance(exact(7.0), int)
    assert exact(12) == 12
    with pytest.raises(TypeError):
        exact(True)


def test_pounds_round_to_the_penny_halves_away_from_zero():
    assert pounds(Fraction(1, 8)) == Decimal("0.13")
    assert pounds(Fraction(-1, 8)) == Decimal("-0.13")
    assert pounds(Fraction(2, 3)) == Decimal("0.67")
    assert pounds(3) == Decimal("3.00")
    assert str(pounds(Fraction(1, 2))) == "0.50"


def test_shares_are_output_at_full_float_precision():
    assert rounded_value("digital_take_up", Fraction(2, 3)) == 2 / 3
    assert rounded_value("digital_take_up", None) is None
    assert plain(Fraction(10, 1)) == 10 and isinstance(plain(Fraction(10, 1)), int)
    assert plain(Fraction(1, 4)) == 0.25


# properties: the maths against a direct computation

MONTHS = [month(2024, m) for m in range(1, 13)] + [JAN]
counts = st.integers(min_value=0, max_value=10_000)
month_counts = st.dictionaries(
    st.sampled_from(MONTHS),
    st.fixed_dictionaries({"digital": counts, "phone": counts, "paper": counts}),
)


@given(month_counts)
def test_digital_take_up_is_digital_over_all_or_not_enough_data(months):
    data = ServiceData(transactions=monthly(months))
    for found in service_kpis(data, "month", TODAY):
        take_up = found.get("digital_take_up")
        counted = months.get(found.period.start)
        total = sum(counted.values()) if counted else 0
        if counted is None or total == 0:
            assert take_up.value is None and take_up.not_enough_data
        else:
            assert take_up.value == Fraction(counted["digital"], total)


@given(month_counts)
def test_a_rolling_year_is_the_sum_of_its_12_months_or_not_enough_data(months):
    data = ServiceData(transactions=monthly(months))
    window = MONTHS[1:]
    take_up = service_sides(data, Period("rolling-year", window[0], FEB))[("digital_take_up", None)]
    if any(m not in months for m in window):
        assert take_up.numerator is None
        return
    digital = sum(months[m]["digital"] for m in window)
    total = sum(sum(months[m].values()) for m in window)
    assert (take_up.numerator, take_up.denominator) == (digital, total)


services_strategy = st.lists(
    st.fixed_dictionaries(
        {
            "cost": st.one_of(st.none(), st.decimals(min_value=0, max_value=10**6, places=2)),
            "completed": st.one_of(st.none(), counts),
            "started": counts,
        }
    ),
    max_size=6,
)


@given(services_strategy)
def test_a_roll_up_of_random_services_is_sum_over_sum(services):
    data = [
        ServiceData(
            cost=monthly({JAN: {"all": s["cost"]}}) if s["cost"] is not None else Source(),
            transactions=monthly({JAN: {"digital": s["completed"]}})
            if s["completed"] is not None
            else Source(),
            completion=monthly({JAN: {"started": s["started"], "completed": s["completed"] or 0}}),
        )
        for s in services
    ]
    rolled = rolled_up_kpis(data, "month", TODAY)[-1]
    both = [s for s in services if s["cost"] is not None and s["completed"] is not None]
    cost = sum(Fraction(s["cost"]) for s in both)
    done = sum(s["completed"] for s in both)
    found = rolled.get("cost_per_transaction")
    assert found.value == (cost / done if both and done else None)
    started = sum(s["started"] for s in services)
    completed = sum(s["completed"] or 0 for s in services)
    completion = rolled.get("completion_rate")
    assert completion.value == (Fraction(completed, started) if started else None)


@given(st.lists(st.tuples(counts, counts), min_size=1, max_size=5))
def test_a_roll_up_changes_are_computed_from_the_rolled_up_values(pairs):
    data = [take_up_by_month({DEC: (a, a + b), JAN: (b, a + b)}) for a, b in pairs]
    found = rolled_up_kpis(data, "month", TODAY)[-1].get("digital_take_up")
    total = sum(a + b for a, b in pairs)
    if total == 0:
        assert found.value is None
        return
    now = Fraction(sum(b for _, b in pairs), total)
    before = Fraction(sum(a for a, _ in pairs), total)
    assert found.previous_period.absolute == now - before
    expected = (now - before) / before if before else None
    assert found.previous_period.relative == expected
