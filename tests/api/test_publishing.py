"""The publishing API (/api/services/<service>/dashboard..., /api/.../assessments,
/api/.../readiness), and that nothing of a draft reaches the public: the public pages and their
JSON twins, the read API of unpublished data sets, the KPI API."""

import pytest

from helpers import body
from perfplat.dashboards.models import DashboardVersion
from perfplat.datasets.services import DataSetSettings, create_data_set
from publishing_fixtures import fixed_now, kpi_data_sets, send_month

pytestmark = pytest.mark.usefixtures(fixed_now.__name__)

DRAFT = "/api/services/road-tax/dashboard/draft"
SECRET = "A sentence only the draft has"


def content(**changes) -> dict:
    return {
        "audience": "Drivers",
        "usage": "The team plans with it",
        "baseline": "2024-01-01/2024-12-31",
        "modules": [
            {"kind": "kpis", "title": "Key performance indicators"},
            {
                "kind": "time-series",
                "title": "Transactions per week",
                "data_set": "road-tax/transactions",
                "query": "period=week&collect=count:sum&duration=12",
                "value": "count:sum",
            },
        ],
        **changes,
    }


@pytest.fixture
def editor(api, world):
    token = world.token(world.editor)
    return lambda method, path, payload=None: api.send(method, path, payload, token=token)


@pytest.fixture
def admin(api, world):
    token = world.token(world.org_admin)
    return lambda method, path, payload=None: api.send(method, path, payload, token=token)


# the draft


def test_there_is_no_draft_until_one_is_put(editor):
    response = editor("GET", DRAFT)
    assert (response.status_code, body(response)) == (
        404,
        {"status": "error", "message": "The dashboard of road-tax has no draft"},
    )


def test_putting_content_starts_and_saves_a_draft(editor, world):
    response = editor("PUT", DRAFT, content())
    assert response.status_code == 200
    version = body(response)
    assert (version["number"], version["state"], version["created_by"]) == (
        1,
        "draft",
        "dft-editor@example.gov.uk",
    )
    assert version["content"] == {
        **content(),
        "modules": [
            {"kind": "kpis", "title": "Key performance indicators", "description": ""},
            {
                "kind": "time-series",
                "title": "Transactions per week",
                "description": "",
                "data_set": "road-tax/transactions",
                "query": "period=week&collect=count:sum&duration=12",
                "value": "count:sum",
            },
        ],
    }
    assert body(editor("GET", DRAFT))["content"] == version["content"]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"colour": "red"}, "Unknown keys: colour"),
        (
            {"baseline": "last year"},
            "baseline: give the period as two dates like "
            "2024-04-01/2025-03-31 (the first and last day)",
        ),
        (
            {"modules": [{"kind": "chart", "title": "X"}]},
            "modules[0].kind must be one of kpis, time-series, grouped-time-series, "
            "completion-funnel, satisfaction, table, text",
        ),
        (
            {
                "modules": [
                    {
                        "kind": "table",
                        "title": "X",
                        "data_set": "road-tax/transactions",
                        "query": "collect=count:sum",
                    }
                ]
            },
            "modules[0].query: collect needs group_by or period",
        ),
        (
            {
                "modules": [
                    {"kind": "text", "title": "X", "text": "ok"},
                    {"kind": "text", "title": "", "text": "Y"},
                ]
            },
            "modules[1].title: enter a title",
        ),
    ],
)
def test_a_wrong_draft_names_the_module_and_field(editor, changes, message):
    response = editor("PUT", DRAFT, content(**changes))
    assert (response.status_code, body(response)["message"]) == (400, message)
    # Nothing is written: not even the draft the document was for.
    assert not DashboardVersion.objects.exists()


def test_a_draft_in_review_cannot_be_changed(editor, world):
    editor("PUT", DRAFT, content())
    assert editor("POST", "/api/services/road-tax/dashboard/submit").status_code == 200
    response = editor("PUT", DRAFT, content(audience="Everyone"))
    assert (response.status_code, body(response)["message"]) == (
        409,
        "Version 1 is in review: only a draft can be edited",
    )


# the workflow


