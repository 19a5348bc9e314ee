"""KPIs that follow the calendar (SPEC section 3, "Periods"): records shared between periods by
day, numerator and denominator over the same days, complete periods as the only headlines.

Every expected figure is worked out by hand from the records in the test. Plain data, no
database; the property test at the end checks the rule on random mixes of daily, weekly,
monthly and quarterly records."""

from datetime import date, timedelta
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from perfplat.kpis.maths import (
    Block,
    ServiceData,
    Source,
    daily,
    kpis_for,
    monthly,
    quarterly,
    rolled_up_kpis,
    service_kpis,
    weekly,
)
from perfplat.kpis.periods import (
    DESCRIBED,
    PERIOD_KINDS,
    Period,
    days_period,
    described_end,
    period_containing,
)

TODAY = date(2025, 2, 10)  # a Monday


def weeks(first: date, last: date, **sums) -> dict:
    """The same sums for every week from Monday `first` to the week starting `last`."""
    found, day = {}, first
    while day <= last:
        found[day] = dict(sums)
        day += timedelta(days=7)
    return found


def months(first: date, last: date, per_day: int, channel: str = "all") -> dict:
    """Monthly records of `per_day` a day, for the months from `first` to `last`."""
    found, day = {}, first
    while day <= last:
        end = described_end(day, "month")
        found[day] = {channel: per_day * (end - day).days}
        day = end
    return found


def month_of(day: date) -> Period:
    return period_containing("month", day)


def cost_per_transaction(data: ServiceData, period: Period):
    return kpis_for(data, period, TODAY).get("cost_per_transaction")


# sharing by day


def test_a_week_crossing_a_month_end_is_shared_by_its_days():
    # 10 a week, except 70 in the week of Monday 28 July to Sunday 3 August 2025.
    records = weeks(date(2025, 6, 30), date(2025, 9, 1), digital=7)
    records[date(2025, 7, 28)] = {"digital": 70}
    source = weekly(records)
    july = source.sums_over("transactions", month_of(date(2025, 7, 1)))
    august = source.sums_over("transactions", month_of(date(2025, 8, 1)))
    # July: 6/7 of the week from 30 June, 3 whole weeks, 4/7 of 70. August: 3/7 of 70 and 4
    # whole weeks (to Sunday 31 August).
    assert july.sums == {"digital": 6 + 21 + 40}
    assert august.sums == {"digital": 30 + 28}
    assert july.shared and july.made_from("month") == "weekly data shared between months by day"


def test_a_month_with_five_mondays_counts_only_its_own_days():
    # March 2025 has five Mondays (3, 10, 17, 24, 31). 7 transactions a day, sent weekly; £2 a
    # day, sent monthly.
    data = ServiceData(
        transactions=weekly(weeks(date(2025, 2, 24), date(2025, 3, 31), digital=35, phone=14)),
        cost=monthly(months(date(2025, 2, 1), date(2025, 4, 1), 2)),
    )
    march = cost_per_transaction(data, month_of(date(2025, 3, 1)))
    # 31 days of transactions (not the 5 weeks starting in March, 245) against 31 days of cost.
    assert (march.numerator, march.denominator) == (62, 217)
    assert march.value == Fraction(2, 7)
    assert (march.first_day, march.last_day) == (date(2025, 3, 1), date(2025, 3, 31))
    assert march.made_from == (
        "cost: monthly data; transactions: weekly data shared between months by day"
    )


def test_a_week_crossing_the_year_end_takes_its_days_of_each_month_of_cost():
    # The week of Monday 30 December 2024: 70 transactions. Cost: £10 a day in December, £20 a
    # day in January.
    data = ServiceData(
        transactions=weekly({date(2024, 12, 30): {"digital": 70}}),
        cost=monthly({date(2024, 12, 1): {"all": 310}, date(2025, 1, 1): {"all": 620}}),
    )
    week = kpis_for(data, period_containing("week", date(2025, 1, 1)), TODAY)
    assert week.period == Period("week", date(2024, 12, 30), date(2025, 1, 6))
    assert week.complete
    cost = week.get("cost_per_transaction")
    # 2 December days at £10 and 5 January days at £20.
    assert (cost.numerator, cost.denominator) == (120, 70)
    assert cost.made_from == (
        "cost: monthly data shared between weeks by day; transactions: weekly data"
    )


