"""Corrections (SPEC section 13): every path that changes records of a published data set
logs each change with the record before and after, the path, the organisation and the reason;
unpublished data sets, unchanged records and records of a period still under way log none."""

import time

import pytest
from django.test import Client

from helpers import assert_error, body
from perfplat.audit.models import AuditEntry
from perfplat.collectors import services as collectors
from perfplat.datasets import corrections
from perfplat.datasets.models import Correction
from perfplat.datasets.services import DataSetSettings, create_data_set, update_data_set
from perfplat.datasets.writes import WriteSource, write_records
from perfplat.uploads import services as uploads

URL = "/data/road-tax/transactions-by-channel"
WEEK_1 = {"_timestamp": "2024-01-01T00:00:00Z", "period": "week", "channel": "digital"}
WEEK_2 = {"_timestamp": "2024-01-08T00:00:00Z", "period": "week", "channel": "digital"}
# base64 of "2024-01-01T00:00:00+00:00.week.digital": the auto_ids of WEEK_1
WEEK_1_ID = "MjAyNC0wMS0wMVQwMDowMDowMCswMDowMC53ZWVrLmRpZ2l0YWw="
JAN_1, JAN_8, JAN_15 = 1704067200, 1704672000, 1705276800


def stored(record: dict, count: int) -> dict:
    return {
        "_id": WEEK_1_ID if record is WEEK_1 else record.get("_id"),
        "_timestamp": record["_timestamp"].replace("Z", "+00:00"),
        "period": "week",
        "channel": "digital",
        "count": count,
    }


@pytest.fixture
def typed_token(world):
    """road-tax's published transactions by channel with its token, and two weeks written."""
    data_set, token = create_data_set(
        None,
        "transactions-by-channel",
        service=world.service,
        settings=DataSetSettings(standard_type="transactions-by-channel", published=True),
    )
    write_records(data_set, [{**WEEK_1, "count": 120}, {**WEEK_2, "count": 140}], api_source())
    return data_set, token


def api_source(reason=""):
    return WriteSource("api", reason=reason)


def only_correction() -> Correction:
    [correction] = Correction.objects.all()
    return correction


# the write API: POST replacing a record


def test_a_write_that_replaces_a_published_record_with_other_values_is_a_correction(
    api, typed_token, world
):
    data_set, token = typed_token
    response = api.post(URL + "?reason=Counted+twice", {**WEEK_1, "count": 100}, token)
    assert response.status_code == 200, response.content

    correction = only_correction()
    assert (correction.action, correction.path, correction.reason) == (
        "replace",
        "api",
        "Counted twice",
    )
    assert correction.record_id == WEEK_1_ID
    assert correction.before == stored(WEEK_1, 120)
    assert correction.after == stored(WEEK_1, 100)
    # The service's organisation sent it (its token); the week it describes.
    assert correction.organisation == world.department
    assert (correction.starts_at, correction.ends_at) == (JAN_1, JAN_8)
    assert correction.token.data_set == data_set


def test_a_write_without_a_reason_stores_none(api, typed_token):
    _, token = typed_token
    api.post(URL, {**WEEK_1, "count": 100}, token)
    assert only_correction().reason == ""


def test_sending_the_same_values_again_is_no_correction(api, typed_token):
    _, token = typed_token
    api.post(URL, [{**WEEK_1, "count": 120}, {**WEEK_2, "count": 140}], token)
    assert Correction.objects.count() == 0


def test_new_records_are_no_correction(api, typed_token):
    _, token = typed_token
    api.post(URL, {**WEEK_1, "_timestamp": "2024-01-15T00:00:00Z", "count": 1}, token)
    assert Correction.objects.count() == 0


def test_a_write_to_an_unpublished_data_set_is_no_correction(api, typed_token):
    data_set, token = typed_token
    update_data_set(None, data_set, published=False)
    api.post(URL + "?reason=Counted+twice", {**WEEK_1, "count": 100}, token)
    assert Correction.objects.count() == 0


def test_replacing_a_record_of_a_period_still_under_way_is_no_correction(api, typed_token):
    # This week's figures so far are provisional: a collector sends them every few minutes.
    _, token = typed_token
    monday = time.strftime(
        "%Y-%m-%dT00:00:00Z", time.gmtime(time.time() - 86400 * time.gmtime().tm_wday)
    )
    this_week = {"_timestamp": monday, "period": "week", "channel": "digital"}
    api.post(URL, {**this_week, "count": 5}, token)
    api.post(URL, {**this_week, "count": 9}, token)
    assert Correction.objects.count() == 0


def test_a_reason_longer_than_500_characters_is_refused_and_nothing_is_written(api, typed_token):
    data_set, token = typed_token
    response = api.post(URL + "?reason=" + "x" * 501, {**WEEK_1, "count": 100}, token)
    assert_error(response, 400, "reason must be at most 500 characters, not 501")
    assert Correction.objects.count() == 0
    assert data_set.record_set.get(record_id=WEEK_1_ID).data["count"] == 120


