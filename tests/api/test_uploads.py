"""Spreadsheet uploads end to end: preview, row errors, fixing and committing, the atomic
commit, append and replace, idempotence, background work, history, the API, the pages and the
command line. Data is built through the same functions users call."""

import re
from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from helpers import body
from perfplat.audit.models import AuditEntry
from perfplat.cli import main
from perfplat.datasets import writes
from perfplat.datasets.models import Record, WriteBatch
from perfplat.datasets.services import DataSetSettings, create_data_set
from perfplat.errors import Conflict, InvalidRequest, PayloadTooLarge
from perfplat.uploads import services
from perfplat.uploads.models import HeaderMapping, Upload
from spreadsheet_bombs import area_message, far_cell_xlsx
from spreadsheets import csv_file, xlsx

AUTO_IDS = ["_timestamp", "period", "channel"]
HEADER = ["Week starting", "Period", "Channel", "Count"]
GOOD = [
    HEADER,
    ["01/01/2024", "week", "digital", "1,234"],
    ["01/01/2024", "week", "phone", "56"],
    ["08/01/2024", "week", "digital", "1,300"],
]
# Row 3 has no channel, row 4 a count that is not a number.
BAD = [
    HEADER,
    ["01/01/2024", "week", "digital", "1,234"],
    ["01/01/2024", "week", "", "56"],
    ["08/01/2024", "week", "digital", "many"],
]
BAD_ERRORS = [
    {"row": 3, "column": "Channel", "value": "", "problem": "field 'channel' is required"},
    {
        "row": 4,
        "column": "Count",
        "value": "many",
        "problem": "'many' is not a whole number",
    },
]


@pytest.fixture
def typed(world):
    """road-tax/transactions-by-channel: a data set of the standard type."""
    data_set, _ = create_data_set(
        None,
        "transactions-by-channel",
        service=world.service,
        settings=DataSetSettings(standard_type="transactions-by-channel"),
    )
    return data_set


def receive(data_set, data, user, name="figures.csv", **options):
    return services.receive(data_set, data, name, actor=user, **options)


def record_id(day: str, channel: str) -> str:
    # Written out, not derived: base64 of "<UTC timestamp>.week.<channel>".
    import base64

    joined = f"{day}T00:00:00+00:00.week.{channel}"
    return base64.b64encode(joined.encode()).decode()


def stored(data_set) -> dict:
    """The data set's records, by _id, as the read API returns them."""
    return {
        row.record_id: writes.stored_record(row) for row in Record.objects.filter(data_set=data_set)
    }


# preview


def test_the_preview_shows_the_first_rows_as_they_will_be_stored(typed, world):
    upload = receive(typed, csv_file(GOOD), world.editor)
    assert upload.status == Upload.PREVIEWED
    assert (upload.row_count, upload.error_count, upload.errors) == (3, 0, [])
    assert upload.preview[0] == {
        "row": 2,
        "record": {
            "_id": record_id("2024-01-01", "digital"),
            "_timestamp": "2024-01-01T00:00:00+00:00",
            "period": "week",
            "channel": "digital",
            "count": 1234,
        },
    }
    assert [row["row"] for row in upload.preview] == [2, 3, 4]
    assert upload.mapping == {
        "Week starting": "_timestamp",
        "Period": "period",
        "Channel": "channel",
        "Count": "count",
    }


def test_nothing_is_written_by_a_preview(typed, world):
    receive(typed, csv_file(GOOD), world.editor)
    assert Record.objects.filter(data_set=typed).count() == 0
    assert not WriteBatch.objects.filter(data_set=typed).exists()


def test_the_preview_has_the_first_20_rows(typed, world):
    rows = [HEADER] + [[f"{d:02d}/01/2024", "week", "digital", str(d)] for d in range(1, 31)]
    upload = receive(typed, csv_file(rows), world.editor)
    assert upload.row_count == 30
    assert [row["row"] for row in upload.preview] == list(range(2, 22))


def test_the_preview_fills_in_the_types_defaults(world):
    data_set, _ = create_data_set(
        None, "cost", service=world.service, settings=DataSetSettings(standard_type="cost")
    )
    upload = receive(
        data_set,
        csv_file([["Date", "Period", "Amount"], ["2024-01-01", "month", "£1,234.50"]]),
        world.editor,
    )
    assert upload.preview[0]["record"]["channel"] == "all"
    assert upload.preview[0]["record"]["amount"] == 1234.5
    # The type fills the channel in, so the file needs no Channel column to be committed.
    assert (upload.status, upload.errors) == (Upload.PREVIEWED, [])


