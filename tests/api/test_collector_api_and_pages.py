"""Collectors through the management API (/api/data-sets/<id>/collectors) and the management
pages (/manage/data-sets/<id>/collectors/), with Django's test client."""

import orjson
import pytest
from django.test import Client

from collector_fixtures import GOOD_CSV
from helpers import body
from perfplat.collectors.models import Collector, CollectorRun
from perfplat.datasets.models import Record

pytestmark = pytest.mark.usefixtures("collecting")


@pytest.fixture
def editor(client, world):
    client.force_login(world.editor)
    return client


def send(client, method, path, payload=None):
    data = b"" if payload is None else orjson.dumps(payload)
    return client.generic(method, path, data, content_type="application/json")


# the API


def test_a_collector_is_created_run_and_read_through_the_api(editor, typed, source):
    url = source.answer(body=GOOD_CSV)
    base = f"/api/data-sets/{typed.pk}/collectors"
    response = send(
        editor,
        "POST",
        base,
        {"name": "Export", "url": url, "mapping": {"Transactions": "count"}, "interval": 300},
    )
    assert response.status_code == 201
    created = body(response)
    collector_id = created.pop("id")
    assert created.pop("created_at")
    assert created.pop("next_run_at")
    assert created == {
        "data_set_id": typed.pk,
        "data_set": "road-tax/transactions-by-channel",
        "name": "Export",
        "url": url,
        "format": "csv",
        "sheet": "",
        "mapping": {"Transactions": "count"},
        "interval": 300,
        "paused": False,
        "status": "not run yet",
        "failure_count": 0,
        "failing_since": None,
        "last_run_at": None,
        "last_success_at": None,
        "retry_attempts": 0,
    }
    dry = body(send(editor, "POST", f"{base}/{collector_id}/dry-run"))
    assert (dry["trigger"], dry["outcome"], dry["dry_run"], dry["records"]) == (
        "dry-run",
        "succeeded",
        True,
        3,
    )
    assert dry["preview"][0]["count"] == 120
    assert not Record.objects.filter(data_set=typed).exists()
    run = body(send(editor, "POST", f"{base}/{collector_id}/run"))
    assert (run["trigger"], run["outcome"], run["rows"], run["records"], run["errors"]) == (
        "manual",
        "succeeded",
        3,
        3,
        [],
    )
    assert Record.objects.filter(data_set=typed).count() == 3
    runs = body(editor.get(f"{base}/{collector_id}/runs"))
    assert [(r["trigger"], r["outcome"]) for r in runs] == [
        ("manual", "succeeded"),
        ("dry-run", "succeeded"),
    ]
    assert body(editor.get(base))[0]["status"] == "working"


def test_bad_data_is_reported_row_by_row_through_the_api(editor, typed, source):
    url = source.answer(
        body=b"Week starting,Period,Channel,Transactions\r\n2024-01-01,week,web,x\r\n"
    )
    collector = body(
        send(
            editor,
            "POST",
            f"/api/data-sets/{typed.pk}/collectors",
            {"name": "E", "url": url, "mapping": {"Transactions": "count"}},
        )
    )
    run = body(send(editor, "POST", f"/api/data-sets/{typed.pk}/collectors/{collector['id']}/run"))
    assert run["errors"] == [
        {
            "row": 2,
            "column": "Transactions",
            "value": "x",
            "problem": "'x' is not a whole number",
        }
    ]
    assert run["error"] == (
        "The data has problems, so nothing was written: row 2, column 'Transactions': 'x' is "
        "not a whole number"
    )


def test_pausing_and_resuming_through_the_api(editor, typed, source):
    collector = body(
        send(
            editor,
            "POST",
            f"/api/data-sets/{typed.pk}/collectors",
            {"name": "E", "url": source.url()},
        )
    )
    path = f"/api/data-sets/{typed.pk}/collectors/{collector['id']}"
    paused = body(send(editor, "PATCH", path, {"paused": True}))
    assert (paused["paused"], paused["status"], paused["next_run_at"]) == (True, "paused", None)
    resumed = body(send(editor, "PATCH", path, {"paused": False, "interval": 60}))
    assert (resumed["paused"], resumed["interval"], resumed["status"]) == (False, 60, "not run yet")


