"""The metric pages under /manage/, through Django's test client: the catalogue (list, add,
change, delete, each error beside its field), the support check (one metric, a spreadsheet or
JSON file of planned metrics, a sample data file: exact verdicts, and nothing written), saving
checked metrics with their verdicts, and the provenance tags of the service and data set
pages. Data is built through the same functions users call."""

import html
import re
from collections import Counter

import orjson
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from perfplat.audit.models import AuditEntry
from perfplat.datasets import services as data_sets
from perfplat.datasets.models import Record, WriteBatch
from perfplat.datasets.services import DataSetSettings, create_data_set
from perfplat.datasets.writes import WriteSource, write_records
from perfplat.metrics.models import Metric
from perfplat.metrics.services import create_metric, record_support
from perfplat.publishing.readiness import readiness
from perfplat.uploads.models import Upload
from perfplat.uploads.services import receive
from spreadsheets import csv_file, xlsx

CHECK = "/manage/services/road-tax/metrics/check"
RESULTS = "/manage/services/road-tax/metrics/check/results"
SAVE = "/manage/services/road-tax/metrics/check/save"
CATALOGUE = "/manage/services/road-tax/metrics"
T = "2024-01-01T00:00:00Z"


# reading pages


def page(response) -> str:
    return response.content.decode()


def _text(fragment: str) -> str:
    fragment = re.sub(r"<br\s*/?>", " ", fragment)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def summary_errors(response) -> list[str]:
    """The messages of the page's GOV.UK error summary, in order."""
    found = re.search(r'govuk-error-summary__list">(.*?)</ul>', page(response), re.S)
    if not found:
        return []
    return [_text(item) for item in re.findall(r"<li>(.*?)</li>", found.group(1), re.S)]


def field_errors(response, name: str) -> list[str]:
    """The inline error messages shown by the field `name`."""
    found = re.search(
        rf'id="id_{name}-error" class="govuk-error-message">(.*?)</p>', page(response), re.S
    )
    if not found:
        return []
    return [
        _text(part).removeprefix("Error:").strip()
        for part in re.split(r"<br\s*/?>", found.group(1))
    ]


def banner(response) -> str | None:
    found = re.search(r'govuk-notification-banner__heading">(.*?)</p>', page(response), re.S)
    return _text(found.group(1)) if found else None


def tags(fragment: str) -> list[tuple[str, str]]:
    """The GOV.UK tags in a fragment: (text, colour class)."""
    return [
        (_text(text), classes.strip())
        for classes, text in re.findall(
            r'<strong class="govuk-tag ?([^"]*)">(.*?)</strong>', fragment
        )
    ]


def cards(response) -> dict[str, dict[str, str]]:
    """The page's summary cards by id: "title" and each row's key -> value (HTML)."""
    found = {}
    for part in re.split(r'<div class="govuk-summary-card" id="', page(response))[1:]:
        card_id = part.split('"', 1)[0]
        title = re.search(r'govuk-summary-card__title">(.*?)</h2>', part, re.S).group(1)
        rows = re.findall(
            r'<dt class="govuk-summary-list__key">(.*?)</dt>\s*'
            r'<dd class="govuk-summary-list__value">(.*?)</dd>',
            part,
            re.S,
        )
        found[card_id] = {"title": _text(title), **{_text(k): v for k, v in rows}}
    return found


def items(fragment: str) -> list[str]:
    return [_text(item) for item in re.findall(r"<li>(.*?)</li>", fragment, re.S)]


def verdicts(response) -> list[tuple[str, list[tuple[str, str]], list[str]]]:
    """Each checked metric on the results page: its name, its verdict tag, its problems."""
    return [
        (card["title"], tags(card["Verdict"]), items(card["Verdict"]))
        for card in cards(response).values()
    ]


def table_rows(response, caption_start: str) -> list[list[str]]:
    """The body rows (as text cells) of the table whose caption starts with `caption_start`."""
    for table in re.findall(r"<table.*?</table>", page(response), re.S):
        caption = re.search(r"<caption[^>]*>(.*?)</caption>", table, re.S)
        if caption and _text(caption.group(1)).startswith(caption_start):
            body = re.search(r"<tbody[^>]*>(.*?)</tbody>", table, re.S).group(1)
            return [
                [_text(cell) for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
                for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)
            ]
    raise AssertionError(f"no table captioned {caption_start!r}")