def test_the_whole_cycle_through_the_api(editor, admin, world):
    base = "/api/services/road-tax/dashboard"
    editor("PUT", DRAFT, content())
    assert body(editor("POST", f"{base}/submit"))["state"] == "in-review"
    sent_back = body(admin("POST", f"{base}/send-back", {"comment": "Add the costs"}))
    assert (sent_back["state"], sent_back["review_comment"], sent_back["reviewed_by"]) == (
        "draft",
        "Add the costs",
        "dft-admin@example.gov.uk",
    )
    assert body(editor("GET", DRAFT))["review_comment"] == "Add the costs"
    editor("PUT", DRAFT, content(usage="Weekly"))
    editor("POST", f"{base}/submit")
    published = body(admin("POST", f"{base}/publish"))
    assert (published["state"], published["number"]) == ("published", 1)
    assert published["published_at"] is not None
    state = body(admin("GET", base))
    assert (state["working"], state["published"]["number"]) == (None, 1)
    unpublished = body(admin("POST", f"{base}/unpublish"))
    assert unpublished["state"] == "unpublished"
    assert [v["state"] for v in body(editor("GET", f"{base}/versions"))] == ["unpublished"]


@pytest.mark.parametrize(
    ("path", "payload", "message"),
    [
        ("submit", None, "There is no draft of the dashboard: PUT its content to start one"),
        ("publish", None, "There is no draft of the dashboard: PUT its content to start one"),
        ("unpublish", None, "The dashboard is not published"),
    ],
)
def test_transitions_without_a_version_are_conflicts(admin, path, payload, message):
    response = admin("POST", f"/api/services/road-tax/dashboard/{path}", payload)
    assert (response.status_code, body(response)["message"]) == (409, message)


def test_publishing_a_draft_not_in_review_is_a_conflict(editor, admin):
    editor("PUT", DRAFT, content())
    response = admin("POST", "/api/services/road-tax/dashboard/publish")
    assert (response.status_code, body(response)["message"]) == (
        409,
        "Only a version in review can be published",
    )


def test_sending_back_needs_a_comment(editor, admin):
    editor("PUT", DRAFT, content())
    editor("POST", "/api/services/road-tax/dashboard/submit")
    response = admin("POST", "/api/services/road-tax/dashboard/send-back", {"comment": " "})
    assert (response.status_code, body(response)["message"]) == (400, "Say what needs to change")


def test_an_editor_cannot_publish(editor):
    editor("PUT", DRAFT, content())
    editor("POST", "/api/services/road-tax/dashboard/submit")
    response = editor("POST", "/api/services/road-tax/dashboard/publish")
    assert (response.status_code, body(response)["message"]) == (
        403,
        "You do not have permission to do this (service.publish)",
    )


def test_versions_and_their_comparison(editor, admin):
    base = "/api/services/road-tax/dashboard"
    editor("PUT", DRAFT, content())
    editor("POST", f"{base}/submit")
    admin("POST", f"{base}/publish")
    modules = content()["modules"][::-1] + [{"kind": "text", "title": "Notes", "text": "Hi"}]
    editor("PUT", DRAFT, content(audience="Everyone", modules=modules))
    versions = body(editor("GET", f"{base}/versions"))
    assert [(v["number"], v["state"]) for v in versions] == [(2, "draft"), (1, "published")]
    assert body(editor("GET", f"{base}/versions/1"))["content"]["audience"] == "Drivers"
    comparison = body(editor("GET", f"{base}/compare?older=1&newer=2"))
    assert [(c["what"], c["change"], c["before"], c["after"]) for c in comparison["changes"]] == [
        ("audience", "changed", "Drivers", "Everyone"),
        ("Time series module “Transactions per week”", "moved", 2, 1),
        ("KPI tiles module “Key performance indicators”", "moved", 1, 2),
        (
            "Text module “Notes”",
            "added",
            None,
            {"kind": "text", "title": "Notes", "description": "", "text": "Hi"},
        ),
    ]
    response = editor("GET", f"{base}/compare?older=1&newer=9")
    assert (response.status_code, body(response)["message"]) == (
        404,
        "The dashboard of road-tax has no version 9",
    )
    response = editor("GET", f"{base}/compare")
    assert (response.status_code, body(response)["message"]) == (
        400,
        "Give the two versions to compare: ?older=1&newer=2",
    )


# assessments and readiness