def test_a_quarterly_cost_is_shared_between_the_months_of_monthly_transactions():
    # £920 for October to December 2024 (92 days); 10 transactions a day, sent monthly.
    data = ServiceData(
        transactions=monthly(months(date(2024, 10, 1), date(2025, 1, 1), 10, "digital")),
        cost=quarterly({date(2024, 10, 1): {"all": 920}}),
    )
    november = cost_per_transaction(data, month_of(date(2024, 11, 1)))
    assert (november.numerator, november.denominator, november.value) == (300, 300, 1)
    assert november.made_from == (
        "cost: quarterly data shared between months by day; transactions: monthly data"
    )
    quarter = cost_per_transaction(data, period_containing("quarter", date(2024, 11, 1)))
    assert (quarter.numerator, quarter.denominator) == (920, 920)
    assert quarter.made_from == "cost: quarterly data; transactions: monthly data"


def test_a_quarterly_cost_not_sent_yet_does_not_hold_the_month_back():
    data = ServiceData(
        transactions=monthly(months(date(2024, 10, 1), date(2025, 1, 1), 10, "digital")),
        cost=quarterly({date(2024, 10, 1): {"all": 920}}),
    )
    latest = service_kpis(data, "month", TODAY)[-1]
    assert latest.period == month_of(date(2025, 1, 1))
    assert latest.complete
    assert latest.get("cost_per_transaction").not_enough_data == "no cost data for this period"
    assert latest.get("digital_take_up").value == 1


def test_february_of_a_leap_year_has_29_days():
    # 7 transactions a day from Monday 29 January 2024; £2 a day, sent monthly.
    data = ServiceData(
        transactions=weekly(weeks(date(2024, 1, 29), date(2024, 3, 4), digital=49)),
        cost=monthly(months(date(2024, 1, 1), date(2024, 3, 1), 2)),
    )
    february = cost_per_transaction(data, month_of(date(2024, 2, 1)))
    # 4 days of the week of 29 January, 3 whole weeks, 4 days (26 to 29 February) of the week
    # of 26 February: 29 days of 7.
    assert (february.numerator, february.denominator) == (58, 203)
    assert february.value == Fraction(2, 7)
    assert february.last_day == date(2024, 2, 29)


def test_a_month_record_starting_mid_month_is_shared_between_two_months():
    # "Tax months" from the 6th to the 5th: £310 from 6 December to 5 January (31 days).
    data = ServiceData(
        cost=monthly({date(2024, 12, 6): {"all": 310}, date(2025, 1, 6): {"all": 310}}),
        transactions=daily(
            {date(2025, 1, 1) + timedelta(days=n): {"digital": 1} for n in range(31)}
        ),
    )
    january = cost_per_transaction(data, month_of(date(2025, 1, 1)))
    # 5 days of the first (£50) and 26 of the second (£260).
    assert (january.numerator, january.denominator) == (310, 31)
    assert january.made_from == (
        "cost: monthly data shared between months by day; transactions: daily data"
    )


def test_numerator_and_denominator_cover_the_same_days():
    # Cost from 1 January, transactions only from 6 January: January is not known.
    data = ServiceData(
        transactions=weekly(weeks(date(2025, 1, 6), date(2025, 1, 27), digital=7)),
        cost=monthly({date(2025, 1, 1): {"all": 31}}),
    )
    january = cost_per_transaction(data, month_of(date(2025, 1, 1)))
    assert january.value is None
    assert january.numerator == 31
    assert january.not_enough_data == (
        "transactions-by-channel data is missing for 5 days of the 31 (1 to 5 January 2025)"
    )
    assert (january.made_from, january.first_day, january.last_day) == (None, None, None)


def test_missing_days_are_named_run_by_run():
    data = ServiceData(
        transactions=daily(
            {
                date(2025, 1, d): {"digital": 1}
                for d in range(1, 32)
                if d not in (3, 10, 11, 20, 21, 22, 30)
            }
        )
    )
    found = kpis_for(data, month_of(date(2025, 1, 1)), TODAY).get("digital_take_up")
    assert found.not_enough_data == (
        "transactions-by-channel data is missing for 7 days of the 31 (3 January 2025, "
        "10 to 11 January 2025, 20 to 22 January 2025 and 1 more)"
    )


def test_days_described_twice_are_not_enough_data():
    # Weeks and a month record for the same channel describe January twice.
    records = weeks(date(2024, 12, 30), date(2025, 1, 27), digital=7)
    source = Source(
        (
            *weekly(records).blocks,
            Block(date(2025, 1, 1), "month", (("digital", 31),)),
        )
    )
    found = kpis_for(ServiceData(transactions=source), month_of(date(2025, 1, 1)), TODAY)
    assert found.get("digital_take_up").not_enough_data == (
        "transactions-by-channel records describe 1 to 5 January 2025 twice (for digital): "
        "correct them so that each day is described once"
    )