def as_user(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def upload_file(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content)


def written(world) -> tuple:
    """Everything a check must leave as it was."""
    return (
        Metric.objects.count(),
        Record.objects.count(),
        WriteBatch.objects.count(),
        Upload.objects.count(),
        AuditEntry.objects.exclude(action__in=["user.sign_in", "user.sign_out"]).count(),
    )


@pytest.fixture
def editor(world) -> Client:
    return as_user(world.editor)


@pytest.fixture
def cost(world):
    """road-tax/cost, a data set of the standard type cost."""
    data_set, _ = create_data_set(
        None, "cost", service=world.service, settings=DataSetSettings(standard_type="cost")
    )
    return data_set


# every page renders


@pytest.mark.parametrize(
    "path",
    [
        CATALOGUE,
        f"{CATALOGUE}/new",
        "/manage/metrics/{metric}/edit",
        "/manage/metrics/{metric}/delete",
        CHECK,
    ],
)
def test_each_page_renders_for_an_organisation_admin(world, path):
    metric = create_metric(None, world.service, slug="calls", name="Calls")
    response = as_user(world.org_admin).get(path.format(metric=metric.pk))
    assert response.status_code == 200
    assert re.search(r"<title>[^<]+ - Performance Platform</title>", page(response))
    assert "govuk-error-summary" not in page(response)


def test_another_organisations_catalogue_is_refused(world):
    assert as_user(world.other_editor).get(CATALOGUE).status_code == 403


# the catalogue


def test_the_catalogue_shows_each_metrics_details_source_and_verdict(world, editor, cost):
    upload = receive(
        cost,
        csv_file([["Month starting", "Period", "Amount"], ["01/01/2024", "month", "£1,200"]]),
        "cost.csv",
        actor=world.editor,
        commit=True,
    )
    assert upload.status == Upload.COMMITTED
    spend = create_metric(
        None,
        world.service,
        slug="cost-per-transaction",
        name="Cost per transaction",
        unit="£",
        kpi="cost-per-transaction",
        rationale="Shows whether the service gets cheaper to run",
        data_set=cost,
        query="period=month&collect=amount:sum",
    )
    record_support(None, spend)
    calls = create_metric(
        None, world.service, slug="calls", name="Calls", planned_type="phone-calls"
    )
    record_support(None, calls)

    response = editor.get(CATALOGUE)

    assert response.status_code == 200
    assert "<title>Metric catalogue of Tax your vehicle - Performance Platform</title>" in page(
        response
    )
    found = cards(response)
    assert list(found) == ["metric-calls", "metric-cost-per-transaction"]
    shown = found["metric-cost-per-transaction"]
    assert shown["title"] == "Cost per transaction"
    assert tags(shown["Source"]) == [("Manual", "govuk-tag--yellow")]
    assert tags(shown["Support check"]) == [("Supported", "govuk-tag--green")]
    assert _text(shown["Unit"]) == "£"
    assert _text(shown["KPI"]) == "Cost per transaction"
    assert _text(shown["Rationale"]) == "Shows whether the service gets cheaper to run"
    assert (
        f'<a class="govuk-link" href="/manage/data-sets/{cost.pk}">road-tax/cost</a>'
        in (shown["Data set"])
    )
    planned = found["metric-calls"]
    assert tags(planned["Source"]) == [("No data", "govuk-tag--grey")]
    assert tags(planned["Support check"]) == [("Not supported", "govuk-tag--red")]
    assert items(planned["Support check"]) == [
        "unknown data set type 'phone-calls': use one of transactions-by-channel, cost, "
        "user-satisfaction, completion, or none for free-form data"
    ]
    assert _text(planned["KPI"]) == "No: another metric"
    assert _text(planned["Rationale"]) == "Not given yet"
    assert _text(planned["Data set"]) == "None yet: planned as phone-calls data"
    assert f'href="/manage/metrics/{calls.pk}/edit">Change' in page(response)
    assert f'href="/manage/metrics/{calls.pk}/delete">Delete' in page(response)


def test_an_empty_catalogue_says_so(editor):
    assert "The service has no metrics yet." in page(editor.get(CATALOGUE))


METRIC = {
    "name": "Calls to the helpline",
    "slug": "calls",
    "description": "",
    "unit": "calls",
    "rationale": "Calls show where the online service confuses people",
    "kpi": "",
    "data_set": "",
    "query": "period=week&collect=count:sum",
    "period": "week",
    "planned_type": "transactions-by-channel",
    "planned_fields": "channel, count",
    "planned_data_period": "day",
}


def test_adding_a_metric(world, editor):
    response = editor.post(f"{CATALOGUE}/new", {**METRIC, "data_set": world.data_set.pk})

    assert response.status_code == 302
    assert response["Location"] == CATALOGUE
    metric = Metric.objects.get(service=world.service, slug="calls")
    assert (
        metric.name,
        metric.unit,
        metric.rationale,
        metric.data_set,
        metric.query,
        metric.period,
        metric.kpi,
        metric.planned_type,
        metric.planned_fields,
        metric.planned_data_period,
    ) == (
        "Calls to the helpline",
        "calls",
        "Calls show where the online service confuses people",
        world.data_set,
        "period=week&collect=count:sum",
        "week",
        "",
        "transactions-by-channel",
        ["channel", "count"],
        "day",
    )
    assert AuditEntry.objects.filter(action="metric.create", service=world.service).count() == 1
    assert banner(editor.get(CATALOGUE)) == "Calls to the helpline added to the metric catalogue"


@pytest.mark.parametrize(
    "changes, field, message",
    [
        ({"name": ""}, "name", "Enter the name of the metric"),
        ({"slug": "Calls!"}, "slug", "Enter a slug of lower-case letters, digits and hyphens"),
        (
            {"query": "period=fortnight"},
            "query",
            "The query cannot run: period must be one of hour, day, week, month, quarter, year, "
            "not 'fortnight'",
        ),
        ({"slug": "taken"}, "slug", "The service already has a metric 'taken'"),
        ({"data_set": "999999"}, "data_set", "Choose a data set from the list"),
    ],
)
def test_each_error_is_shown_beside_its_field_and_nothing_is_written(
    world, editor, changes, field, message
):
    create_metric(None, world.service, slug="taken", name="Taken")
    before = written(world)

    response = editor.post(f"{CATALOGUE}/new", {**METRIC, **changes})

    assert response.status_code == 200
    assert field_errors(response, field) == [message]
    assert summary_errors(response) == [message]
    assert f'<a href="#id_{field}">' in page(response)
    assert page(response).count("<title>Error: Add a metric - Performance Platform</title>") == 1
    assert written(world) == before


def test_another_services_data_set_is_not_offered(world, editor):
    shown = page(editor.get(f"{CATALOGUE}/new"))
    assert f'<option value="{world.data_set.pk}">road-tax/transactions</option>' in shown
    assert f'value="{world.other_data_set.pk}"' not in shown


def test_changing_a_metric(world, editor):
    metric = create_metric(None, world.service, slug="calls", name="Calls", period="month")
    form = page(editor.get(f"/manage/metrics/{metric.pk}/edit"))
    assert '<input type="text" name="name" value="Calls"' in form

    response = editor.post(
        f"/manage/metrics/{metric.pk}/edit",
        {**METRIC, "name": "Helpline calls", "data_set": world.data_set.pk},
    )

    assert response.status_code == 302
    metric.refresh_from_db()
    assert (metric.name, metric.data_set, metric.planned_fields, metric.period) == (
        "Helpline calls",
        world.data_set,
        ["channel", "count"],
        "week",
    )
    entry = AuditEntry.objects.get(action="metric.update")
    assert (entry.before["name"], entry.after["name"]) == ("Calls", "Helpline calls")
    assert banner(editor.get(CATALOGUE)) == "Changes to Helpline calls saved"


def test_a_change_refused_leaves_the_metric_as_it_was(world, editor):
    metric = create_metric(None, world.service, slug="calls", name="Calls")
    create_metric(None, world.service, slug="taken", name="Taken")

    response = editor.post(f"/manage/metrics/{metric.pk}/edit", {**METRIC, "slug": "taken"})

    assert field_errors(response, "slug") == ["The service already has a metric 'taken'"]
    assert "<title>Error: Change the metric Calls - Performance Platform</title>" in page(response)
    metric.refresh_from_db()
    assert (metric.slug, metric.name) == ("calls", "Calls")


def test_deleting_a_metric_asks_first(world, editor):
    metric = create_metric(None, world.service, slug="calls", name="Calls")
    url = f"/manage/metrics/{metric.pk}/delete"

    asked = editor.get(url)
    assert '<h1 class="govuk-heading-l">Delete the metric Calls?</h1>' in page(asked)
    assert Metric.objects.filter(pk=metric.pk).exists()

    response = editor.post(url)
    assert response.status_code == 302
    assert response["Location"] == CATALOGUE
    assert not Metric.objects.filter(pk=metric.pk).exists()
    assert AuditEntry.objects.get(action="metric.delete").before["name"] == "Calls"
    assert banner(editor.get(CATALOGUE)) == "Calls removed from the metric catalogue"


# the support check: one metric


ONE = {
    "kind": "metric",
    "metric-name": "Digital take-up",
    "metric-data_set_type": "transactions-by-channel",
    "metric-field_names": "channel, count",
    "metric-period": "month",
    "metric-data_period": "week",
    "metric-query": "period=month&group_by=channel&collect=count:sum",
    "metric-kpi": "digital-take-up",
}


def check(client, data) -> object:
    """Post the check form and follow it to the results page."""
    response = client.post(CHECK, data)
    assert response.status_code == 302, summary_errors(response)
    assert response["Location"] == RESULTS
    return client.get(RESULTS)


def test_a_supported_metric_gets_a_green_tag_and_nothing_is_written(world, editor):
    before = written(world)

    response = check(editor, ONE)

    assert "<title>Can the platform support your metrics? - Performance Platform</title>" in (
        page(response)
    )
    assert verdicts(response) == [
        ("Digital take-up", [("Supported", "govuk-tag--green")], []),
    ]
    assert "The platform supports 1 of the 1 metric you checked. Nothing has been stored." in _text(
        page(response)
    )
    assert written(world) == before


def test_a_metric_with_problems_lists_every_exact_problem(editor):
    response = check(
        editor,
        {
            **ONE,
            "metric-name": "Weekly cost",
            "metric-data_set_type": "cost",
            "metric-field_names": "amount, currency, 2nd",
            "metric-period": "week",
            "metric-data_period": "month",
            "metric-query": "period=week&collect=channel:sum",
        },
    )

    assert verdicts(response) == [
        (
            "Weekly cost",
            [("Not supported", "govuk-tag--red")],
            [
                "the KPI digital-take-up is computed from transactions-by-channel data, not cost",
                "missing field: 'currency' is not part of the cost type (its fields are period, "
                "amount, channel)",
                "key '2nd' is not a valid identifier (letters, digits and _, not starting with "
                "a digit)",
                "a weekly figure cannot be computed from data recorded per month",
                "the query adds up 'channel', which is not a number field",
            ],
        )
    ]


SAMPLE = [
    ["Week starting", "Period", "Channel", "Count"],
    ["01/01/2024", "week", "digital", "1,234"],
    ["31/02/2024", "week", "phone", "56"],
    ["08/01/2024", "week", "digital", "many"],
    ["08/01/2024", "fortnight", "paper", "3"],
]
SAMPLE_PROBLEMS = [
    "sample data would be rejected: row 3, column “Week starting”: '31/02/2024' is not a real "
    "date (dates are day/month/year)",
    "sample data would be rejected: row 4, column “Count”: 'many' is not a whole number",
    "sample data would be rejected: row 5: field 'period' must be one of day, week, month, "
    "quarter, not 'fortnight'",
]


def test_a_sample_data_file_names_each_row_that_would_be_rejected(world, editor):
    before = written(world)

    response = check(editor, {**ONE, "metric-sample": upload_file("sample.csv", csv_file(SAMPLE))})

    assert verdicts(response) == [
        ("Digital take-up", [("Not supported", "govuk-tag--red")], SAMPLE_PROBLEMS)
    ]
    assert written(world) == before


def test_a_good_sample_workbook_is_supported(editor):
    rows = [SAMPLE[0], SAMPLE[1], ["08/01/2024", "week", "phone", 56]]
    response = check(
        editor, {**ONE, "metric-sample": upload_file("sample.xlsx", xlsx({"Data": rows}))}
    )
    assert verdicts(response) == [
        ("Digital take-up", [("Supported", "govuk-tag--green")], []),
    ]


def test_a_sample_without_a_column_the_type_needs_says_so_once(editor):
    rows = [["Week starting", "Period", "Channel"], ["01/01/2024", "week", "digital"]]
    response = check(editor, {**ONE, "metric-sample": upload_file("sample.csv", csv_file(rows))})
    assert verdicts(response)[0][2] == [
        "sample data would be rejected: row 1: no column is mapped to count, which every record "
        "needs: add the column, or choose it in the mapping"
    ]


@pytest.mark.parametrize(
    "changes, field, message",
    [
        ({"metric-name": ""}, "metric-name", "Enter the name of the metric"),
        ({"metric-period": ""}, "metric-period", "Choose the period of the figure"),
        (
            {"metric-sample": upload_file("photo.png", b"\x89PNG\r\n\x1a\n\x00\x00")},
            "metric-sample",
            "The file is not a spreadsheet: upload a CSV, XLSX, XLS or ODS file",
        ),
        (
            {"metric-sample": upload_file("sample.csv", b"Count\n")},
            "metric-sample",
            "The file has a header row (row 1) but no rows of data below it",
        ),
    ],
)
def test_a_check_form_error_is_shown_beside_its_field(world, editor, changes, field, message):
    before = written(world)

    response = editor.post(CHECK, {**ONE, **changes})

    assert response.status_code == 200
    assert field_errors(response, field) == [message]
    assert summary_errors(response) == [message]
    assert (
        "<title>Error: Check the platform can support your metrics - Performance Platform</title>"
        in page(response)
    )
    assert written(world) == before


def test_a_sample_larger_than_the_limit_is_refused(editor, settings):
    settings.PERFPLAT_MAX_UPLOAD_BYTES = 20
    response = editor.post(
        CHECK, {**ONE, "metric-sample": upload_file("sample.csv", csv_file(SAMPLE))}
    )
    assert field_errors(response, "metric-sample") == [
        "The file is 155 bytes, larger than the limit of 20 bytes"
    ]


# the support check: a file of planned metrics


PLAN = [
    ["Name", "Type", "Fields", "Period", "Data period", "Query", "KPI"],
    [
        "Cost per transaction",
        "cost",
        "amount",
        "month",
        "month",
        "period=month&collect=amount:sum",
        "cost-per-transaction",
    ],
    ["Cost by region", "cost", "amount, region", "quarter", "month", "", ""],
    ["Page views", "", "", "", "", "", ""],
]
PLAN_VERDICTS = [
    ("Cost per transaction", [("Supported", "govuk-tag--green")], []),
    (
        "Cost by region",
        [("Not supported", "govuk-tag--red")],
        [
            "missing field: 'region' is not part of the cost type (its fields are period, "
            "amount, channel)"
        ],
    ),
    ("Page views", [("Supported", "govuk-tag--green")], []),
]


@pytest.mark.parametrize("make", [csv_file, lambda rows: xlsx({"Plan": rows})], ids=["csv", "xlsx"])
def test_a_spreadsheet_of_planned_metrics_gets_a_verdict_each(world, editor, make):
    before = written(world)

    response = check(editor, {"kind": "plan", "plan-plan": upload_file("plan", make(PLAN))})

    assert verdicts(response) == PLAN_VERDICTS
    assert (
        "The platform supports 2 of the 3 metrics you checked. Nothing has been stored."
        in _text(page(response))
    )
    assert written(world) == before


def test_a_json_file_of_planned_metrics_with_sample_records(world, editor):
    plan = {
        "metrics": [
            {
                "name": "Completion rate",
                "data_set_type": "completion",
                "fields": ["started", "completed"],
                "kpi": "completion-rate",
                "sample_records": [
                    {"_timestamp": T, "period": "week", "started": 10, "completed": 12}
                ],
            },
            {"name": "Satisfaction", "data_set_type": "user-satisfaction", "period": "fortnight"},
        ]
    }
    response = check(
        editor, {"kind": "plan", "plan-plan": upload_file("plan.json", orjson.dumps(plan))}
    )
    assert verdicts(response) == [
        (
            "Completion rate",
            [("Not supported", "govuk-tag--red")],
            ["sample data would be rejected: record 0: completed cannot be more than started"],
        ),
        (
            "Satisfaction",
            [("Not supported", "govuk-tag--red")],
            ["period must be one of hour, day, week, month, quarter, year, not 'fortnight'"],
        ),
    ]


def test_a_sample_file_is_checked_for_the_planned_metrics_of_its_type(editor):
    sample = [["Month starting", "Period", "Amount"], ["01/01/2024", "month", "lots"]]
    response = check(
        editor,
        {
            "kind": "plan",
            "plan-plan": upload_file("plan.csv", csv_file(PLAN)),
            "plan-sample": upload_file("cost.csv", csv_file(sample)),
            "plan-sample_type": "cost",
        },
    )
    rejected = "sample data would be rejected: row 2, column “Amount”: 'lots' is not a number"
    assert [(name, problems) for name, _, problems in verdicts(response)] == [
        ("Cost per transaction", [rejected]),
        ("Cost by region", [*PLAN_VERDICTS[1][2], rejected]),
        ("Page views", []),
    ]


@pytest.mark.parametrize(
    "data, field, messages",
    [
        ({}, "plan-plan", ["Select a spreadsheet or JSON file of planned metrics"]),
        (
            {"plan-plan": csv_file([["Name", "Owner"], ["Visits", "Sam"]])},
            "plan-plan",
            [
                "The file has a column “Owner” that a plan does not have: its columns are name, "
                "type, fields, period, data_period, query and kpi"
            ],
        ),
        (
            {"plan-plan": csv_file([["Type"], ["cost"]])},
            "plan-plan",
            [
                "The file has no column “name”: its columns are name, type, fields, period, "
                "data_period, query and kpi"
            ],
        ),
        (
            {"plan-plan": csv_file([["Name", "Type"], ["", "cost"], ["Visits", ""], ["", ""]])},
            "plan-plan",
            ["Row 2 has no name: give each planned metric a name"],
        ),
        (
            {"plan-plan": b'{"metrics": [{"type": "cost"}, {"name": 3}]}'},
            "plan-plan",
            [
                "metrics.0.name: Field required",
                "metrics.1.name: Input should be a valid string",
            ],
        ),
        (
            {"plan-plan": b"[1, "},
            "plan-plan",
            ["The file is not valid JSON: unexpected end of data: line 1 column 5 (char 4)"],
        ),
        ({"plan-plan": b"[]"}, "plan-plan", ["The file lists no planned metrics"]),
        (
            {"plan-plan": csv_file(PLAN), "plan-sample": csv_file(SAMPLE)},
            "plan-sample_type",
            ["Choose the type of the sample data"],
        ),
        (
            {
                "plan-plan": csv_file(PLAN),
                "plan-sample": csv_file(SAMPLE),
                "plan-sample_type": "completion",
            },
            "plan-sample_type",
            [
                "No planned metric in the file is of the type completion: choose the type of "
                "the sample data"
            ],
        ),
    ],
    ids=[
        "no-file",
        "unknown-column",
        "no-name-column",
        "row-without-name",
        "json-schema",
        "not-json",
        "empty",
        "sample-without-type",
        "sample-of-another-type",
    ],
)
def test_a_plan_file_error_names_the_problem(world, editor, data, field, messages):
    before = written(world)
    files = {
        name: upload_file(name, value) if isinstance(value, bytes) else value
        for name, value in data.items()
    }

    response = editor.post(CHECK, {"kind": "plan", **files})

    assert response.status_code == 200
    assert field_errors(response, field) == messages
    assert summary_errors(response) == messages
    assert written(world) == before


def test_the_results_page_without_a_check_leads_to_the_check(editor):
    response = editor.get(RESULTS)
    assert (response.status_code, response["Location"]) == (302, CHECK)


# saving checked metrics to the catalogue


def test_saving_checked_metrics_keeps_their_verdicts_for_readiness(world, editor):
    check(editor, {"kind": "plan", "plan-plan": upload_file("plan.csv", csv_file(PLAN))})

    response = editor.post(SAVE, {"metrics": ["0", "1"]})

    assert (response.status_code, response["Location"]) == (302, CATALOGUE)
    saved = {m.slug: m for m in Metric.objects.filter(service=world.service)}
    assert sorted(saved) == ["cost-by-region", "cost-per-transaction"]
    supported, region = saved["cost-per-transaction"], saved["cost-by-region"]
    assert (
        supported.name,
        supported.planned_type,
        supported.planned_fields,
        supported.period,
        supported.planned_data_period,
        supported.query,
        supported.kpi,
        supported.support,
        supported.support_problems,
    ) == (
        "Cost per transaction",
        "cost",
        ["amount"],
        "month",
        "month",
        "period=month&collect=amount:sum",
        "cost-per-transaction",
        "supported",
        [],
    )
    assert (region.support, region.support_problems) == ("unsupported", PLAN_VERDICTS[1][2])
    assert banner(editor.get(CATALOGUE)) == "2 metrics added to the metric catalogue"
    # The readiness report reads the verdicts.
    item = next(i for i in readiness(world.service).items if i.key == "alpha.metrics-supported")
    assert not item.met
    assert "Cost by region: not supported: missing field: 'region' is not part of the cost " in (
        " ".join(evidence.text for evidence in item.evidence)
    )
    # The plan is used up.
    assert editor.get(RESULTS)["Location"] == CHECK


def test_saving_keeps_a_sample_files_problems_in_the_verdict(world, editor):
    check(editor, {**ONE, "metric-sample": upload_file("sample.csv", csv_file(SAMPLE))})

    editor.post(SAVE, {"metrics": ["0"]})

    metric = Metric.objects.get(service=world.service, slug="digital-take-up")
    assert (metric.support, metric.support_problems) == ("unsupported", SAMPLE_PROBLEMS)
    assert Record.objects.count() == 0


def test_a_saved_metric_checked_again_keeps_the_period_its_data_will_be_recorded_in(world, editor):
    check(editor, {**ONE, "metric-period": "week", "metric-data_period": "month"})
    editor.post(SAVE, {"metrics": ["0"]})

    # "Check the metrics" on the readiness page checks the catalogue entry itself.
    response = editor.post("/manage/services/road-tax/readiness/check-metrics")

    assert response.status_code == 302
    metric = Metric.objects.get(service=world.service, slug="digital-take-up")
    assert (metric.planned_data_period, metric.support, metric.support_problems) == (
        "month",
        "unsupported",
        ["a weekly figure cannot be computed from data recorded per month"],
    )


def test_saving_nothing_chosen_says_what_to_do(world, editor):
    check(editor, ONE)

    response = editor.post(SAVE, {})

    assert response.status_code == 200
    assert summary_errors(response) == ["Select the metrics to add to the catalogue"]
    assert not Metric.objects.exists()


def test_saving_a_metric_whose_name_is_taken_saves_none(world, editor):
    create_metric(None, world.service, slug="cost-by-region", name="Regional cost")
    check(editor, {"kind": "plan", "plan-plan": upload_file("plan.csv", csv_file(PLAN))})

    response = editor.post(SAVE, {"metrics": ["0", "1", "2"]})

    assert response.status_code == 200
    assert summary_errors(response) == [
        "Cost by region: The service already has a metric 'cost-by-region'"
    ]
    assert list(Metric.objects.values_list("slug", flat=True)) == ["cost-by-region"]
    # The results are still there to choose again.
    assert verdicts(response) == PLAN_VERDICTS


def test_saving_without_a_check_leads_to_the_check(editor):
    response = editor.post(SAVE, {"metrics": ["0"]})
    assert (response.status_code, response["Location"]) == (302, CHECK)


# provenance in /manage/


@pytest.fixture
def provenance(world, cost):
    """road-tax's data sets, each written another way: cost by spreadsheet upload (manual),
    transactions through the API (automatic), visits both ways (mixed), calls not at all."""
    receive(
        cost,
        csv_file([["Month starting", "Period", "Amount"], ["01/01/2024", "month", "£1,200"]]),
        "cost.csv",
        actor=world.editor,
        commit=True,
    )
    write_records(world.data_set, [{"_id": "a", "count": 1}], WriteSource(WriteBatch.API))
    visits, _ = create_data_set(None, "visits", service=world.service)
    write_records(visits, [{"_id": "a", "n": 1}], WriteSource(WriteBatch.UPLOAD))
    write_records(visits, [{"_id": "b", "n": 2}], WriteSource(WriteBatch.COLLECTOR))
    create_data_set(None, "calls", service=world.service)
    for slug, data_set in (("spend", cost), ("volume", world.data_set), ("visits", visits)):
        create_metric(None, world.service, slug=slug, name=slug.capitalize(), data_set=data_set)
    create_metric(None, world.service, slug="planned", name="Planned")


def test_the_service_page_tags_each_data_sets_and_metrics_source_in_one_query(
    world, editor, provenance, monkeypatch
):
    calls = []
    real = data_sets.sources_of

    def counting(found, now=None):
        calls.append(sorted(str(data_set) for data_set in found))
        return real(found, now)

    monkeypatch.setattr(data_sets, "sources_of", counting)

    response = editor.get("/manage/services/road-tax")

    assert calls == [
        ["road-tax/calls", "road-tax/cost", "road-tax/transactions", "road-tax/visits"]
    ]
    rows = table_rows(response, "Data sets of Tax your vehicle")
    assert [(row[0], row[-1]) for row in rows] == [
        ("road-tax/calls", "No data"),
        ("road-tax/cost", "Manual"),
        ("road-tax/transactions", "Automatic"),
        ("road-tax/visits", "Mixed"),
    ]
    assert table_rows(response, "Metrics of Tax your vehicle") == [
        ["Planned", "None yet", "No data"],
        ["Spend", "road-tax/cost", "Manual"],
        ["Visits", "road-tax/visits", "Mixed"],
        ["Volume", "road-tax/transactions", "Automatic"],
    ]
    shown = page(response)
    assert '<strong class="govuk-tag govuk-tag--purple">Mixed</strong>' in shown
    assert 'href="/manage/services/road-tax/metrics">The metric catalogue' in shown
    assert 'href="/manage/services/road-tax/metrics/check">Check the platform can support' in shown


def test_the_data_set_page_tags_its_source_and_links_to_its_uploads(
    world, editor, cost, provenance
):
    shown = page(editor.get(f"/manage/data-sets/{cost.pk}"))

    manual = '<strong class="govuk-tag govuk-tag--yellow">Manual</strong>'
    assert re.search(rf"Source</dt>\s*<dd[^>]*>{manual}\s*</dd>", shown)
    assert f'<a class="govuk-link" href="/manage/data-sets/{cost.pk}/uploads/">Uploads</a>' in shown


def test_the_catalogue_tags_each_metrics_source(editor, provenance):
    found = cards(editor.get(CATALOGUE))
    assert {card["title"]: tags(card["Source"]) for card in found.values()} == {
        "Planned": [("No data", "govuk-tag--grey")],
        "Spend": [("Manual", "govuk-tag--yellow")],
        "Visits": [("Mixed", "govuk-tag--purple")],
        "Volume": [("Automatic", "govuk-tag--blue")],
    }


# the demo


def test_the_demo_uploads_some_data_sets_so_their_metrics_are_manual_or_mixed(db):
    from perfplat.demo import load_demo
    from perfplat.metrics.services import metric_sources

    for _ in load_demo():
        pass
    for _ in load_demo():
        pass

    metrics = list(Metric.objects.select_related("service"))
    sources = metric_sources(metrics)
    # The two with no data: metrics an alpha service plans, with no data set yet.
    assert Counter(sources.values()) == {"automatic": 53, "manual": 2, "mixed": 2, "no data": 2}
    assert sorted(
        (metric.service.slug, metric.slug, sources[metric.pk])
        for metric in metrics
        if sources[metric.pk] not in ("automatic", "no data")
    ) == [
        ("driving-licence-renewal", "cost-per-transaction", "manual"),
        ("driving-licence-renewal", "user-satisfaction", "mixed"),
        ("vehicle-tax", "cost-per-transaction", "manual"),
        ("vehicle-tax", "user-satisfaction", "mixed"),
    ]
    # Through the real upload path, by the demo editor, once: loading again uploads nothing.
    assert sorted(
        Upload.objects.values_list(
            "data_set__data_group", "data_set__data_type", "status", "user__email"
        )
    ) == [
        ("driving-licence-renewal", "cost", "committed", "dvla-editor@perfplat.example"),
        (
            "driving-licence-renewal",
            "user-satisfaction",
            "committed",
            "dvla-editor@perfplat.example",
        ),
        ("vehicle-tax", "cost", "committed", "dvla-editor@perfplat.example"),
        ("vehicle-tax", "user-satisfaction", "committed", "dvla-editor@perfplat.example"),
    ]