def test_a_write_with_an_id_that_replaces_a_record_is_a_correction(api, data_set):
    ds, token = data_set
    api.post("/data/test-service/events", {"_id": "r1", "n": 1}, token)
    api.post("/data/test-service/events", [{"_id": "r1", "n": 2}, {"_id": "r2", "n": 1}], token)
    correction = only_correction()
    assert (correction.record_id, correction.before, correction.after) == (
        "r1",
        {"_id": "r1", "n": 1},
        {"_id": "r1", "n": 2},
    )
    # A record without a time describes no period; a service-less data set, no organisation.
    assert (correction.starts_at, correction.ends_at, correction.organisation) == (None, None, None)


# PATCH and DELETE


def test_patch_with_a_reason(api, typed_token):
    _, token = typed_token
    response = api.send("PATCH", f"{URL}/{WEEK_1_ID}?reason=Late+returns", {"count": 125}, token)
    assert response.status_code == 200, response.content
    correction = only_correction()
    assert (correction.action, correction.path, correction.reason) == (
        "patch",
        "api",
        "Late returns",
    )
    assert (correction.before["count"], correction.after["count"]) == (120, 125)


def test_patch_without_a_reason(api, typed_token):
    _, token = typed_token
    api.send("PATCH", f"{URL}/{WEEK_1_ID}", {"count": 125}, token)
    assert only_correction().reason == ""


def test_patch_that_changes_nothing_is_no_correction(api, typed_token):
    _, token = typed_token
    api.send("PATCH", f"{URL}/{WEEK_1_ID}", {"count": 120}, token)
    assert Correction.objects.count() == 0


def test_patch_of_an_unpublished_data_set_is_no_correction(api, typed_token):
    data_set, token = typed_token
    update_data_set(None, data_set, published=False)
    api.send("PATCH", f"{URL}/{WEEK_1_ID}?reason=Late", {"count": 125}, token)
    assert Correction.objects.count() == 0


def test_delete_with_a_reason(api, typed_token):
    _, token = typed_token
    response = api.send("DELETE", f"{URL}/{WEEK_1_ID}?reason=Test+data", token=token)
    assert response.status_code == 200, response.content
    correction = only_correction()
    assert (correction.action, correction.reason, correction.after) == ("delete", "Test data", None)
    assert correction.before == stored(WEEK_1, 120)


def test_delete_of_an_unpublished_data_set_is_no_correction(api, typed_token):
    data_set, token = typed_token
    update_data_set(None, data_set, published=False)
    api.send("DELETE", f"{URL}/{WEEK_1_ID}", token=token)
    assert Correction.objects.count() == 0


# PUT: emptying


def test_emptying_through_the_write_api_is_one_correction_for_all_records(api, typed_token):
    _, token = typed_token
    response = api.send("PUT", URL + "?reason=Wrong+service", [], token)
    assert body(response)["status"] == "ok"
    correction = only_correction()
    assert (correction.action, correction.path, correction.reason) == (
        "empty",
        "api",
        "Wrong service",
    )
    assert (correction.record_count, correction.record_id) == (2, "")
    # From the first week's start to the second week's end.
    assert (correction.starts_at, correction.ends_at) == (JAN_1, JAN_15)


def test_emptying_an_empty_data_set_is_no_correction(api, typed_token):
    _, token = typed_token
    api.send("PUT", URL, [], token)
    api.send("PUT", URL, [], token)
    assert Correction.objects.count() == 1


def test_emptying_an_unpublished_data_set_is_no_correction(api, typed_token):
    data_set, token = typed_token
    update_data_set(None, data_set, published=False)
    api.send("PUT", URL, [], token)
    assert Correction.objects.count() == 0


# the management pages and API


def test_emptying_on_the_management_page_credits_the_persons_organisation(world, typed_token):
    data_set, _ = typed_token
    client = Client()
    client.force_login(world.org_admin)
    response = client.post(
        f"/manage/data-sets/{data_set.pk}/empty", {"reason": "Sent to the wrong data set"}
    )
    assert response.status_code == 302
    correction = only_correction()
    assert (correction.path, correction.reason, correction.user) == (
        "manage",
        "Sent to the wrong data set",
        world.org_admin,
    )
    assert correction.organisation == world.department


def test_the_management_page_refuses_a_reason_that_is_too_long(world, typed_token):
    data_set, _ = typed_token
    client = Client()
    client.force_login(world.org_admin)
    response = client.post(f"/manage/data-sets/{data_set.pk}/empty", {"reason": "x" * 501})
    assert response.status_code == 200
    assert "The reason must be 500 characters or fewer" in response.content.decode()
    assert data_set.record_set.count() == 2


def test_a_platform_admin_correction_is_credited_to_no_organisation(world, typed_token):
    data_set, _ = typed_token
    client = Client()
    client.force_login(world.platform_admin)
    client.post(f"/api/data-sets/{data_set.pk}/empty?reason=Duplicate")
    correction = only_correction()
    assert (correction.path, correction.reason, correction.organisation) == (
        "manage",
        "Duplicate",
        None,
    )


