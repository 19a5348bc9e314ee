"""The metric catalogue, the support check's verdicts, and provenance (manual/automatic)."""

from datetime import timedelta

import pytest

from helpers import body, call
from perfplat.audit.models import AuditEntry
from perfplat.datasets.models import WriteBatch
from perfplat.datasets.services import DataSetSettings, create_data_set, source_of
from perfplat.datasets.writes import WriteSource, write_records
from perfplat.metrics.models import Metric
from perfplat.metrics.services import PlannedMetric, check_support

T = "2024-01-01T00:00:00Z"


# support check verdicts (pure: nothing is written)


def test_a_metric_of_a_standard_type_with_its_fields_is_supported():
    verdict = check_support(
        PlannedMetric(
            "Digital take-up",
            data_set_type="transactions-by-channel",
            fields=("channel", "count"),
            period="month",
            data_period="week",
            query="period=month&group_by=channel&collect=count:sum",
            kpi="digital-take-up",
        )
    )
    assert (verdict.supported, verdict.problems) == (True, [])


def test_an_unknown_type_is_named():
    verdict = check_support(PlannedMetric("Visits", data_set_type="page-views"))
    assert verdict.problems == [
        "unknown data set type 'page-views': use one of transactions-by-channel, cost, "
        "user-satisfaction, completion, or none for free-form data"
    ]
    assert not verdict.supported


def test_a_field_the_type_does_not_have_is_named():
    verdict = check_support(
        PlannedMetric("Cost", data_set_type="cost", fields=("amount", "currency"))
    )
    assert verdict.problems == [
        "missing field: 'currency' is not part of the cost type (its fields are period, "
        "amount, channel)"
    ]


def test_a_value_that_would_be_rejected_is_named():
    verdict = check_support(
        PlannedMetric(
            "Completion",
            data_set_type="completion",
            sample_records=(
                {"_timestamp": T, "period": "week", "started": 10, "completed": 12},
                {"_timestamp": T, "period": "week", "started": "ten", "completed": 1},
            ),
        )
    )
    assert verdict.problems == [
        "sample data would be rejected: record 0: completed cannot be more than started",
        "sample data would be rejected: record 1: field 'started' must be a whole number, "
        "not 'ten'",
    ]


def test_a_period_the_data_cannot_give_is_named():
    verdict = check_support(
        PlannedMetric("Weekly cost", data_set_type="cost", period="week", data_period="month")
    )
    assert verdict.problems == ["a weekly figure cannot be computed from data recorded per month"]


def test_a_query_that_cannot_run_is_named():
    verdict = check_support(PlannedMetric("X", query="period=fortnight"))
    assert verdict.problems == [
        "the query cannot run: period must be one of hour, day, week, month, quarter, year, "
        "not 'fortnight'"
    ]


def test_summing_a_text_field_is_named():
    verdict = check_support(
        PlannedMetric(
            "X",
            data_set_type="transactions-by-channel",
            query="group_by=period&collect=channel:sum",
        )
    )
    assert verdict.problems == ["the query adds up 'channel', which is not a number field"]


def test_a_kpi_from_the_wrong_type_is_named():
    verdict = check_support(PlannedMetric("Take-up", data_set_type="cost", kpi="digital-take-up"))
    assert verdict.problems == [
        "the KPI digital-take-up is computed from transactions-by-channel data, not cost"
    ]


def test_the_support_check_endpoint_writes_nothing(client, world):
    token = world.token(world.editor)
    before = (Metric.objects.count(), WriteBatch.objects.count(), AuditEntry.objects.count())
    response = call(
        client,
        "POST",
        "/api/services/road-tax/support-check",
        token,
        {
            "metrics": [
                {
                    "name": "Take-up",
                    "data_set_type": "transactions-by-channel",
                    "fields": ["channel", "count"],
                    "sample_records": [
                        {"_timestamp": T, "period": "week", "channel": "digital", "count": 5}
                    ],
                },
                {"name": "Weather", "data_set_type": "weather"},
            ]
        },
    )
    assert response.status_code == 200, response.content
    assert [(v["name"], v["supported"]) for v in body(response)] == [
        ("Take-up", True),
        ("Weather", False),
    ]
    after = (Metric.objects.count(), WriteBatch.objects.count(), AuditEntry.objects.count())
    assert before == after


# the catalogue


def test_an_editor_adds_a_metric_with_its_rationale(client, world):
    response = call(
        client,
        "POST",
        "/api/services/road-tax/metrics",
        world.token(world.editor),
        {
            "slug": "calls",
            "name": "Calls to the helpline",
            "unit": "calls",
            "rationale": "Calls show where the online service confuses people",
            "data_set": world.data_set.pk,
            "query": "period=week&collect=count:sum",
            "period": "week",
        },
    )
    assert response.status_code == 201, response.content
    created = body(response)
    assert created["rationale"] == "Calls show where the online service confuses people"
    assert created["source"] == "no data"
    assert AuditEntry.objects.filter(action="metric.create", service=world.service).count() == 1