def test_bad_settings_are_a_400_naming_the_problem(editor, typed):
    response = send(
        editor,
        "POST",
        f"/api/data-sets/{typed.pk}/collectors",
        {"name": "E", "url": "ftp://example.org/x.csv"},
    )
    assert (response.status_code, body(response)) == (
        400,
        {"status": "error", "message": "The URL must start with http:// or https://"},
    )
    missing = send(editor, "POST", f"/api/data-sets/{typed.pk}/collectors", {"name": "E"})
    assert missing.status_code == 400
    assert body(missing)["message"] == "url: Field required"


def test_a_private_address_is_refused_through_the_api(editor, typed, settings):
    settings.PERFPLAT_COLLECTORS_ALLOW_PRIVATE = False
    response = send(
        editor,
        "POST",
        f"/api/data-sets/{typed.pk}/collectors",
        {"name": "E", "url": "http://192.168.0.10/export.csv"},
    )
    assert (response.status_code, body(response)["message"]) == (
        400,
        "192.168.0.10 is a private or local address: collectors only fetch from addresses on "
        "the public internet",
    )


def test_a_collector_of_another_data_set_is_404(editor, typed, world, source):
    from perfplat.collectors.services import create_collector

    other = create_collector(None, world.data_set, name="E", url=source.url())
    response = editor.get(f"/api/data-sets/{typed.pk}/collectors/{other.pk}")
    assert response.status_code == 404
    assert body(response)["message"] == f"No collector {other.pk} of data set {typed.pk}"


def test_another_organisation_is_refused(client, typed, world):
    client.force_login(world.other_editor)
    assert client.get(f"/api/data-sets/{typed.pk}/collectors").status_code == 403


def test_deleting_through_the_api(editor, typed, source):
    collector = body(
        send(
            editor,
            "POST",
            f"/api/data-sets/{typed.pk}/collectors",
            {"name": "E", "url": source.url()},
        )
    )
    response = send(editor, "DELETE", f"/api/data-sets/{typed.pk}/collectors/{collector['id']}")
    assert body(response) == {"status": "ok", "message": "Deleted the collector E"}
    assert not Collector.objects.exists()


def test_a_run_now_while_another_run_holds_the_lease_is_409(editor, typed, source):
    from datetime import UTC, datetime

    from perfplat.collectors import scheduler
    from perfplat.collectors.services import create_collector

    collector = create_collector(None, typed, name="E", url=source.answer(body=GOOD_CSV))
    scheduler.acquire_lease(collector.job.pk, datetime.now(UTC))
    response = send(editor, "POST", f"/api/data-sets/{typed.pk}/collectors/{collector.pk}/run")
    assert response.status_code == 409


# the pages


def test_a_collector_is_added_run_and_its_history_shown_on_the_pages(editor, typed, source):
    url = source.answer(body=GOOD_CSV)
    base = f"/manage/data-sets/{typed.pk}/collectors/"
    listing = editor.get(base).content.decode()
    assert "This data set has no collectors yet." in listing
    form = editor.get(base + "new").content.decode()
    assert "Add a collector" in form and 'name="csrfmiddlewaretoken"' in form
    response = editor.post(
        base + "new",
        {
            "name": "Weekly export",
            "url": url,
            "format": "csv",
            "interval": "3600",
            "mapping": "Transactions = count\nNotes =",
        },
    )
    collector = Collector.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"{base}{collector.pk}"
    assert collector.mapping == {"Transactions": "count", "Notes": ""}
    detail = editor.get(response["Location"]).content.decode()
    assert "Collector “Weekly export” added: it runs in a moment" in detail
    assert "The collector has not run yet." in detail

    ran = editor.post(f"{base}{collector.pk}/run")
    run = CollectorRun.objects.get()
    assert ran["Location"] == f"{base}{collector.pk}/runs/{run.pk}"
    run_page = editor.get(ran["Location"]).content.decode()
    assert "Collected 3 records" in run_page
    assert "Records written" in run_page
    history = editor.get(f"{base}{collector.pk}").content.decode()
    assert "Run history" in history
    assert "Run now</td>" in history and "Succeeded</strong>" in history
    assert Record.objects.filter(data_set=typed).count() == 3