# row errors


def test_every_row_error_is_listed_with_row_column_value_and_problem(typed, world):
    upload = receive(typed, csv_file(BAD), world.editor)
    assert upload.status == Upload.INVALID
    assert upload.errors == BAD_ERRORS
    assert upload.error_count == 2


def test_each_kind_of_row_error(typed, world):
    rows = [
        HEADER,
        ["31/02/2024", "week", "digital", "1"],
        ["01/01/2024", "fortnight", "digital", "1"],
        ["01/01/2024", "week", "", "1"],
        ["01/01/2024", "week", "paper", "1.5"],
        ["01/01/2024", "week", "post", "-4"],
        ["01/01/2024", "week", "phone", "lots"],
        ["soon", "week", "phone", "1"],
        ["01/01/0999", "week", "phone", "1"],
    ]
    upload = receive(typed, csv_file(rows), world.editor)
    not_real = "'31/02/2024' is not a real date (dates are day/month/year)"
    not_a_period = "field 'period' must be one of day, week, month, quarter, not 'fortnight'"
    assert [(e["row"], e["column"], e["value"], e["problem"]) for e in upload.errors] == [
        (2, "Week starting", "31/02/2024", not_real),
        (3, "Period", "fortnight", not_a_period),
        (4, "Channel", "", "field 'channel' is required"),
        (5, "Count", "1.5", "'1.5' is not a whole number"),
        (6, "Count", "-4", "field 'count' must be 0 or more, not -4"),
        (7, "Count", "lots", "'lots' is not a whole number"),
        (
            8,
            "Week starting",
            "soon",
            "'soon' is not a date: write dates like 2024-01-31 or "
            "31/01/2024 (with a time if needed, like 2024-01-31T09:30:00Z or 31/01/2024 09:30), or "
            "make the cell a date",
        ),
        (
            9,
            "Week starting",
            "01/01/0999",
            '_timestamp string "0999-01-01T00:00:00Z" must be '
            "between 1000-01-01T00:00:00Z and 9000-01-01T00:00:00Z",
        ),
    ]


def test_a_required_column_missing_from_the_file(typed, world):
    upload = receive(
        typed, csv_file([["Date", "Channel", "Count"], ["2024-01-01", "phone", "1"]]), world.editor
    )
    assert upload.errors == [
        {
            "row": 1,
            "column": "",
            "value": "",
            "problem": "no column is mapped to period, which every record needs: add the "
            "column, or choose it in the mapping",
        }
    ]


def test_errors_past_the_first_1000_are_counted(typed, world, settings):
    settings.PERFPLAT_UPLOAD_BACKGROUND_ROWS = 10_000
    rows = [HEADER] + [["01/01/2024", "week", f"c{n}", "x"] for n in range(1500)]
    upload = receive(typed, csv_file(rows), world.editor)
    assert upload.error_count == 1500
    assert len(upload.errors) == 1000
    assert upload.errors[-1]["row"] == 1001


def test_nothing_is_written_while_errors_remain(typed, world):
    upload = receive(typed, csv_file(BAD), world.editor, commit=True)
    assert upload.status == Upload.INVALID
    with pytest.raises(InvalidRequest) as raised:
        services.commit(upload, world.editor)
    assert raised.value.message == (
        "Nothing can be committed while the spreadsheet has errors: correct them and upload "
        "it again"
    )
    assert Record.objects.filter(data_set=typed).count() == 0
    assert not WriteBatch.objects.filter(data_set=typed).exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty"),
        (b"%PDF-1.4\x00\x01", "The file is not a spreadsheet: upload a CSV, XLSX, XLS or ODS file"),
        (
            b",,\n,,\n",
            "The file has no header row: its first row with anything in it must name the columns",
        ),
    ],
)
def test_a_file_that_cannot_be_read_is_refused_and_kept_in_the_history(typed, world, data, message):
    with pytest.raises(InvalidRequest) as raised:
        receive(typed, data, world.editor, name="figures.pdf")
    assert raised.value.message == message
    upload = Upload.objects.get(data_set=typed)
    assert (upload.status, upload.failure_message, upload.file_name) == (
        Upload.INVALID,
        message,
        "figures.pdf",
    )
    assert upload.outcome == f"Not readable: {message}"