def test_recording_an_assessment_and_writing_the_evolution(admin, editor, world):
    response = admin(
        "POST",
        "/api/services/road-tax/assessments",
        {"phase": "beta", "assessed_on": "2025-02-03", "outcome": "not-met", "notes": "More data"},
    )
    assert response.status_code == 201
    taken = body(response)
    assert (taken["service"], taken["phase"], taken["outcome"], taken["recorded_by"]) == (
        "road-tax",
        "beta",
        "not-met",
        "dft-admin@example.gov.uk",
    )
    assert taken["kpis"]["start_at"] == "2025-01-01T00:00:00+00:00"
    patched = body(editor("PATCH", f"/api/assessments/{taken['id']}", {"evolution": "Faster"}))
    assert patched["evolution"] == "Faster"
    listed = body(editor("GET", "/api/services/road-tax/assessments"))
    assert [(s["id"], s["evolution"]) for s in listed] == [(taken["id"], "Faster")]


def test_an_editor_cannot_record_an_assessment(editor):
    response = editor(
        "POST",
        "/api/services/road-tax/assessments",
        {"phase": "beta", "assessed_on": "2025-02-03", "outcome": "met"},
    )
    assert response.status_code == 403


@pytest.mark.parametrize("day", ["0001-01-01", "0002-02-28", "0003-12-31"])
def test_an_assessment_in_the_first_years_of_the_calendar_is_refused(admin, day):
    response = admin(
        "POST",
        "/api/services/road-tax/assessments",
        {"phase": "beta", "assessed_on": day, "outcome": "met"},
    )
    assert (response.status_code, body(response)["message"]) == (
        400,
        "The assessment date must be 1 January 2000 or later",
    )


def test_a_future_assessment_is_refused(admin):
    response = admin(
        "POST",
        "/api/services/road-tax/assessments",
        {"phase": "beta", "assessed_on": "2099-01-01", "outcome": "met"},
    )
    assert (response.status_code, body(response)["message"]) == (
        400,
        "The assessment date must be today or in the past",
    )


def test_the_evolution_note_for_the_coming_assessment(admin, editor, world):
    empty = body(editor("GET", "/api/services/road-tax/evolution"))
    assert empty == {
        "service": "road-tax",
        "evolution": "",
        "since": None,
        "writable": True,
        "refusal": None,
        "updated_at": None,
        "updated_by": None,
    }
    admin(
        "POST",
        "/api/services/road-tax/assessments",
        {"phase": "beta", "assessed_on": "2024-06-03", "outcome": "met"},
    )
    written = body(editor("PUT", "/api/services/road-tax/evolution", {"evolution": "Faster"}))
    assert (written["evolution"], written["since"], written["updated_by"]) == (
        "Faster",
        "the beta assessment of 3 June 2024",
        "dft-editor@example.gov.uk",
    )
    assert body(editor("GET", "/api/services/road-tax/evolution"))["evolution"] == "Faster"
    taken = body(
        admin(
            "POST",
            "/api/services/road-tax/assessments",
            {"phase": "live", "assessed_on": "2025-02-03", "outcome": "met"},
        )
    )
    assert taken["evolution"] == "Faster"
    assert body(editor("GET", "/api/services/road-tax/evolution"))["evolution"] == ""


def test_the_evolution_note_is_refused_before_the_first_assessment(editor, world):
    from perfplat.registry.services import update_service

    update_service(None, world.service, phase="alpha")
    refusal = (
        "The alpha assessment is the service's first: there is no earlier assessment to say how "
        "it has evolved since"
    )
    note = body(editor("GET", "/api/services/road-tax/evolution"))
    assert (note["writable"], note["refusal"]) == (False, refusal)
    response = editor("PUT", "/api/services/road-tax/evolution", {"evolution": "Too early"})
    assert (response.status_code, body(response)) == (
        400,
        {"status": "error", "message": refusal},
    )


def test_the_readiness_report(editor, world):
    report = body(editor("GET", "/api/services/road-tax/readiness"))
    assert (report["service"]["phase"], report["ready"], report["required"]) == ("live", False, 11)
    assert (report["status"], report["met"], report["not_applicable"]) == ("not ready", 1, 1)
    assert report["items"][0]["status"] == "met"
    assert report["items"][0]["evidence"][0]["href"] == "/manage/services/road-tax"
    overview = body(editor("GET", "/api/organisations/transport/readiness"))
    assert [r["service"]["slug"] for r in overview] == ["road-tax"]


# nothing of a draft is public