def test_different_channels_may_be_sent_at_different_rates():
    # Digital per week, phone per month: each day is described once per channel.
    source = Source(
        (
            *weekly(weeks(date(2024, 12, 30), date(2025, 1, 27), digital=14)).blocks,
            *monthly({date(2025, 1, 1): {"phone": 31}}).blocks,
        )
    )
    found = kpis_for(ServiceData(transactions=source), month_of(date(2025, 1, 1)), TODAY)
    take_up = found.get("digital_take_up")
    assert (take_up.numerator, take_up.denominator) == (62, 93)
    assert take_up.made_from == "weekly and monthly data shared between months by day"


# complete periods


def test_a_partial_latest_month_is_not_complete_and_not_the_headline():
    # Weeks up to the one of 20 to 26 January: on 10 February January is not complete.
    data = ServiceData(
        transactions=weekly(weeks(date(2024, 11, 25), date(2025, 1, 20), digital=7, phone=7))
    )
    found = service_kpis(data, "month", TODAY)
    assert [p.period.start for p in found] == [date(2024, 11, 1), date(2024, 12, 1)]
    assert found[-1].complete
    assert found[-1].get("digital_take_up").value == Fraction(1, 2)
    january = kpis_for(data, month_of(date(2025, 1, 1)), TODAY)
    assert january.complete is False
    assert january.get("digital_take_up").not_enough_data == (
        "transactions-by-channel data is missing for 5 days of the 31 (27 to 31 January 2025)"
    )


def test_a_week_still_running_holds_its_month_back():
    # The week of 27 January to 2 February, sent while it runs.
    data = ServiceData(transactions=weekly(weeks(date(2024, 12, 30), date(2025, 1, 27), digital=7)))
    assert service_kpis(data, "month", date(2025, 2, 1))[-1].period == month_of(date(2024, 12, 1))
    assert service_kpis(data, "month", date(2025, 2, 3))[-1].period == month_of(date(2025, 1, 1))


def test_every_data_set_with_data_for_the_month_must_reach_its_last_day():
    data = ServiceData(
        transactions=weekly(weeks(date(2024, 11, 25), date(2025, 1, 27), digital=7)),
        # Satisfaction for January only up to the 15th.
        satisfaction=daily(
            {date(2024, 12, 1) + timedelta(days=n): {"rating_5": 1} for n in range(46)}
        ),
    )
    latest = service_kpis(data, "month", TODAY)[-1]
    assert latest.period == month_of(date(2024, 12, 1))
    assert latest.get("user_satisfaction").value == 1


def test_a_month_without_any_data_is_not_complete():
    # The data stopped in December: January is not the headline, December is.
    data = ServiceData(transactions=monthly({date(2024, 12, 1): {"digital": 5}}))
    assert service_kpis(data, "month", TODAY)[-1].period == month_of(date(2024, 12, 1))


def test_a_complete_figure_does_not_change_when_later_data_arrives():
    records = weeks(date(2024, 12, 30), date(2025, 1, 27), digital=7, phone=7)
    before = service_kpis(ServiceData(transactions=weekly(records)), "month", TODAY)[-1]
    records.update(weeks(date(2025, 2, 3), date(2025, 2, 3), digital=70, phone=0))
    after = service_kpis(ServiceData(transactions=weekly(records)), "month", TODAY)[-1]
    assert before.period == after.period == month_of(date(2025, 1, 1))
    assert before.get("digital_take_up") == after.get("digital_take_up")


def test_a_roll_up_is_complete_only_when_every_service_with_data_for_it_is():
    late = ServiceData(transactions=weekly(weeks(date(2024, 11, 25), date(2025, 1, 20), digital=7)))
    on_time = ServiceData(
        transactions=weekly(weeks(date(2024, 11, 25), date(2025, 1, 27), phone=7))
    )
    latest = rolled_up_kpis([late, on_time], "month", TODAY)[-1]
    assert latest.period == month_of(date(2024, 12, 1))
    take_up = latest.get("digital_take_up")
    # One digital and one phone transaction a day in December's 31 days.
    assert (take_up.numerator, take_up.denominator, take_up.services) == (31, 62, 2)
    assert take_up.made_from == "2 services added up (weekly data shared between months by day)"


def test_a_baseline_is_any_run_of_days():
    data = ServiceData(
        transactions=weekly(weeks(date(2024, 9, 30), date(2025, 1, 27), digital=21, phone=7))
    )
    baseline = kpis_for(data, days_period(date(2024, 10, 1), date(2024, 12, 31)), TODAY)
    take_up = baseline.get("digital_take_up")
    assert (take_up.numerator, take_up.denominator) == (92 * 3, 92 * 4)
    assert (take_up.first_day, take_up.last_day) == (date(2024, 10, 1), date(2024, 12, 31))
    assert take_up.made_from == "weekly data shared between periods by day"