def test_a_file_over_the_limit_is_refused_and_not_kept(typed, world, settings):
    settings.PERFPLAT_MAX_UPLOAD_BYTES = 50
    with pytest.raises(PayloadTooLarge) as raised:
        receive(typed, csv_file(GOOD), world.editor)
    size = len(csv_file(GOOD))
    assert raised.value.message == f"The file is {size} bytes, larger than the limit of 50 bytes"
    upload = Upload.objects.get(data_set=typed)
    assert (upload.status, upload.size, bytes(upload.content)) == (Upload.INVALID, size, b"")


# fixing and committing


def test_fix_the_file_then_commit(typed, world):
    first = receive(typed, csv_file(BAD), world.editor)
    assert first.status == Upload.INVALID
    fixed = receive(typed, csv_file(GOOD), world.editor)
    assert fixed.status == Upload.PREVIEWED
    services.commit(fixed, world.editor)
    fixed.refresh_from_db()
    assert (fixed.status, fixed.stored_count, fixed.progress) == (Upload.COMMITTED, 3, 100)
    assert stored(typed)[record_id("2024-01-08", "digital")] == {
        "_id": record_id("2024-01-08", "digital"),
        "_timestamp": "2024-01-08T00:00:00+00:00",
        "period": "week",
        "channel": "digital",
        "count": 1300,
    }
    batch = fixed.write_batch
    assert (batch.kind, batch.user, batch.record_count) == ("upload", world.editor, 3)
    assert set(Record.objects.filter(data_set=typed).values_list("batch_id", flat=True)) == {
        batch.pk
    }
    entry = AuditEntry.objects.get(action="upload.commit")
    assert (entry.actor, entry.service, entry.after["records_stored"]) == (
        world.editor,
        world.service,
        3,
    )


def test_commit_true_stores_at_once_when_there_are_no_errors(typed, world):
    upload = receive(typed, csv_file(GOOD), world.editor, commit=True)
    assert upload.status == Upload.COMMITTED
    assert len(stored(typed)) == 3


def test_an_xlsx_upload_stores_the_same_records_as_the_csv(typed, world):
    receive(typed, csv_file(GOOD), world.editor, commit=True)
    from_csv = stored(typed)
    rows = [HEADER] + [
        [date(2024, 1, 1), "week", "digital", 1234],
        [date(2024, 1, 1), "week", "phone", 56],
        [date(2024, 1, 8), "week", "digital", 1300],
    ]
    receive(
        typed, xlsx({"Figures": rows}), world.editor, name="f.xlsx", mode="replace", commit=True
    )
    assert stored(typed) == from_csv


def test_a_committed_upload_cannot_be_committed_again(typed, world):
    upload = receive(typed, csv_file(GOOD), world.editor, commit=True)
    with pytest.raises(Conflict) as raised:
        services.commit(upload, world.editor)
    assert raised.value.message == "This upload has already been committed: its records are stored"


def test_a_crash_mid_commit_leaves_nothing(typed, world, monkeypatch):
    receive(typed, csv_file(GOOD), world.editor, commit=True)
    before = stored(typed)
    batches = WriteBatch.objects.count()
    replacement = receive(
        typed,
        csv_file(
            [HEADER, ["15/01/2024", "week", "digital", "7"], ["15/01/2024", "week", "phone", "8"]]
        ),
        world.editor,
        mode="replace",
    )
    real_rows = writes._record_rows

    def rows_then_crash(*args):
        # Part of the work is done: the data set emptied, a batch created, a row on its way.
        rows = real_rows(*args)
        yield next(rows)
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(writes, "_record_rows", rows_then_crash)
    with pytest.raises(RuntimeError):
        services.commit(replacement, world.editor)
    assert stored(typed) == before
    assert WriteBatch.objects.count() == batches
    replacement.refresh_from_db()
    assert replacement.status == Upload.FAILED
    assert replacement.failure_message == (
        "Something went wrong while storing the records (RuntimeError), so no records were "
        "stored. Try again; if it happens again, tell the platform team."
    )
    assert not AuditEntry.objects.filter(action="upload.commit", object_id=str(replacement.pk))
    # Once the cause is gone, the same upload commits.
    monkeypatch.setattr(writes, "_record_rows", real_rows)
    services.commit(replacement, world.editor)
    assert len(stored(typed)) == 2


