"""The publishing pages under /manage/ through Django's test client: the dashboard editor (add,
change, reorder and remove modules; errors beside the exact field), the workflow's pages,
versions and their comparison, assessments and the readiness reports."""

import re

import pytest

from api.test_manage_pages import _text, as_user, banner, field_error, page, summary_errors
from perfplat.audit.models import AuditEntry
from perfplat.dashboards import services as dashboards
from perfplat.dashboards.models import DashboardVersion
from perfplat.metrics.models import Metric
from perfplat.publishing.models import AssessmentSnapshot
from publishing_fixtures import catalogue, fixed_now, kpi_data_sets, send_month

pytestmark = pytest.mark.usefixtures(fixed_now.__name__)

EDITOR = "/manage/services/road-tax/dashboard"


@pytest.fixture
def editor(world):
    return as_user(world.editor)


@pytest.fixture
def admin(world):
    return as_user(world.org_admin)


@pytest.fixture
def draft(world):
    """road-tax's draft: KPI tiles, then a text module."""
    version = dashboards.start_draft(world.editor, world.service)
    return dashboards.save_draft(
        world.editor,
        version,
        {
            "audience": "Drivers",
            "modules": [
                {"kind": "kpis", "title": "Key performance indicators"},
                {"kind": "text", "title": "About", "text": "Our data"},
            ],
        },
    )


def modules(world) -> list[tuple[str, str]]:
    version = dashboards.working_version(world.service)
    return [(m["kind"], m["title"]) for m in version.content["modules"]]


def follow_banner(client, response) -> str:
    assert response.status_code == 302, page(response)[:2000]
    return banner(client.get(response["Location"]))


def headings(response) -> list[str]:
    return [_text(h) for h in re.findall(r"<h3[^>]*>(.*?)</h3>", page(response), re.S)]


# the editor


def test_the_editor_before_any_draft_offers_to_start(editor):
    response = editor.get(EDITOR)
    assert response.status_code == 200
    assert "Start the dashboard" in page(response)
    response = editor.post(f"{EDITOR}/start")
    assert follow_banner(editor, response) == "You are editing version 1, a draft"


def test_the_editor_shows_the_draft_its_details_and_modules(editor, draft):
    response = editor.get(EDITOR)
    text = page(response)
    assert "Version 1" in text and "Submit for review" in text
    assert headings(response) == ["1. Key performance indicators", "2. About"]
    assert "Drivers" in text and "Not chosen yet" in text


def test_changing_the_details(editor, draft, world):
    response = editor.post(
        f"{EDITOR}/details",
        {
            "audience": "Drivers",
            "usage": "Weekly planning",
            "baseline_start": "2024-04-01",
            "baseline_end": "2025-03-31",
        },
    )
    assert follow_banner(editor, response) == "The dashboard's details are saved"
    content = dashboards.working_version(world.service).content
    assert (content["usage"], content["baseline"]) == ("Weekly planning", "2024-04-01/2025-03-31")
    assert "1 April 2024 to 31 March 2025" in page(editor.get(EDITOR))
    assert AuditEntry.objects.filter(action="dashboard.edit", actor=world.editor).count() == 2


@pytest.mark.parametrize(
    ("start", "end", "field", "message"),
    [
        (
            "2024-13-01",
            "2025-03-31",
            "baseline_start",
            "The first day must be a real date, such as 2025-03-31",
        ),
        ("2024-04-01", "", "baseline_end", "Enter the last day of the baseline period"),
        (
            "2025-04-01",
            "2024-03-31",
            "baseline_start",
            "baseline: the baseline period must end on or after the day it starts",
        ),
    ],
)
def test_a_wrong_baseline_is_shown_beside_its_field(editor, draft, start, end, field, message):
    response = editor.post(
        f"{EDITOR}/details",
        {"audience": "", "usage": "", "baseline_start": start, "baseline_end": end},
    )
    assert response.status_code == 200
    assert field_error(response, field) == message
    assert summary_errors(response) == [message]
    draft.refresh_from_db()
    assert draft.content["baseline"] == ""