def test_a_planned_metric_keeps_the_period_its_data_will_be_recorded_in(client, world):
    token = world.token(world.editor)
    payload = {"slug": "x", "name": "X", "planned_type": "cost", "planned_data_period": "week"}
    response = call(client, "POST", "/api/services/road-tax/metrics", token, payload)
    assert response.status_code == 201, response.content
    assert body(response)["planned_data_period"] == "week"
    response = call(
        client,
        "PATCH",
        f"/api/metrics/{body(response)['id']}",
        token,
        {"planned_data_period": "fortnight"},
    )
    assert response.status_code == 400
    assert body(response)["message"] == (
        "The data period must be one of hour, day, week, month, quarter, year, or empty when "
        "not known"
    )


def test_a_metric_cannot_use_another_services_data_set(client, world):
    response = call(
        client,
        "POST",
        "/api/services/road-tax/metrics",
        world.token(world.platform_admin),
        {"slug": "x", "name": "X", "data_set": world.other_data_set.pk},
    )
    assert response.status_code == 400
    assert body(response)["message"] == "The data set must belong to the same service"


def test_a_metric_query_that_cannot_run_is_refused(client, world):
    response = call(
        client,
        "POST",
        "/api/services/road-tax/metrics",
        world.token(world.editor),
        {"slug": "x", "name": "X", "query": "collect=count:avg&group_by=a"},
    )
    assert response.status_code == 400
    assert body(response)["message"].startswith("The query cannot run: collect: unknown method")
    assert not Metric.objects.exists()


def test_a_duplicate_metric_slug_is_409(client, world):
    token = world.token(world.editor)
    call(client, "POST", "/api/services/road-tax/metrics", token, {"slug": "x", "name": "X"})
    response = call(
        client, "POST", "/api/services/road-tax/metrics", token, {"slug": "x", "name": "Y"}
    )
    assert response.status_code == 409


def test_deleting_a_metric_is_audited(client, world):
    metric = Metric.objects.create(service=world.service, slug="m", name="M")
    response = call(client, "DELETE", f"/api/metrics/{metric.pk}", world.token(world.editor))
    assert response.status_code == 204
    assert not Metric.objects.filter(pk=metric.pk).exists()
    assert AuditEntry.objects.get(action="metric.delete").before["name"] == "M"


# provenance


@pytest.fixture
def data_set(world):
    data_set, _ = create_data_set(
        None, "visits", service=world.service, settings=DataSetSettings(published=True)
    )
    return data_set


def test_a_data_set_written_through_the_api_is_automatic(data_set):
    write_records(data_set, [{"a": 1}], WriteSource(WriteBatch.API))
    assert source_of(data_set) == "automatic"


def test_a_data_set_written_by_uploads_is_manual(data_set):
    write_records(data_set, [{"a": 1}], WriteSource(WriteBatch.UPLOAD))
    assert source_of(data_set) == "manual"


def test_a_data_set_written_both_ways_is_mixed(data_set):
    write_records(data_set, [{"a": 1}], WriteSource(WriteBatch.UPLOAD))
    write_records(data_set, [{"a": 2}], WriteSource(WriteBatch.COLLECTOR))
    assert source_of(data_set) == "mixed"


def test_only_the_last_90_days_count(data_set):
    write_records(data_set, [{"a": 1}], WriteSource(WriteBatch.UPLOAD))
    WriteBatch.objects.update(created_at=WriteBatch.objects.get().created_at - timedelta(days=91))
    write_records(data_set, [{"a": 2}], WriteSource(WriteBatch.API))
    assert source_of(data_set) == "automatic"


def test_a_data_set_without_writes_has_no_data(data_set):
    assert source_of(data_set) == "no data"


def test_each_metric_shows_the_source_of_its_data_set(client, world, data_set):
    write_records(data_set, [{"a": 1}], WriteSource(WriteBatch.UPLOAD))
    Metric.objects.create(service=world.service, slug="visits", name="Visits", data_set=data_set)
    Metric.objects.create(service=world.service, slug="planned", name="Planned")
    response = call(client, "GET", "/api/services/road-tax/metrics", world.token(world.editor))
    assert [(m["slug"], m["source"]) for m in body(response)] == [
        ("planned", "no data"),
        ("visits", "manual"),
    ]


def test_data_sets_show_their_source_in_the_api(client, world, data_set):
    write_records(data_set, [{"a": 1}], WriteSource(WriteBatch.API))
    response = call(client, "GET", f"/api/data-sets/{data_set.pk}", world.token(world.editor))
    assert body(response)["source"] == "automatic"