def test_append_keeps_the_records_already_there(typed, world):
    token_row = typed.tokens.first()
    writes.write_records(
        typed,
        [{"_timestamp": "2023-12-25T00:00:00Z", "period": "week", "channel": "paper", "count": 9}],
        writes.WriteSource(kind=WriteBatch.API, token_id=token_row.pk),
    )
    receive(typed, csv_file(GOOD), world.editor, commit=True)
    assert len(stored(typed)) == 4


def test_replace_empties_the_data_set_first(typed, world):
    writes.write_records(
        typed,
        [{"_timestamp": "2023-12-25T00:00:00Z", "period": "week", "channel": "paper", "count": 9}],
        writes.WriteSource(kind=WriteBatch.API),
    )
    upload = receive(typed, csv_file(GOOD), world.editor, mode="replace", commit=True)
    assert len(stored(typed)) == 3
    assert AuditEntry.objects.get(action="upload.commit").after["records_replaced"] == 1
    assert upload.outcome == "Committed: replaced the records with 3 records"


def test_uploading_the_same_rows_again_changes_nothing(typed, world):
    receive(typed, csv_file(GOOD), world.editor, commit=True)
    first = stored(typed)
    receive(typed, csv_file(GOOD), world.editor, commit=True)
    assert {k: {**v} for k, v in stored(typed).items()} == first


def test_a_corrected_value_replaces_the_record_with_the_same_period_and_channel(typed, world):
    receive(typed, csv_file(GOOD), world.editor, commit=True)
    corrected = [HEADER, ["01/01/2024", "week", "phone", "60"]]
    receive(typed, csv_file(corrected), world.editor, commit=True)
    records = stored(typed)
    assert len(records) == 3
    assert records[record_id("2024-01-01", "phone")]["count"] == 60


def test_a_free_form_data_set_takes_fields_named_after_the_headers(world):
    rows = [
        ["Date", "Region", "Visits"],
        [date(2024, 1, 1), "North", 12],
        [date(2024, 1, 2), "South", 7.5],
    ]
    upload = receive(world.data_set, xlsx({"S": rows}), world.editor, name="v.xlsx", commit=True)
    assert upload.status == Upload.COMMITTED
    records = sorted(stored(world.data_set).values(), key=lambda r: r["_timestamp"])
    assert [{k: v for k, v in r.items() if k != "_id"} for r in records] == [
        {"_timestamp": "2024-01-01T00:00:00+00:00", "region": "North", "visits": 12},
        {"_timestamp": "2024-01-02T00:00:00+00:00", "region": "South", "visits": 7.5},
    ]


# the mapping


def test_a_changed_mapping_is_used_and_saved_for_the_data_set(typed, world):
    rows = [["When", "Period", "Route", "Count"], ["2024-01-01", "week", "digital", "3"]]
    upload = receive(typed, csv_file(rows), world.editor)
    assert upload.errors[0]["problem"].startswith("no column is mapped to _timestamp")
    services.change_mapping(upload, world.editor, {"When": "_timestamp", "Route": "channel"})
    upload.refresh_from_db()
    assert (upload.status, upload.errors) == (Upload.PREVIEWED, [])
    assert HeaderMapping.objects.get(data_set=typed).mapping == {
        "when": "_timestamp",
        "route": "channel",
    }
    # The next upload with those headers is mapped the same way.
    again = receive(typed, csv_file(rows), world.editor)
    assert again.status == Upload.PREVIEWED
    assert AuditEntry.objects.filter(action="data_set.header_mapping").count() == 1


def test_a_mapping_to_a_field_the_data_set_does_not_have_is_refused(typed, world):
    upload = receive(typed, csv_file(GOOD), world.editor)
    with pytest.raises(InvalidRequest) as raised:
        services.change_mapping(upload, world.editor, {"Count": "total"})
    assert raised.value.message == '"total" is not a field column "Count" can be mapped to'


def test_another_sheet_of_the_workbook_can_be_chosen(typed, world):
    data = xlsx({"Notes": [["Read me"], ["Figures are weekly"]], "Figures": GOOD})
    upload = receive(typed, data, world.editor, name="w.xlsx")
    assert (upload.sheet, upload.sheet_names) == ("Notes", ["Notes", "Figures"])
    services.change_mapping(upload, world.editor, {}, sheet="Figures")
    upload.refresh_from_db()
    assert (upload.sheet, upload.status, upload.row_count) == ("Figures", Upload.PREVIEWED, 3)