def test_adding_a_module_starts_with_its_kind(editor, draft):
    response = editor.post(f"{EDITOR}/modules/new", {})
    assert field_error(response, "kind") == "Choose the kind of module"
    response = editor.post(f"{EDITOR}/modules/new", {"kind": "time-series"})
    assert response["Location"] == f"{EDITOR}/modules/new/time-series"
    assert editor.get(f"{EDITOR}/modules/new/chart").status_code == 404


def test_adding_a_text_module(editor, draft, world):
    response = editor.post(f"{EDITOR}/modules/new/text", {"title": "Notes", "text": "Hello"})
    assert follow_banner(editor, response) == "Module 3 added"
    assert modules(world)[-1] == ("text", "Notes")


def test_a_module_without_what_it_needs_says_so_beside_each_field(editor, draft, world):
    response = editor.post(f"{EDITOR}/modules/new/text", {"title": "", "text": ""})
    assert (field_error(response, "title"), field_error(response, "text")) == (
        "Enter a title",
        "Enter the text",
    )
    assert len(modules(world)) == 2


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        (
            {"title": "Volume", "data_set": "", "query": "period=week"},
            "data_set",
            "choose one of the service's data sets (road-tax/transactions)",
        ),
        (
            {"title": "Volume", "data_set": "road-tax/transactions", "query": "period=fortnight"},
            "query",
            "period must be one of hour, day, week, month, quarter, year, not 'fortnight'",
        ),
        (
            {"title": "Volume", "data_set": "road-tax/transactions", "query": "group_by=channel"},
            "query",
            "a time series needs a period",
        ),
        (
            {
                "title": "Volume",
                "data_set": "road-tax/transactions",
                "query": "period=week&collect=count:sum",
                "value": "amount:sum",
            },
            "value",
            "the query gives _count, count:sum, not 'amount:sum'",
        ),
        (
            {"title": "Volume", "data_set": "elsewhere/x", "query": "period=week"},
            "data_set",
            "Choose a data set from the list",
        ),
    ],
)
def test_a_wrong_data_module_is_shown_beside_the_exact_field(
    editor, draft, world, values, field, message
):
    response = editor.post(f"{EDITOR}/modules/new/time-series", values)
    assert response.status_code == 200
    assert field_error(response, field) == message
    assert summary_errors(response) == [message]
    assert len(modules(world)) == 2


def test_a_grouped_time_series_needs_its_group(editor, draft, world):
    values = {
        "title": "By channel",
        "data_set": "road-tax/transactions",
        "query": "period=month&group_by=channel&collect=count:sum",
        "value": "count:sum",
    }
    response = editor.post(f"{EDITOR}/modules/new/grouped-time-series", values)
    assert field_error(response, "group") == "Enter the field the query groups by"
    response = editor.post(
        f"{EDITOR}/modules/new/grouped-time-series", {**values, "group": "region"}
    )
    assert field_error(response, "group").startswith("a grouped time series needs a query")
    response = editor.post(
        f"{EDITOR}/modules/new/grouped-time-series", {**values, "group": "channel"}
    )
    assert follow_banner(editor, response) == "Module 3 added"


def test_a_module_from_a_metric_reads_its_data_set_and_query(editor, draft, world):
    data_sets = kpi_data_sets(world.service, types=("cost",))
    catalogue(world.service, data_sets)
    response = editor.post(
        f"{EDITOR}/modules/new/time-series",
        {"title": "Cost", "metric": "cost-per-transaction", "value": "amount:sum"},
    )
    assert follow_banner(editor, response) == "Module 3 added"
    module = dashboards.working_version(world.service).content["modules"][-1]
    assert module == {
        "kind": "time-series",
        "title": "Cost",
        "description": "",
        "metric": "cost-per-transaction",
        "data_set": "road-tax/cost",
        "query": "period=month&collect=amount:sum",
        "value": "amount:sum",
    }


def test_a_metric_without_a_data_set_is_shown_beside_the_data_set(editor, draft, world):
    Metric.objects.create(service=world.service, slug="planned", name="Planned")
    response = editor.post(f"{EDITOR}/modules/new/table", {"title": "T", "metric": "planned"})
    assert field_error(response, "data_set") == (
        "The metric Planned has no data set yet: choose a data set"
    )