@pytest.fixture
def draft_only(world, editor):
    """road-tax with a draft (never published) that shows an unpublished data set."""
    hidden, _ = create_data_set(
        None, "completion", service=world.service, settings=DataSetSettings(published=False)
    )
    data_sets = kpi_data_sets(world.service, types=("transactions-by-channel", "cost"))
    send_month(data_sets)
    modules = content()["modules"] + [
        {"kind": "text", "title": "Secret", "text": SECRET},
        {
            "kind": "table",
            "title": "Completion",
            "data_set": "road-tax/completion",
            "query": "period=month&collect=started:sum",
        },
    ]
    assert editor("PUT", DRAFT, content(modules=modules)).status_code == 200
    return hidden


def test_a_service_with_only_a_draft_is_not_public(client, draft_only, world):
    for path in ("/services/road-tax", "/services/road-tax.json", "/api/services/road-tax/kpis"):
        assert client.get(path).status_code == 404, path
    assert client.get("/data/road-tax/completion?period=month").status_code == 404
    listing = client.get("/services.json")
    assert "road-tax" not in listing.content.decode()
    government = client.get("/api/kpis")
    assert "road-tax" not in government.content.decode()
    organisation = client.get("/api/organisations/transport/kpis")
    assert organisation.status_code == 404


def test_a_draft_in_review_is_not_public_either(client, draft_only, editor):
    editor("POST", "/api/services/road-tax/dashboard/submit")
    assert client.get("/services/road-tax").status_code == 404
    assert client.get("/data/road-tax/completion?period=month").status_code == 404


def test_while_a_new_draft_is_edited_the_public_sees_the_published_version(
    client, world, editor, admin
):
    editor("PUT", DRAFT, content())
    editor("POST", "/api/services/road-tax/dashboard/submit")
    admin("POST", "/api/services/road-tax/dashboard/publish")
    hidden, _ = create_data_set(
        None, "completion", service=world.service, settings=DataSetSettings(published=False)
    )
    modules = content()["modules"] + [
        {"kind": "text", "title": "Secret", "text": SECRET},
        {
            "kind": "table",
            "title": "Completion",
            "data_set": "road-tax/completion",
            "query": "period=month&collect=started:sum",
        },
    ]
    editor("PUT", DRAFT, content(audience="A draft audience", modules=modules))
    editor("POST", "/api/services/road-tax/dashboard/submit")
    for path in ("/services/road-tax", "/services/road-tax.json"):
        response = client.get(path)
        assert response.status_code == 200
        text = response.content.decode()
        assert SECRET not in text and "A draft audience" not in text and "Drivers" in text
        assert "road-tax/completion" not in text
    assert client.get("/services/road-tax/modules/3.json").status_code == 404
    assert client.get("/data/road-tax/completion?period=month").status_code == 404
    # Publishing the new version makes it, and the data sets it shows, public.
    admin("POST", "/api/services/road-tax/dashboard/publish")
    assert SECRET in client.get("/services/road-tax").content.decode()
    assert client.get("/data/road-tax/completion?period=month").status_code == 200


# what publishing makes public


def test_publishing_publishes_the_data_sets_behind_the_kpi_tiles(client, world, editor, admin):
    # The four KPI data sets are unpublished and no module shows them.
    data_sets = kpi_data_sets(world.service, published=False)
    send_month(data_sets)
    editor("PUT", DRAFT, content())
    editor("POST", "/api/services/road-tax/dashboard/submit")
    admin("POST", "/api/services/road-tax/dashboard/publish")
    kpis = body(client.get("/api/services/road-tax/kpis"))["periods"][-1]["kpis"]
    assert kpis["cost_per_transaction"]["value"] == 4.0
    assert kpis["completion_rate"]["value"] == 0.75
    assert client.get("/data/road-tax/cost?period=month").status_code == 200


def test_unpublishing_leaves_the_data_sets_public_unless_asked(client, world, editor, admin):
    editor("PUT", DRAFT, content())
    editor("POST", "/api/services/road-tax/dashboard/submit")
    admin("POST", "/api/services/road-tax/dashboard/publish")
    response = admin("POST", "/api/services/road-tax/dashboard/unpublish")
    assert body(response)["state"] == "unpublished"
    assert client.get("/data/road-tax/transactions?period=month").status_code == 200

    editor("PUT", DRAFT, content())
    editor("POST", "/api/services/road-tax/dashboard/submit")
    admin("POST", "/api/services/road-tax/dashboard/publish")
    response = admin("POST", "/api/services/road-tax/dashboard/unpublish?data_sets=true")
    assert body(response)["state"] == "unpublished"
    assert client.get("/data/road-tax/transactions?period=month").status_code == 404