# background work


@pytest.fixture
def run_worker(monkeypatch):
    """Runs the queued background tasks, as `perfplat worker --once` does."""
    from django_tasks_db.management.commands import db_worker

    # The worker drops connections that are not in autocommit mode, which a test's
    # transaction never is: on PostgreSQL that would close the test's own connection.
    monkeypatch.setattr(db_worker, "close_old_connections", lambda: None)
    return lambda: call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)


def test_a_large_upload_is_checked_and_committed_in_the_background(
    typed, world, settings, monkeypatch, run_worker
):
    settings.PERFPLAT_UPLOAD_BACKGROUND_ROWS = 2
    seen = []
    real_set = services.Progress.set

    def recording(self, percent):
        seen.append(percent)
        real_set(self, percent)

    monkeypatch.setattr(services.Progress, "set", recording)
    upload = receive(typed, csv_file(GOOD), world.editor)
    assert (upload.status, upload.progress) == (Upload.QUEUED, 0)
    run_worker()
    upload.refresh_from_db()
    assert (upload.status, upload.progress, upload.row_count) == (Upload.PREVIEWED, 100, 3)
    services.commit(upload, world.editor)
    assert upload.status == Upload.QUEUED
    assert Record.objects.filter(data_set=typed).count() == 0
    run_worker()
    upload.refresh_from_db()
    assert (upload.status, upload.progress, upload.stored_count) == (Upload.COMMITTED, 100, 3)
    # Both steps reported how far they had gone, up to the end.
    assert [p for p in seen if 0 < p < 100] and seen[-1] == 100


def test_a_large_file_is_queued_before_it_is_even_read(typed, world, settings, run_worker):
    settings.PERFPLAT_UPLOAD_BACKGROUND_BYTES = 10
    upload = receive(typed, csv_file(GOOD), world.editor, commit=True)
    assert (upload.status, upload.row_count) == (Upload.QUEUED, 0)
    run_worker()
    upload.refresh_from_db()
    assert (upload.status, upload.stored_count) == (Upload.COMMITTED, 3)


def test_a_background_upload_that_cannot_be_read_says_why(typed, world, settings, run_worker):
    settings.PERFPLAT_UPLOAD_BACKGROUND_BYTES = 10
    upload = receive(typed, b"just some words, not a table\n", world.editor)
    run_worker()
    upload.refresh_from_db()
    assert upload.status == Upload.INVALID
    assert upload.failure_message == (
        "The file has a header row (row 1) but no rows of data below it"
    )


def test_a_padded_spreadsheet_bomb_is_refused_by_the_worker_which_carries_on(
    typed, world, run_worker
):
    # 1.3 MB (so checked in the background) whose one far cell is XFD1048576: it made the
    # reader allocate 549 GB and killed `perfplat worker`.
    bomb = receive(typed, far_cell_xlsx(1048575, 16383, padding=1_300_000), world.editor)
    good = receive(typed, csv_file(GOOD), world.editor, commit=True, background=False)
    assert bomb.status == Upload.QUEUED
    run_worker()
    bomb.refresh_from_db()
    assert (bomb.status, bomb.failure_message) == (
        Upload.INVALID,
        area_message("", "XFD", 1048576, 17_179_869_184),
    )
    assert Upload.objects.get(pk=good.pk).status == Upload.COMMITTED


# history


def test_the_history_lists_every_upload_newest_first(typed, world):
    receive(typed, csv_file(BAD), world.editor, name="first.csv")
    receive(typed, csv_file(GOOD), world.org_admin, name="second.csv", commit=True)
    history = list(services.history(typed))
    assert [(u.file_name, u.uploaded_by, u.row_count, u.outcome) for u in history] == [
        ("second.csv", "dft-admin@example.gov.uk", 3, "Committed: added 3 records"),
        ("first.csv", "dft-editor@example.gov.uk", 3, "2 row errors"),
    ]


# the API


def api_upload(client, data_set, data, token, name="figures.csv", **fields):
    return client.post(
        f"/api/data-sets/{data_set.pk}/uploads",
        {"file": SimpleUploadedFile(name, data), **fields},
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )


