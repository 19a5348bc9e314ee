"""Standard data set types: their schemas validate every write, through the same write path."""

import pytest

from helpers import body
from perfplat.datasets.models import DataSet, Record
from perfplat.datasets.types import TYPES
from perfplat.datasets.writes import validate_records
from perfplat.errors import InvalidRecords

T = "2024-01-01T00:00:00Z"


def problems(type_slug, records):
    with pytest.raises(InvalidRecords) as raised:
        validate_records(records, list(TYPES[type_slug].auto_ids), TYPES[type_slug])
    return raised.value.messages


def test_the_four_kpi_types_exist():
    assert set(TYPES) == {"transactions-by-channel", "cost", "user-satisfaction", "completion"}


def test_a_valid_transactions_record_passes_and_gets_its_auto_id():
    batch = validate_records(
        [{"_timestamp": T, "period": "week", "channel": "digital", "count": 3}],
        list(TYPES["transactions-by-channel"].auto_ids),
        TYPES["transactions-by-channel"],
    )
    # base64 of "2024-01-01T00:00:00+00:00.week.digital": the timestamp in its UTC form
    assert batch.records[0].record_id == "MjAyNC0wMS0wMVQwMDowMDowMCswMDowMC53ZWVrLmRpZ2l0YWw="


@pytest.mark.parametrize("period", ["day", "week", "month", "quarter"])
def test_a_record_may_describe_a_day_week_month_or_quarter(period):
    # A journey beacon writes daily completion records.
    batch = validate_records(
        [{"_timestamp": T, "period": period, "started": 2, "completed": 1}],
        list(TYPES["completion"].auto_ids),
        TYPES["completion"],
    )
    assert batch.records[0].data["period"] == period


def test_missing_required_fields_are_named():
    assert problems("transactions-by-channel", [{"_timestamp": T, "period": "week"}]) == [
        "record 0: field 'channel' is required",
        "record 0: field 'count' is required",
        "record 0: missing auto_ids field(s): channel",
    ]


def test_a_record_without_timestamp_is_refused():
    assert problems("completion", [{"period": "week", "started": 2, "completed": 1}]) == [
        "record 0: _timestamp is required",
        "record 0: missing auto_ids field(s): _timestamp",
    ]


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ({"count": "12"}, "record 0: field 'count' must be a whole number, not '12'"),
        ({"count": 1.5}, "record 0: field 'count' must be a whole number, not 1.5"),
        ({"count": -1}, "record 0: field 'count' must be 0 or more, not -1"),
        ({"count": True}, "record 0: field 'count' must be a whole number, not True"),
        (
            {"period": "fortnight"},
            "record 0: field 'period' must be one of day, week, month, quarter, not 'fortnight'",
        ),
        ({"channel": 5}, "record 0: field 'channel' must be text, not 5"),
    ],
)
def test_values_that_the_type_refuses(record, message):
    base = {"_timestamp": T, "period": "week", "channel": "digital", "count": 1}
    assert problems("transactions-by-channel", [{**base, **record}]) == [message]


def test_cost_channel_defaults_to_all():
    batch = validate_records(
        [{"_timestamp": T, "period": "month", "amount": 120.5}],
        list(TYPES["cost"].auto_ids),
        TYPES["cost"],
    )
    assert batch.records[0].data == {"period": "month", "amount": 120.5, "channel": "all"}


def test_completed_cannot_exceed_started():
    record = {"_timestamp": T, "period": "week", "started": 5, "completed": 6}
    assert problems("completion", [record]) == ["record 0: completed cannot be more than started"]


def test_satisfaction_needs_every_rating():
    record = {"_timestamp": T, "period": "week", "rating_1": 1, "rating_2": 1, "rating_3": 1}
    assert problems("user-satisfaction", [record]) == [
        "record 0: field 'rating_4' is required",
        "record 0: field 'rating_5' is required",
    ]


def test_a_typed_data_set_refuses_a_bad_write_through_the_api(api, make_data_set):
    data_set, token = make_data_set(
        data_type="transactions-by-channel", standard_type="transactions-by-channel"
    )
    assert data_set.auto_ids == ["_timestamp", "period", "channel"]
    response = api.post(
        "/data/test-service/transactions-by-channel",
        [
            {"_timestamp": T, "period": "week", "channel": "digital", "count": 1},
            {"_timestamp": T, "period": "week", "channel": "phone", "count": "many"},
        ],
        token,
    )
    assert response.status_code == 400
    assert body(response)["messages"] == [
        "record 1: field 'count' must be a whole number, not 'many'"
    ]
    assert Record.objects.count() == 0


def test_a_free_form_data_set_takes_any_fields(api, make_data_set):
    _, token = make_data_set()
    assert api.post("/data/test-service/events", {"anything": "goes"}, token).status_code == 200


def test_an_unknown_type_is_refused(make_data_set):
    from perfplat.errors import InvalidRequest

    with pytest.raises(InvalidRequest) as raised:
        make_data_set(standard_type="weather")
    assert raised.value.message.startswith(
        "standard_type must be one of transactions-by-channel, cost"
    )
    assert not DataSet.objects.exists()