def test_changing_a_module(editor, draft, world):
    response = editor.get(f"{EDITOR}/modules/2")
    assert 'value="About"' in page(response)
    response = editor.post(f"{EDITOR}/modules/2", {"title": "About the data", "text": "Ours"})
    assert follow_banner(editor, response) == "Module 2 saved"
    assert modules(world) == [("kpis", "Key performance indicators"), ("text", "About the data")]
    assert editor.get(f"{EDITOR}/modules/3").status_code == 404


def test_moving_modules_up_and_down(editor, draft, world):
    def move(number, direction):
        return follow_banner(
            editor, editor.post(f"{EDITOR}/modules/{number}/move", {"direction": direction})
        )

    assert move(2, "up") == "Module 2 moved up: it is now module 1"
    assert [kind for kind, _ in modules(world)] == ["text", "kpis"]
    assert move(1, "down") == "Module 1 moved down: it is now module 2"
    assert [kind for kind, _ in modules(world)] == ["kpis", "text"]
    # The first cannot go higher: nothing changes.
    assert move(1, "up") == "Module 1 is already the first"
    assert [kind for kind, _ in modules(world)] == ["kpis", "text"]
    assert move(1, "sideways") == "Move a module up or down"
    assert AuditEntry.objects.filter(action="dashboard.edit").count() == 3


def test_the_editor_has_move_buttons_that_work_without_javascript(editor, draft):
    text = page(editor.get(EDITOR))
    assert text.count('name="direction" value="up"') == 1
    assert text.count('name="direction" value="down"') == 1
    assert 'action="/manage/services/road-tax/dashboard/modules/1/move"' in text


def test_removing_a_module_asks_first(editor, draft, world):
    response = editor.get(f"{EDITOR}/modules/2/remove")
    assert "Remove module 2?" in page(response)
    assert len(modules(world)) == 2
    response = editor.post(f"{EDITOR}/modules/2/remove")
    assert follow_banner(editor, response) == "Module 2 removed"
    assert modules(world) == [("kpis", "Key performance indicators")]


# the workflow


def test_submit_send_back_fix_and_publish(editor, admin, draft, world, client):
    assert follow_banner(editor, editor.post(f"{EDITOR}/submit")) == (
        "Version 1 is submitted for review"
    )
    # In review, nothing can be changed.
    response = editor.get(f"{EDITOR}/details")
    assert follow_banner(editor, response).startswith("Version 1 is in review")
    assert "Approve and publish" not in page(editor.get(EDITOR))
    assert "Approve and publish" in page(admin.get(EDITOR))

    response = admin.post(f"{EDITOR}/send-back", {"comment": ""})
    assert field_error(response, "comment") == "Say what needs to change"
    response = admin.post(f"{EDITOR}/send-back", {"comment": "Say who uses it"})
    assert follow_banner(admin, response) == "Version 1 is sent back to the editors"
    text = page(editor.get(EDITOR))
    assert "Sent back" in text and "Say who uses it" in text

    editor.post(f"{EDITOR}/modules/new/text", {"title": "Users", "text": "Drivers"})
    editor.post(f"{EDITOR}/submit")
    response = admin.post(f"{EDITOR}/publish")
    assert follow_banner(admin, response) == (
        "Version 1 is published: the public dashboard shows it"
    )
    assert client.get("/services/road-tax").status_code == 200


def test_an_editor_is_refused_the_admins_pages(editor, draft):
    editor.post(f"{EDITOR}/submit")
    for path in ("publish", "send-back", "unpublish"):
        assert editor.post(f"{EDITOR}/{path}").status_code == 403


def test_publishing_a_draft_not_in_review_is_explained(admin, draft):
    response = admin.post(f"{EDITOR}/publish")
    assert follow_banner(admin, response) == "Only a version in review can be published"


def test_unpublishing_asks_first_and_says_which_data_sets_stay_public(admin, world, client):
    dashboards.publish_directly(world.service)
    text = page(admin.get(f"{EDITOR}/unpublish"))
    assert "Unpublish the dashboard?" in text
    assert "Unpublishing the dashboard leaves this data set public" in text
    assert "<li>road-tax/transactions</li>" in text
    response = admin.post(f"{EDITOR}/unpublish")
    assert follow_banner(admin, response) == (
        "Version 1 is unpublished: the public can no longer see the dashboard. These data sets "
        "stay public: road-tax/transactions"
    )
    assert client.get("/services/road-tax").status_code == 404
    assert client.get("/data/road-tax/transactions?period=month").status_code == 200