def test_emptying_through_the_management_api_without_a_body(world, typed_token):
    data_set, _ = typed_token
    client = Client()
    client.force_login(world.editor)
    response = client.post(f"/api/data-sets/{data_set.pk}/empty")
    assert response.status_code == 200, response.content
    assert only_correction().reason == ""


# spreadsheet uploads

CSV = b"_timestamp,period,channel,count\n2024-01-01T00:00:00Z,week,digital,100\n"


def test_an_upload_that_replaces_a_record_is_a_correction_with_its_reason(world, typed_token):
    data_set, _ = typed_token
    upload = uploads.receive(
        data_set,
        CSV,
        "fix.csv",
        actor=world.editor,
        reason="Re-counted",
        commit=True,
        background=False,
    )
    assert upload.status == "committed", upload.failure_message or upload.errors
    correction = only_correction()
    assert (correction.action, correction.path, correction.reason) == (
        "replace",
        "upload",
        "Re-counted",
    )
    assert (correction.before["count"], correction.after["count"]) == (120, 100)
    assert correction.organisation == world.department
    assert correction.user == world.editor


def test_an_upload_in_replace_mode_logs_only_the_records_it_changes_or_removes(world, typed_token):
    data_set, _ = typed_token
    both = CSV.replace(b",100\n", b",120\n") + b"2024-01-15T00:00:00Z,week,digital,9\n"
    uploads.receive(
        data_set, both, "all.csv", actor=world.editor, mode="replace", commit=True, background=False
    )
    # Week 1 unchanged, week 2 gone, week 3 new: one correction.
    correction = only_correction()
    assert (correction.action, correction.path, correction.before["count"], correction.after) == (
        "delete",
        "upload",
        140,
        None,
    )


def test_the_upload_form_takes_a_reason(world, typed_token):
    from django.core.files.uploadedfile import SimpleUploadedFile

    data_set, _ = typed_token
    client = Client()
    client.force_login(world.editor)
    response = client.post(
        f"/manage/data-sets/{data_set.pk}/uploads/new",
        {"file": SimpleUploadedFile("fix.csv", CSV), "mode": "append", "reason": "Re-counted"},
    )
    assert response.status_code == 302
    upload = data_set.uploads.get()
    assert upload.reason == "Re-counted"
    client.post(f"/manage/data-sets/{data_set.pk}/uploads/{upload.pk}/commit")
    assert only_correction().reason == "Re-counted"


def test_an_upload_to_an_unpublished_data_set_is_no_correction(world, typed_token):
    data_set, _ = typed_token
    update_data_set(None, data_set, published=False)
    uploads.receive(data_set, CSV, "fix.csv", actor=world.editor, commit=True, background=False)
    assert Correction.objects.count() == 0


# collectors


def test_a_collector_run_that_replaces_records_is_a_correction(
    world, typed_token, source, collecting
):
    data_set, _ = typed_token
    collector = collectors.create_collector(
        None, data_set, name="Export", url=source.answer("/fix.csv", CSV)
    )
    run = collectors.run_now(world.editor, collector, reason="Supplier re-sent the file")
    assert run.outcome == "succeeded", run.error
    correction = only_correction()
    assert (correction.path, correction.reason, correction.user) == (
        "collector",
        "Supplier re-sent the file",
        world.editor,
    )


def test_a_scheduled_collector_run_has_no_reason_and_the_services_organisation(
    world, typed_token, source, collecting
):
    data_set, _ = typed_token
    collector = collectors.create_collector(
        None, data_set, name="Export", url=source.answer("/fix.csv", CSV)
    )
    collectors.run_now(None, collector)
    correction = only_correction()
    assert (correction.path, correction.reason, correction.organisation) == (
        "collector",
        "",
        world.department,
    )


# the audit log


def test_corrections_appear_in_the_audit_log(api, typed_token, world):
    data_set, token = typed_token
    api.post(URL + "?reason=Counted+twice", [{**WEEK_1, "count": 1}, {**WEEK_2, "count": 2}], token)
    entry = AuditEntry.objects.get(action="data_set.correct")
    assert (entry.object_id, entry.service, entry.organisation) == (
        str(data_set.pk),
        world.service,
        world.department,
    )
    assert entry.after["corrections"] == 2
    assert entry.after["path"] == "api"
    assert entry.after["reason"] == "Counted twice"


# the span of a record


@pytest.mark.parametrize(
    ("record", "span"),
    [
        ({"_timestamp": "2024-01-01T00:00:00+00:00", "period": "month"}, (JAN_1, 1706745600)),
        ({"_timestamp": "2024-01-01T00:00:00+00:00", "period": "quarter"}, (JAN_1, 1711929600)),
        ({"_timestamp": "2024-01-01T00:00:00+00:00"}, (JAN_1, JAN_1 + 1)),
        ({"_id": "x"}, (None, None)),
    ],
)
def test_a_record_describes_its_timestamp_to_the_end_of_its_period(record, span):
    assert corrections.record_span(record) == span