def test_a_failed_run_shows_its_error_and_its_rows(editor, typed, source):
    from perfplat.collectors.services import create_collector

    bad = b"Week starting,Period,Channel,Transactions\r\n2024-01-01,week,web,x\r\n"
    collector = create_collector(
        None, typed, name="E", url=source.answer(body=bad), mapping={"Transactions": "count"}
    )
    response = editor.post(f"/manage/data-sets/{typed.pk}/collectors/{collector.pk}/run")
    page = editor.get(response["Location"]).content.decode()
    assert "The run failed: nothing was written" in page
    assert "&#x27;x&#x27; is not a whole number" in page
    assert "Problems in the data" in page


def test_a_dry_run_page_shows_the_records_that_would_be_written(editor, typed, source):
    from perfplat.collectors.services import create_collector

    collector = create_collector(
        None, typed, name="E", url=source.answer(body=GOOD_CSV), mapping={"Transactions": "count"}
    )
    response = editor.post(f"/manage/data-sets/{typed.pk}/collectors/{collector.pk}/dry-run")
    page = editor.get(response["Location"]).content.decode()
    assert "This was a dry run: nothing was written." in page
    assert "Records that would be written" in page
    assert "2024-01-08T00:00:00+00:00" in page
    assert not Record.objects.filter(data_set=typed).exists()


def test_the_form_shows_each_problem_beside_its_field(editor, typed):
    response = editor.post(
        f"/manage/data-sets/{typed.pk}/collectors/new",
        {"name": "E", "url": "ftp://x", "format": "csv", "interval": "3600", "mapping": "oops"},
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "There is a problem" in page
    assert "Line 1: write the column&#x27;s heading, =, then the field" in page
    response = editor.post(
        f"/manage/data-sets/{typed.pk}/collectors/new",
        {"name": "E", "url": "ftp://x", "format": "csv", "interval": "3600"},
    )
    assert '<a href="#id_url">The URL must start with http:// or https://</a>' in (
        response.content.decode()
    )
    assert not Collector.objects.exists()


def test_pausing_resuming_editing_and_deleting_on_the_pages(editor, typed, source):
    from perfplat.collectors.services import create_collector

    collector = create_collector(None, typed, name="E", url=source.url())
    base = f"/manage/data-sets/{typed.pk}/collectors/{collector.pk}"
    editor.post(f"{base}/pause")
    collector.refresh_from_db()
    assert (collector.paused, collector.job.enabled) == (True, False)
    assert "Resume</button>" in editor.get(base).content.decode()
    editor.post(f"{base}/resume")
    collector.refresh_from_db()
    assert collector.paused is False
    edit = editor.get(f"{base}/edit").content.decode()
    assert 'value="E"' in edit
    editor.post(
        f"{base}/edit",
        {"name": "Renamed", "url": source.url(), "format": "json", "interval": "60", "mapping": ""},
    )
    collector.refresh_from_db()
    assert (collector.name, collector.format, collector.interval) == ("Renamed", "json", 60)
    assert "Delete the collector Renamed?" in editor.get(f"{base}/delete").content.decode()
    response = editor.post(f"{base}/delete")
    assert response["Location"] == f"/manage/data-sets/{typed.pk}/collectors/"
    assert not Collector.objects.exists()


def test_actions_are_posts_with_a_csrf_token(typed, world, source):
    from perfplat.collectors.services import create_collector

    collector = create_collector(None, typed, name="E", url=source.url())
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.editor)
    response = client.post(f"/manage/data-sets/{typed.pk}/collectors/{collector.pk}/run")
    assert response.status_code == 403
    assert source.requests == []
    assert (
        client.get(f"/manage/data-sets/{typed.pk}/collectors/{collector.pk}/run").status_code == 405
    )


def test_the_data_set_page_links_to_its_collectors(editor, typed, source):
    from perfplat.collectors.services import create_collector

    create_collector(None, typed, name="E", url=source.url())
    page = editor.get(f"/manage/data-sets/{typed.pk}").content.decode()
    assert f'href="/manage/data-sets/{typed.pk}/collectors/">Collectors (1)</a>' in page