def test_unpublishing_may_unpublish_the_data_sets_too(admin, world, client):
    dashboards.publish_directly(world.service)
    response = admin.post(f"{EDITOR}/unpublish", {"data_sets": "unpublish"})
    assert follow_banner(admin, response) == (
        "Version 1 is unpublished, and so are its data sets: road-tax/transactions"
    )
    assert client.get("/data/road-tax/transactions?period=month").status_code == 404
    world.data_set.refresh_from_db()
    assert world.data_set.published is False
    entry = AuditEntry.objects.filter(action="data_set.update").latest("pk")
    assert (entry.actor, entry.before["published"], entry.after["published"]) == (
        world.org_admin,
        True,
        False,
    )


def test_approving_says_which_data_sets_publishing_makes_public(admin, editor, world):
    data_sets = kpi_data_sets(world.service, published=False)
    version = dashboards.start_draft(world.editor, world.service)
    dashboards.save_draft(
        world.editor,
        version,
        {"modules": [{"kind": "kpis", "title": "Key performance indicators"}]},
    )
    editor.post(f"{EDITOR}/submit")
    text = page(admin.get(EDITOR))
    # The tiles' data sets, though no module shows them.
    assert "Publishing also makes these data sets public" in text
    assert [_text(item) for item in re.findall(r"<li>(road-tax/[^<]*)</li>", text)] == [
        "road-tax/completion",
        "road-tax/cost",
        "road-tax/transactions-by-channel",
        "road-tax/user-satisfaction",
    ]
    admin.post(f"{EDITOR}/publish")
    for data_set in data_sets.values():
        data_set.refresh_from_db()
        assert data_set.published