def test_api_upload_returns_the_preview_and_row_errors(client, typed, world):
    response = api_upload(client, typed, csv_file(BAD), world.token(world.editor))
    assert response.status_code == 201
    reply = body(response)
    assert (reply["status"], reply["row_count"], reply["error_count"]) == ("invalid", 3, 2)
    assert reply["errors"] == BAD_ERRORS
    assert reply["preview"][0]["row"] == 2
    assert reply["uploaded_by"] == "dft-editor@example.gov.uk"
    assert reply["url"] == f"/api/data-sets/{typed.pk}/uploads/{reply['id']}"


def test_api_upload_with_commit_stores_the_records(client, typed, world):
    response = api_upload(
        client, typed, csv_file(GOOD), world.token(world.editor), commit="true", mode="replace"
    )
    reply = body(response)
    assert (reply["status"], reply["stored_count"], reply["mode"]) == ("committed", 3, "replace")
    assert len(stored(typed)) == 3


def test_api_preview_then_commit_and_history(client, typed, world):
    token = world.token(world.editor)
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    upload_id = body(api_upload(client, typed, csv_file(GOOD), token))["id"]
    detail = client.get(f"/api/data-sets/{typed.pk}/uploads/{upload_id}", **headers)
    assert body(detail)["status"] == "previewed"
    committed = client.post(f"/api/data-sets/{typed.pk}/uploads/{upload_id}/commit", **headers)
    assert body(committed)["status"] == "committed"
    history = body(client.get(f"/api/data-sets/{typed.pk}/uploads", **headers))
    assert [(u["id"], u["status"], u["file_name"]) for u in history] == [
        (upload_id, "committed", "figures.csv")
    ]
    again = client.post(f"/api/data-sets/{typed.pk}/uploads/{upload_id}/commit", **headers)
    assert again.status_code == 409
    assert (
        body(again)["message"] == "This upload has already been committed: its records are stored"
    )


def test_api_upload_with_a_mapping(client, typed, world):
    rows = [["When", "Period", "Channel", "Count"], ["2024-01-01", "week", "phone", "2"]]
    response = api_upload(
        client, typed, csv_file(rows), world.token(world.editor), mapping='{"When": "_timestamp"}'
    )
    assert body(response)["status"] == "previewed"
    bad = api_upload(
        client, typed, csv_file(rows), world.token(world.editor), mapping='{"When": "date"}'
    )
    assert bad.status_code == 400
    assert body(bad)["message"].startswith('"date" is not a field column "When" can be mapped to')


@pytest.mark.parametrize("content_type", ["multipart/form-data", "multipart/form-data; boundary="])
def test_api_upload_without_a_multipart_boundary_is_a_400(client, typed, world, content_type):
    response = client.generic(
        "POST",
        f"/api/data-sets/{typed.pk}/uploads",
        b"--x\r\n",
        content_type=content_type,
        HTTP_AUTHORIZATION=f"Bearer {world.token(world.editor)}",
    )
    assert response.status_code == 400
    assert body(response)["message"].startswith("The body is not valid multipart/form-data: ")


def test_api_upload_without_a_file(client, typed, world):
    response = client.post(
        f"/api/data-sets/{typed.pk}/uploads",
        {"mode": "append"},
        HTTP_AUTHORIZATION=f"Bearer {world.token(world.editor)}",
    )
    assert response.status_code == 400
    assert body(response) == {
        "status": "error",
        "message": "Send the spreadsheet as the multipart/form-data field 'file'",
    }


def test_api_upload_of_a_file_that_is_not_a_spreadsheet(client, typed, world):
    response = api_upload(client, typed, b"\x89PNG\r\n\x1a\n\x00", world.token(world.editor))
    assert response.status_code == 400
    assert body(response) == {
        "status": "error",
        "message": "The file is not a spreadsheet: upload a CSV, XLSX, XLS or ODS file",
    }


def test_api_upload_of_a_file_too_large_is_413(client, typed, world, settings):
    settings.PERFPLAT_MAX_UPLOAD_BYTES = 100
    response = api_upload(client, typed, csv_file(GOOD), world.token(world.editor))
    assert response.status_code == 413
    size = len(csv_file(GOOD))
    assert body(response)["message"] == (
        f"The file is {size} bytes, larger than the limit of 100 bytes"
    )


def test_api_uploads_of_another_organisation_are_forbidden(client, typed, world):
    response = api_upload(client, typed, csv_file(GOOD), world.token(world.other_editor))
    assert response.status_code == 403
    assert not Upload.objects.exists()


