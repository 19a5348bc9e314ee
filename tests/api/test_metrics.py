"""The metric catalogue, the support check's verdicts, and provenance (manual/automatic)."""

from datetime import timedelta

import pytest

from helpers import assert_error, body, call
from perfplat.audit.models import AuditEntry
from perfplat.datasets.models import WriteBatch
from perfplat.datasets.services import (
    DataSetSettings,
    create_data_set,
    source_of,
    update_data_set,
)
from perfplat.datasets.writes import WriteSource, write_records
from perfplat.metrics.models import Metric
from perfplat.metrics.services import PlannedMetric, check_support, record_support, update_metric

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


def support_check(client, token, payload):
    return call(client, "POST", "/api/services/road-tax/support-check", token, payload)


def test_the_support_check_records_planned_metrics_in_the_catalogue(client, world):
    token = world.token(world.editor)
    response = support_check(
        client,
        token,
        {
            "record": True,
            "metrics": [
                {"name": "Take-up", "data_set_type": "transactions-by-channel"},
                {"name": "Weather", "data_set_type": "weather"},
            ],
        },
    )
    assert response.status_code == 200, response.content
    saved = {m.slug: m for m in Metric.objects.filter(service=world.service)}
    assert body(response) == [
        {"name": "Take-up", "supported": True, "problems": [], "metric": saved["take-up"].pk},
        {
            "name": "Weather",
            "supported": False,
            "problems": [
                "unknown data set type 'weather': use one of transactions-by-channel, cost, "
                "user-satisfaction, completion, or none for free-form data"
            ],
            "metric": saved["weather"].pk,
        },
    ]
    assert [(m.support, m.planned_type) for m in saved.values()] == [
        ("supported", "transactions-by-channel"),
        ("unsupported", "weather"),
    ]


def test_the_support_check_records_a_sample_files_problems(client, world):
    response = support_check(
        client,
        world.token(world.editor),
        {
            "record": True,
            "metrics": [
                {
                    "name": "Completion",
                    "data_set_type": "completion",
                    "sample_records": [
                        {"_timestamp": T, "period": "week", "started": 1, "completed": 2}
                    ],
                }
            ],
        },
    )
    problems = ["sample data would be rejected: record 0: completed cannot be more than started"]
    assert [(v["supported"], v["problems"]) for v in body(response)] == [(False, problems)]
    assert Metric.objects.get(slug="completion").support_problems == problems


def test_the_support_check_checks_the_catalogue_again_and_keeps_the_verdicts(client, world):
    metric = Metric.objects.create(
        service=world.service, slug="visits", name="Visits", query="period=fortnight"
    )
    response = support_check(client, world.token(world.editor), {"record": True})
    assert body(response) == [
        {
            "name": "Visits",
            "supported": False,
            "problems": [
                "the query cannot run: period must be one of hour, day, week, month, quarter, "
                "year, not 'fortnight'"
            ],
            "metric": metric.pk,
        }
    ]
    metric.refresh_from_db()
    assert (metric.support, metric.support_checked_at is not None) == ("unsupported", True)


def test_a_dry_run_needs_planned_metrics(client, world):
    response = support_check(client, world.token(world.editor), {})
    assert_error(
        response,
        400,
        "Give the planned metrics to check, or record: true to check the catalogue again and "
        "keep the verdicts",
    )


def test_recording_a_verdict_needs_the_right_to_edit_the_service(client, world):
    # Another department's editor may not even see road-tax.
    response = support_check(
        client, world.token(world.other_editor), {"record": True, "metrics": [{"name": "X"}]}
    )
    assert response.status_code in (403, 404)
    assert not Metric.objects.filter(service=world.service).exists()


# verdicts follow changes


@pytest.fixture
def checked(world):
    """A supported KPI metric reading road-tax's (empty) cost data set."""
    cost, _ = create_data_set(
        None, "cost", service=world.service, settings=DataSetSettings(standard_type="cost")
    )
    metric = Metric.objects.create(
        service=world.service,
        slug="cost-per-transaction",
        name="Cost per transaction",
        kpi="cost-per-transaction",
        data_set=cost,
        planned_type="cost",
        query="period=month&collect=amount:sum",
    )
    assert record_support(None, metric).supported
    return metric


def kept(metric) -> tuple:
    metric.refresh_from_db()
    return metric.support, metric.support_problems


def test_an_edit_that_makes_a_metric_unsupportable_flips_its_verdict(client, world, checked):
    response = call(
        client,
        "PATCH",
        f"/api/metrics/{checked.pk}",
        world.token(world.editor),
        {"query": "period=month&collect=channel:sum"},
    )
    unsupported = ["the query adds up 'channel', which is not a number field"]
    assert (body(response)["support"], body(response)["support_problems"]) == (
        "unsupported",
        unsupported,
    )
    assert kept(checked) == ("unsupported", unsupported)
    update_metric(None, checked, query="period=month&collect=amount:sum")
    assert kept(checked) == ("supported", [])


def test_an_edit_on_the_page_flips_the_verdict_too(client, world, checked):
    client.force_login(world.editor)
    form = {
        "slug": checked.slug,
        "name": checked.name,
        "period": "month",
        "kpi": "cost-per-transaction",
        "data_set": str(checked.data_set_id),
        "planned_type": "cost",
        "query": "period=month&collect=channel:sum",
    }
    response = client.post(f"/manage/metrics/{checked.pk}/edit", form)
    assert response.status_code == 302, response.content
    assert kept(checked) == (
        "unsupported",
        ["the query adds up 'channel', which is not a number field"],
    )


def test_reading_a_free_form_data_set_makes_a_kpi_unsupportable(world, checked):
    update_metric(None, checked, data_set=world.data_set)
    assert kept(checked) == (
        "unsupported",
        [
            "it was planned with cost data, but reads road-tax/transactions, a free-form data set",
            "the KPI cost-per-transaction is computed from data sets of the standard type cost "
            "or transactions-by-channel; road-tax/transactions has no standard type, so the "
            "KPIs do not read it",
        ],
    )


def test_a_change_to_the_data_set_flips_the_verdicts_of_its_metrics(world, checked):
    # The type of an empty data set may change (datasets.services.update_data_set).
    update_data_set(world.editor, checked.data_set, standard_type="completion")
    assert kept(checked) == (
        "unsupported",
        [
            "the KPI cost-per-transaction is computed from cost and transactions-by-channel "
            "data, not completion",
            "the query adds up 'amount', which is not a number field",
            "it was planned with cost data, but reads road-tax/cost, a data set of the type "
            "completion",
        ],
    )


def test_a_metric_never_checked_stays_unchecked_after_an_edit(world):
    metric = Metric.objects.create(service=world.service, slug="visits", name="Visits")
    update_metric(None, metric, query="period=month&collect=channel:sum")
    assert kept(metric) == ("", [])


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