def test_every_version_with_who_and_when(editor, admin, draft, world):
    editor.post(f"{EDITOR}/submit")
    admin.post(f"{EDITOR}/publish")
    editor.post(f"{EDITOR}/start")
    response = editor.get(f"{EDITOR}/versions")
    rows = [
        [_text(cell) for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", page(response), re.S)
    ][1:]
    assert [row[:2] for row in rows] == [
        ["Version 2 (preview)", "Draft"],
        ["Version 1 (preview)", "Published"],
    ]
    assert "by dft-editor@example.gov.uk" in rows[1][2]
    assert "by dft-admin@example.gov.uk" in rows[1][4]


def test_comparing_two_versions_on_a_page(editor, world):
    first = dashboards.publish_directly(world.service)
    second = dashboards.start_draft(world.editor, world.service)
    dashboards.save_draft(
        world.editor,
        second,
        {
            **first.content,
            "audience": "Drivers",
            "baseline": "2024-01-01/2024-12-31",
            "modules": [
                first.content["modules"][0],
                {**first.content["modules"][1], "description": "Where it comes from"},
                {"kind": "text", "title": "Notes", "text": "New"},
            ],
        },
    )
    response = editor.get(f"{EDITOR}/compare?older=1&newer=2")
    text = page(response)
    assert "What changed from version 1 to version 2" in text
    rows = [
        [_text(cell) for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", text.split("changes-caption")[-1], re.S)
    ][1:]
    assert rows == [
        ["Who uses the service", "Changed", "(none)", "Drivers"],
        ["Baseline period", "Changed", "(none)", "1 January 2024 to 31 December 2024"],
        [
            "Text module “About this data”",
            "Changed",
            "Description: (none)",
            "Description: Where it comes from",
        ],
        ["Text module “Notes”", "Added", "", "Kind: Text; Title: Notes; Text: New"],
    ]
    response = editor.get(f"{EDITOR}/compare?older=1&newer=7")
    assert field_error(response, "newer") == "Choose a version from the list"


# assessments


def test_recording_an_assessment(admin, world):
    response = admin.post("/manage/services/road-tax/assessments/new", {})
    assert summary_errors(response) == [
        "Choose the phase assessed",
        "Enter the date of the assessment",
        "Choose the outcome",
    ]
    response = admin.post(
        "/manage/services/road-tax/assessments/new",
        {"phase": "live", "assessed_on": "2099-01-01", "outcome": "met"},
    )
    assert (
        field_error(response, "assessed_on") == "The assessment date must be today or in the past"
    )
    response = admin.post(
        "/manage/services/road-tax/assessments/new",
        {"phase": "live", "assessed_on": "2025-02-03", "outcome": "met", "notes": "Well done"},
    )
    taken = AssessmentSnapshot.objects.get()
    assert response["Location"] == f"/manage/assessments/{taken.pk}"
    assert follow_banner(admin, response).startswith("The live assessment is recorded")
    assert "Live, 3 February 2025" in page(admin.get("/manage/services/road-tax/assessments"))


def test_an_editor_writes_how_the_service_evolved(editor, admin, world):
    from perfplat.publishing.assessments import record_assessment

    taken = record_assessment(
        None, world.service, phase="beta", assessed_on="2024-06-03", outcome="met"
    )
    text = page(editor.get(f"/manage/assessments/{taken.pk}"))
    assert "The team has not written this yet." in text
    assert "Record an assessment" not in page(editor.get("/manage/services/road-tax/assessments"))
    response = editor.post(
        f"/manage/assessments/{taken.pk}/evolution", {"evolution": "Online first"}
    )
    assert follow_banner(editor, response) == "How the service has evolved is saved"
    taken.refresh_from_db()
    assert taken.evolution == "Online first"


def test_an_editor_writes_the_note_for_the_coming_assessment(editor, world):
    from perfplat.publishing.assessments import record_assessment

    record_assessment(None, world.service, phase="beta", assessed_on="2024-06-03", outcome="met")
    listing = page(editor.get("/manage/services/road-tax/assessments"))
    assert (
        "How the service has evolved since the beta assessment of 3 June 2024: not written yet."
        in _text(listing)
    )
    assert 'href="/manage/services/road-tax/evolution"' in listing
    form = page(editor.get("/manage/services/road-tax/evolution"))
    assert "say how the service has changed since the beta assessment of 3 June 2024" in form
    response = editor.post("/manage/services/road-tax/evolution", {"evolution": "Online first"})
    assert follow_banner(editor, response) == (
        "How the service has evolved is saved for the coming assessment"
    )
    listing = _text(page(editor.get("/manage/services/road-tax/assessments")))
    assert "since the beta assessment of 3 June 2024: written by dft-editor@example.gov.uk" in (
        listing
    )
    assert "Online first" in listing


def test_a_service_before_its_first_assessment_is_told_why_it_writes_no_note(editor, world):
    from perfplat.registry.services import update_service

    update_service(None, world.service, phase="alpha")
    html = page(editor.get("/manage/services/road-tax/evolution"))
    assert (
        "The alpha assessment is the service's first: there is no earlier assessment to say "
        "how it has evolved since." in _text(html)
    )
    assert "<textarea" not in html
    response = editor.post("/manage/services/road-tax/evolution", {"evolution": "Too early"})
    assert summary_errors(response) == [
        "The alpha assessment is the service's first: there is no earlier assessment to say "
        "how it has evolved since"
    ]


# readiness


def test_the_readiness_report_page_and_its_printable_twin(editor, world):
    response = editor.get("/manage/services/road-tax/readiness")
    text = page(response)
    assert "Service Standard readiness" in text
    assert "1 of the 11 things the standard asks at this phase (1 more does not apply)" in text
    assert text.count('govuk-tag--green">Met</strong>') == 1
    assert text.count("Not met</strong>") == 10
    assert text.count('govuk-tag--grey">Not applicable</strong>') == 1
    printable = page(editor.get("/manage/services/road-tax/readiness/print"))
    assert "Check the metrics" not in printable
    assert "app-print-links" in printable and "publishing/publishing.css" in printable


def test_checking_the_metrics_from_the_report(editor, world):
    catalogue(world.service, kpi_data_sets(world.service, types=("cost",)))
    response = editor.post("/manage/services/road-tax/readiness/check-metrics")
    assert follow_banner(editor, response) == "Metrics checked: the platform supports 1 of 1"
    assert Metric.objects.get().support == "supported"


def test_the_organisation_overview(admin, world):
    response = admin.get("/manage/organisations/transport/readiness")
    rows = re.findall(r'<th scope="row"[^>]*>(.*?)</th>', page(response), re.S)
    assert [_text(r) for r in rows] == [
        "Renew your licence readiness report",
        "Tax your vehicle readiness report",
    ]


def test_links_to_the_new_pages(editor, world, draft):
    text = page(editor.get(EDITOR))
    for href in (
        f"{EDITOR}/versions",
        "/manage/services/road-tax/assessments",
        "/manage/services/road-tax/readiness",
    ):
        assert f'href="{href}"' in text
    assert DashboardVersion.objects.count() == 1


# the live preview, and the public page's "How this service has changed"


def _main(response) -> str:
    """The page's <main> (spaces collapsed), without the preview's banner."""
    text = page(response)
    main = text[text.index("<main") : text.index("</main>")]
    main = re.sub(r'<div class="govuk-notification-banner".*?\n</div>\n', "", main, flags=re.S)
    return re.sub(r"\s+", " ", main)


def test_the_preview_is_exactly_the_public_page_once_published(editor, world, client):
    data_sets = kpi_data_sets(world.service, published=False)
    send_month(data_sets, "2025-01-01")
    version = dashboards.start_draft(world.editor, world.service)
    content = {
        **version.content,
        "audience": "Drivers",
        "baseline": "2024-01-01/2024-12-31",
        "modules": [
            {"kind": "kpis", "title": "Key performance indicators"},
            {
                "kind": "time-series",
                "title": "Completed journeys",
                "data_set": "road-tax/completion",
                "query": "period=month&collect=completed:sum&duration=3",
                "value": "completed:sum",
            },
            {"kind": "text", "title": "Notes", "text": "Our notes"},
        ],
    }
    dashboards.save_draft(world.editor, version, content)
    preview = editor.get(f"{EDITOR}/preview")
    assert preview.status_code == 200
    assert preview["Cache-Control"] == "private, no-store"
    text = page(preview)
    assert "<title>Preview: Tax your vehicle - Performance Platform</title>" in text
    assert "This is version 1 (draft) as the public will see it once it is published." in text
    assert "1 January 2024 to 31 December 2024" in text
    # The unpublished data is shown as it will be once publishing publishes it.
    assert "This data is not published." not in text
    assert "<svg" in text
    assert client.get("/services/road-tax").status_code == 404

    dashboards.submit(world.editor, version)
    dashboards.publish(world.org_admin, version)
    public = as_user(world.editor).get("/services/road-tax")
    assert _main(public) == _main(editor.get(f"{EDITOR}/preview"))


def test_a_previous_version_can_be_previewed(editor, world):
    first = dashboards.publish_directly(world.service)
    draft = dashboards.start_draft(world.editor, world.service)
    dashboards.save_draft(world.editor, draft, {**first.content, "audience": "A new audience"})
    assert "A new audience" in page(editor.get(f"{EDITOR}/preview"))
    old = page(editor.get(f"{EDITOR}/preview?version=1"))
    assert "A new audience" not in old and "It is the published version." in old
    assert editor.get(f"{EDITOR}/preview?version=9").status_code == 404


def test_the_public_page_shows_how_the_service_has_changed(world, client):
    from perfplat.publishing.assessments import record_assessment, update_evolution

    send_month(kpi_data_sets(world.service), "2025-01-01")
    dashboards.publish_directly(world.service)
    assert "How this service has changed" not in page(client.get("/services/road-tax"))
    taken = record_assessment(
        None, world.service, phase="beta", assessed_on="2025-02-03", outcome="met"
    )
    update_evolution(None, taken, "Online first")
    text = page(client.get("/services/road-tax"))
    section = text[text.index("How this service has changed") :]
    assert "Beta assessment, 3 February 2025 (January 2025)" in section
    assert "Now (January 2025)" in section
    assert "£4.00" in section and "Online first" in section


def test_editing_after_unpublishing_starts_from_the_unpublished_version(editor, admin, world):
    dashboards.publish_directly(world.service)
    admin.post(f"{EDITOR}/unpublish")
    text = page(editor.get(EDITOR))
    assert "Version 1 was unpublished. Editing makes a new draft from it." in text
    editor.post(f"{EDITOR}/start")
    assert dashboards.working_version(world.service).number == 2