def test_api_upload_of_another_data_set_is_404(client, typed, world):
    upload = receive(typed, csv_file(GOOD), world.editor)
    response = client.get(
        f"/api/data-sets/{world.data_set.pk}/uploads/{upload.pk}",
        HTTP_AUTHORIZATION=f"Bearer {world.token(world.editor)}",
    )
    assert response.status_code == 404


# the pages


def test_the_upload_pages_preview_errors_and_commit(client, typed, world):
    client.force_login(world.editor)
    base = f"/manage/data-sets/{typed.pk}/uploads/"
    form = client.get(base + "new")
    assert form.status_code == 200
    assert b'enctype="multipart/form-data"' in form.content
    response = client.post(
        base + "new", {"file": SimpleUploadedFile("bad.csv", csv_file(BAD)), "mode": "append"}
    )
    bad = Upload.objects.get(file_name="bad.csv")
    assert response["Location"] == f"{base}{bad.pk}"
    page = client.get(response["Location"]).content.decode()
    assert "There is a problem" in page
    assert "&#x27;many&#x27; is not a whole number" in page
    assert "Commit" not in page
    response = client.post(
        base + "new", {"file": SimpleUploadedFile("good.csv", csv_file(GOOD)), "mode": "append"}
    )
    page = client.get(response["Location"]).content.decode()
    assert "Commit 3 rows" in page
    good = Upload.objects.get(file_name="good.csv")
    done = client.post(f"{base}{good.pk}/commit")
    assert done["Location"] == f"{base}{good.pk}"
    page = client.get(done["Location"]).content.decode()
    assert "Upload committed" in page
    assert "now has 3 records" in page
    history = client.get(base).content.decode()
    assert "good.csv" in history and "bad.csv" in history