# property: constant daily figures give constant KPIs, whatever the records' periods

DAILY = {
    "digital": 37,
    "phone": 13,
    "cost": 120,
    "ratings": (1, 2, 3, 5, 9),
    "started": 41,
    "completed": 29,
}
EXPECTED = {
    "cost_per_transaction": Fraction(120, 50),
    "digital_take_up": Fraction(37, 50),
    "user_satisfaction": Fraction(14, 20),
    "user_satisfaction_score": Fraction(0 * 1 + 1 * 2 + 2 * 3 + 3 * 5 + 4 * 9, 4 * 20),
    "completion_rate": Fraction(29, 41),
}
runs = st.lists(
    st.tuples(st.sampled_from(DESCRIBED), st.integers(min_value=1, max_value=6)),
    min_size=1,
    max_size=8,
)
tiling = st.tuples(st.integers(min_value=0, max_value=700), runs)


def _spans(start_offset: int, kinds) -> list[tuple[date, date, str]]:
    day = date(2021, 6, 1) + timedelta(days=start_offset)
    spans = []
    for kind, count in kinds:
        for _ in range(count):
            end = described_end(day, kind)
            spans.append((day, end, kind))
            day = end
    return spans


def _source(spans, per_day: dict) -> Source:
    return Source(
        tuple(
            Block(start, kind, tuple((k, v * (end - start).days) for k, v in per_day.items()))
            for start, end, kind in spans
        )
    )


def _covers(spans, period: Period) -> bool:
    return spans[0][0] <= period.start and spans[-1][1] >= period.end


@settings(max_examples=60, deadline=None)
@given(
    tiling,
    tiling,
    tiling,
    tiling,
    st.integers(min_value=0, max_value=1600),
)
def test_constant_daily_figures_give_constant_kpis_for_every_complete_period(
    transactions, cost, satisfaction, completion, today_offset
):
    spans = {
        "transactions": _spans(*transactions),
        "cost": _spans(*cost),
        "satisfaction": _spans(*satisfaction),
        "completion": _spans(*completion),
    }
    data = ServiceData(
        transactions=_source(
            spans["transactions"], {"digital": DAILY["digital"], "phone": DAILY["phone"]}
        ),
        cost=_source(spans["cost"], {"all": DAILY["cost"]}),
        satisfaction=_source(
            spans["satisfaction"],
            {f"rating_{n}": count for n, count in enumerate(DAILY["ratings"], start=1)},
        ),
        completion=_source(
            spans["completion"], {"started": DAILY["started"], "completed": DAILY["completed"]}
        ),
    )
    today = date(2021, 7, 1) + timedelta(days=today_offset)
    inputs = {
        "cost_per_transaction": ("cost", "transactions"),
        "digital_take_up": ("transactions",),
        "user_satisfaction": ("satisfaction",),
        "user_satisfaction_score": ("satisfaction",),
        "completion_rate": ("completion",),
    }
    for kind in PERIOD_KINDS:
        found = service_kpis(data, kind, today)
        for period_kpis in found:
            period = period_kpis.period
            assert period.end <= today
            for name, expected in EXPECTED.items():
                value = period_kpis.get(name)
                if value.value is not None:
                    assert value.value == expected, (kind, period, name)
                    assert (value.first_day, value.last_day) == (period.start, period.last_day)
                elif period_kpis.complete:
                    # Not known only when some of its data does not cover the period.
                    assert not all(_covers(spans[s], period) for s in inputs[name]), (
                        kind,
                        period,
                        name,
                        value.not_enough_data,
                    )


def test_constant_daily_figures_from_four_different_rates_give_the_constant_kpis():
    # The property above on one fixed mix, so it is known to check values: weekly transactions
    # from a Tuesday, monthly cost from the 6th, quarterly satisfaction, daily completion.
    data = ServiceData(
        transactions=_source(
            _spans(0, [("week", 200)]), {"digital": DAILY["digital"], "phone": DAILY["phone"]}
        ),
        cost=_source(_spans(-26, [("month", 48)]), {"all": DAILY["cost"]}),
        satisfaction=_source(
            _spans(0, [("quarter", 16)]),
            {f"rating_{n}": count for n, count in enumerate(DAILY["ratings"], start=1)},
        ),
        completion=_source(
            _spans(0, [("day", 1400)]),
            {"started": DAILY["started"], "completed": DAILY["completed"]},
        ),
    )
    today = date(2024, 11, 20)
    for kind in PERIOD_KINDS:
        latest = service_kpis(data, kind, today)[-1]
        assert latest.complete
        assert {name: latest.get(name).value for name in EXPECTED} == EXPECTED, kind