def test_the_upload_form_shows_a_file_error_beside_the_field(client, typed, world):
    client.force_login(world.editor)
    response = client.post(
        f"/manage/data-sets/{typed.pk}/uploads/new",
        {"file": SimpleUploadedFile("empty.csv", b"   \n"), "mode": "append"},
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert '<a href="#id_file">The file is empty</a>' in page
    assert page.count("govuk-error-summary") >= 1


def test_the_mapping_form_saves_the_mapping(client, typed, world):
    client.force_login(world.editor)
    rows = [["When", "Period", "Channel", "Count"], ["2024-01-01", "week", "phone", "2"]]
    upload = receive(typed, csv_file(rows), world.editor)
    url = f"/manage/data-sets/{typed.pk}/uploads/{upload.pk}"
    page = client.get(url).content.decode()
    assert "Column “When”" in page
    response = client.post(
        url,
        {
            "column_0": "_timestamp",
            "column_1": "period",
            "column_2": "channel",
            "column_3": "count",
        },
    )
    assert response.status_code == 302
    upload.refresh_from_db()
    assert upload.status == Upload.PREVIEWED


def test_background_work_shows_its_progress_without_reloading_on_a_timer(
    client, typed, world, settings, run_worker
):
    settings.PERFPLAT_UPLOAD_BACKGROUND_BYTES = 10
    client.force_login(world.editor)
    upload = receive(typed, csv_file(GOOD), world.editor)
    url = f"/manage/data-sets/{typed.pk}/uploads/{upload.pk}"
    page = client.get(url).content.decode()
    # A timed reload fails WCAG 2.2.1: a script follows the work, and people without
    # JavaScript check again with a link.
    assert "http-equiv" not in page
    assert re.search(r'<progress id="upload-progress"[^>]* value="0"', page)
    assert f'data-upload-status-url="/api/data-sets/{typed.pk}/uploads/{upload.pk}"' in page
    assert '<script type="module" src="/static/uploads/progress.js"></script>' in page
    assert f'<a class="govuk-link" href="{url}">Check again now</a>' in page
    run_worker()
    page = client.get(url).content.decode()
    assert "progress.js" not in page
    assert "Commit 3 rows" in page


def test_pages_of_another_organisations_data_set_are_refused(client, typed, world):
    client.force_login(world.other_editor)
    assert client.get(f"/manage/data-sets/{typed.pk}/uploads/new").status_code == 403


# the command line


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_upload_commits_and_records_no_user(typed, tmp_path, capsys):
    path = tmp_path / "figures.csv"
    path.write_bytes(csv_file(GOOD))
    code, out, err = run(capsys, "upload", path, "--data-set", "road-tax/transactions-by-channel")
    assert code == 0, err
    assert out == (
        "Added to road-tax/transactions-by-channel: 3 records stored from 3 rows of "
        f"figures.csv (upload {Upload.objects.get().pk}).\n"
    )
    assert "100%" in err and "[" in err
    upload = Upload.objects.get()
    assert (upload.user, upload.uploaded_by, upload.write_batch.user) == (
        None,
        "Command line",
        None,
    )
    assert len(stored(typed)) == 3


def test_cli_dry_run_stores_nothing(typed, tmp_path, capsys):
    path = tmp_path / "figures.xlsx"
    path.write_bytes(xlsx({"Notes": [["x"], ["y"]], "Figures": GOOD}))
    code, out, _ = run(
        capsys,
        "upload",
        path,
        "--data-set",
        "road-tax/transactions-by-channel",
        "--sheet",
        "Figures",
        "--dry-run",
    )
    assert code == 0
    assert (
        out.splitlines()[0] == "Checked 3 rows of figures.xlsx (sheet Figures): no problems found."
    )
    assert out.splitlines()[-1] == "Dry run: nothing was stored."
    assert Record.objects.count() == 0


def test_cli_prints_every_row_error_and_exits_2(typed, tmp_path, capsys):
    path = tmp_path / "figures.csv"
    path.write_bytes(csv_file(BAD))
    code, out, err = run(capsys, "upload", path, "--data-set", "road-tax/transactions-by-channel")
    assert code == 2
    assert out == (
        "Row 3, column 'Channel': field 'channel' is required\n"
        "Row 4, column 'Count': 'many' is not a whole number\n"
    )
    assert err.splitlines()[-1] == (
        "perfplat: error: 2 problems in figures.csv: nothing was stored. Correct the file and "
        "upload it again."
    )
    assert Record.objects.count() == 0


def test_cli_replace(typed, tmp_path, capsys):
    writes.write_records(
        typed,
        [{"_timestamp": "2023-12-25T00:00:00Z", "period": "week", "channel": "paper", "count": 9}],
        writes.WriteSource(kind=WriteBatch.API),
    )
    path = tmp_path / "figures.csv"
    path.write_bytes(csv_file(GOOD))
    code, out, _ = run(
        capsys, "upload", path, "--data-set", "road-tax/transactions-by-channel", "--replace"
    )
    assert code == 0
    assert out.startswith("Replaced the records of road-tax/transactions-by-channel: 3 records")
    assert len(stored(typed)) == 3


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["missing.csv", "--data-set", "road-tax/transactions-by-channel"], "There is no file "),
        (["{file}", "--data-set", "road-tax"], "--data-set must be GROUP/TYPE, not 'road-tax'"),
        (["{file}", "--data-set", "road-tax/nothing"], "Data set road-tax/nothing not found"),
    ],
)
def test_cli_upload_errors(typed, tmp_path, capsys, argv, message):
    path = tmp_path / "figures.csv"
    path.write_bytes(csv_file(GOOD))
    argv = [a.replace("{file}", str(path)) for a in argv]
    code, _, err = run(capsys, "upload", *argv)
    assert code == 2
    assert err.startswith(f"perfplat: error: {message}")


def test_a_file_with_nothing_to_upload_cannot_be_committed(world):
    rows = [["Date", "Notes"], ["2024-01-01", "quiet week"]]
    upload = receive(
        world.data_set, csv_file(rows), world.editor, mapping={"Date": "", "Notes": ""}
    )
    assert upload.status == Upload.INVALID
    assert upload.errors == [
        {
            "row": 1,
            "column": "",
            "value": "",
            "problem": "no row has a value in a column that is uploaded: choose the fields of "
            "the columns in the mapping",
        }
    ]


def test_a_mapping_form_with_a_column_left_unchosen_says_so(client, typed, world):
    client.force_login(world.editor)
    upload = receive(typed, csv_file(BAD), world.editor)
    response = client.post(f"/manage/data-sets/{typed.pk}/uploads/{upload.pk}", {})
    page = response.content.decode()
    assert response.status_code == 200
    assert "<title>Error: Check your spreadsheet - Performance Platform</title>" in page
    assert '<a href="#id_column_0">Choose the field for column “Week starting”</a>' in page
