"""Declared fields on every path: proposed from a free-form data set's first data (write API,
upload, collector), confirmed through the management API, writes checked against them (the
JSON API strictly, spreadsheets and collectors converted), and stored text converted to the
declared types (API and command line)."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from collector_fixtures import Source
from helpers import assert_error, body, call
from perfplat.audit.models import AuditEntry
from perfplat.cli import main
from perfplat.collectors import services as collectors
from perfplat.datasets.models import DataSet, Record, WriteBatch
from perfplat.datasets.services import DataSetSettings, create_data_set
from perfplat.uploads import services as uploads
from perfplat.uploads.models import Upload
from spreadsheets import csv_file

URL = "/data/road-tax/visits"
SUM_BY_CHANNEL = {"group_by": "channel", "collect": "count:sum"}


@pytest.fixture
def free_form(world):
    """road-tax/visits: a free-form data set (no standard type), published, with its token."""
    return create_data_set(
        None,
        "visits",
        service=world.service,
        settings=DataSetSettings(auto_ids=("_timestamp", "channel"), published=True),
    )


def declarations(data_set) -> list[dict]:
    return DataSet.objects.get(pk=data_set.pk).field_declarations


def stored(data_set) -> list[dict]:
    rows = Record.objects.filter(data_set=data_set).order_by("timestamp", "record_id")
    return [row.data for row in rows]


def proposed(name, field_type, required=True) -> dict:
    return {
        "name": name,
        "type": field_type,
        "required": required,
        "allowed_values": [],
        "description": "",
        "confirmed": False,
    }


def confirm(client, world, data_set, fields) -> dict:
    response = call(
        client,
        "PUT",
        f"/api/data-sets/{data_set.pk}/fields",
        world.token(world.editor),
        {"fields": fields},
    )
    assert response.status_code == 200, response.content
    data_set.refresh_from_db()
    return body(response)


COUNT_CONFIRMED = [
    {"name": "channel", "type": "text", "required": True},
    {"name": "count", "type": "whole-number", "required": True},
]


# proposals from the first data


def test_the_first_write_proposes_fields_without_checking_against_them(client, world, free_form):
    data_set, token = free_form
    records = [
        {"_timestamp": "2024-01-01T00:00:00Z", "channel": "digital", "count": "1200"},
        {"_timestamp": "2024-01-01T00:00:00Z", "channel": "phone", "count": "1,300", "note": "x"},
    ]
    response = call(client, "POST", URL, token, records)
    assert response.status_code == 200, response.content
    assert declarations(data_set) == [
        proposed("channel", "text"),
        proposed("count", "whole-number"),
        proposed("note", "text", required=False),
    ]
    # Proposed, not confirmed: the JSON API stored the text as sent.
    assert stored(data_set) == [
        {"channel": "digital", "count": "1200"},
        {"channel": "phone", "count": "1,300", "note": "x"},
    ]


def test_a_field_first_seen_later_is_proposed_and_the_others_are_kept(client, world, free_form):
    data_set, token = free_form
    confirm(client, world, data_set, COUNT_CONFIRMED)
    record = {"_timestamp": "2024-01-08T00:00:00Z", "channel": "digital", "count": 5, "paid": True}
    assert call(client, "POST", URL, token, record).status_code == 200
    assert [(d["name"], d["type"], d["confirmed"]) for d in declarations(data_set)] == [
        ("channel", "text", True),
        ("count", "whole-number", True),
        ("paid", "boolean", False),
    ]


def test_a_standard_type_is_never_given_proposals(client, world, typed):
    token = _token(typed)
    record = {
        "_timestamp": "2024-01-01T00:00:00Z",
        "period": "week",
        "channel": "digital",
        "count": 3,
        "extra": "1",
    }
    assert (
        call(client, "POST", "/data/road-tax/transactions-by-channel", token, record).status_code
        == 200
    )
    assert declarations(typed) == []


def _token(data_set) -> str:
    from perfplat.datasets.services import rotate_token

    return rotate_token(data_set)


# confirmed fields check every JSON write strictly


def test_a_string_in_a_whole_number_field_is_a_400_naming_record_and_field(
    client, world, free_form
):
    data_set, token = free_form
    confirm(client, world, data_set, COUNT_CONFIRMED)
    records = [
        {"_timestamp": "2024-01-01T00:00:00Z", "channel": "digital", "count": 1200},
        {"_timestamp": "2024-01-01T00:00:00Z", "channel": "phone", "count": "1200"},
        {"_timestamp": "2024-01-08T00:00:00Z", "channel": "paper"},
    ]
    response = call(client, "POST", URL, token, records)
    assert_error(
        response,
        400,
        "record 1: field 'count' must be a whole number, not '1200' (and 1 more problems)",
    )
    assert body(response)["messages"] == [
        "record 1: field 'count' must be a whole number, not '1200'",
        "record 2: field 'count' is required",
    ]
    assert stored(data_set) == []


def test_allowed_values_of_a_confirmed_text_field_are_checked(client, world, free_form):
    data_set, token = free_form
    confirm(
        client,
        world,
        data_set,
        [{"name": "channel", "type": "text", "allowed_values": ["digital", "phone"]}],
    )
    record = {"_timestamp": "2024-01-01T00:00:00Z", "channel": "fax"}
    assert_error(
        call(client, "POST", URL, token, record),
        400,
        "record 0: field 'channel' must be one of digital, phone, not 'fax'",
    )


def test_a_patch_is_checked_against_confirmed_fields(client, world, free_form):
    data_set, token = free_form
    confirm(client, world, data_set, COUNT_CONFIRMED)
    record = {"_id": "r1", "channel": "digital", "count": 1}
    # An explicit _id with auto_ids: the auto_ids make the id, so use a data set without them.
    data_set.auto_ids = []
    DataSet.objects.filter(pk=data_set.pk).update(auto_ids=[])
    assert call(client, "POST", URL, token, record).status_code == 200
    response = call(client, "PATCH", f"{URL}/r1", token, {"count": "2"})
    assert_error(response, 400, "record 0: field 'count' must be a whole number, not '2'")
    assert stored(data_set) == [{"channel": "digital", "count": 1}]


# the management API


def test_the_fields_api_shows_proposals_and_the_fields_needing_conversion(client, world, free_form):
    data_set, token = free_form
    record = {"_timestamp": "2024-01-01T00:00:00Z", "channel": "digital", "count": "1200"}
    call(client, "POST", URL, token, record)
    response = call(
        client, "GET", f"/api/data-sets/{data_set.pk}/fields", world.token(world.editor)
    )
    assert body(response) == {
        "standard_type": "",
        "fields": [proposed("channel", "text"), proposed("count", "whole-number")],
        "needs_conversion": ["count"],
    }
    data_set_out = body(
        call(client, "GET", f"/api/data-sets/{data_set.pk}", world.token(world.editor))
    )
    assert [field["name"] for field in data_set_out["fields"]] == ["channel", "count"]


def test_confirming_fields_through_the_api_is_audited(client, world, free_form):
    data_set, _ = free_form
    answer = confirm(client, world, data_set, COUNT_CONFIRMED)
    assert answer["fields"] == [
        {
            "name": "channel",
            "type": "text",
            "required": True,
            "allowed_values": [],
            "description": "",
            "confirmed": True,
        },
        {
            "name": "count",
            "type": "whole-number",
            "required": True,
            "allowed_values": [],
            "description": "",
            "confirmed": True,
        },
    ]
    entry = AuditEntry.objects.get(action="data_set.fields")
    assert (entry.actor, entry.before, entry.after["fields"][1]["name"]) == (
        world.editor,
        {"fields": []},
        "count",
    )


def test_bad_declarations_are_a_400(client, world, free_form):
    data_set, _ = free_form
    response = call(
        client,
        "PUT",
        f"/api/data-sets/{data_set.pk}/fields",
        world.token(world.editor),
        {"fields": [{"name": "count", "type": "integer"}]},
    )
    assert_error(
        response,
        400,
        "The type of field 'count' must be one of text, whole-number, number, boolean, date-time",
    )
    assert declarations(data_set) == []


def test_a_standard_types_fields_cannot_be_changed(client, world, typed):
    response = call(
        client,
        "PUT",
        f"/api/data-sets/{typed.pk}/fields",
        world.token(world.editor),
        {"fields": COUNT_CONFIRMED},
    )
    assert_error(
        response,
        400,
        "The fields of road-tax/transactions-by-channel are those of its standard type "
        "transactions-by-channel and cannot be changed",
    )
    listed = body(
        call(client, "GET", f"/api/data-sets/{typed.pk}/fields", world.token(world.editor))
    )
    assert [(f["name"], f["type"], f["confirmed"]) for f in listed["fields"]] == [
        ("period", "text", True),
        ("channel", "text", True),
        ("count", "whole-number", True),
    ]


# converting stored text


def write_text_counts(client, data_set, token, counts):
    records = [
        {"_timestamp": f"2024-01-0{day}T00:00:00Z", "channel": "digital", "count": count}
        for day, count in enumerate(counts, start=1)
    ]
    assert call(client, "POST", URL, token, records).status_code == 200


def test_converting_stored_text_makes_sums_work(client, world, free_form):
    data_set, token = free_form
    write_text_counts(client, data_set, token, ["1,200", "1300", 7])
    response = client.get(URL, SUM_BY_CHANNEL)
    assert_error(
        response,
        400,
        "Cannot sum field 'count': it holds values that are not numbers (such as \"1,200\")",
    )
    version = DataSet.objects.get(pk=data_set.pk).version
    path = f"/api/data-sets/{data_set.pk}/fields/convert"
    dry = body(call(client, "POST", path, world.token(world.editor), {"dry_run": True}))
    assert dry == {
        "status": "ok",
        "message": "2 values in 2 records would be converted (count: 2)",
        "dry_run": True,
        "changed_records": 2,
        "changed_values": {"count": 2},
        "problems": [],
        "problem_count": 0,
    }
    assert stored(data_set)[0]["count"] == "1,200"
    done = body(call(client, "POST", path, world.token(world.editor), {}))
    assert done["message"] == "2 values in 2 records were converted (count: 2)"
    assert [record["count"] for record in stored(data_set)] == [1200, 1300, 7]
    after = DataSet.objects.get(pk=data_set.pk)
    assert after.version == version + 1
    assert after.field_types == {"channel": ["string"], "count": ["number"]}
    assert body(client.get(URL, SUM_BY_CHANNEL))["data"] == [
        {"channel": "digital", "_count": 3, "count:sum": 2507}
    ]
    entry = AuditEntry.objects.get(action="data_set.convert_fields")
    assert entry.after == {"records": 2, "values": {"count": 2}}


def test_a_value_that_cannot_be_converted_changes_nothing(client, world, free_form):
    data_set, token = free_form
    write_text_counts(client, data_set, token, ["1,200", "12x", "n/a"])
    # Mostly not numbers: proposed as text; the team says they are whole numbers.
    assert [(d["name"], d["type"]) for d in declarations(data_set)][1] == ("count", "text")
    confirm(client, world, data_set, COUNT_CONFIRMED)
    version = DataSet.objects.get(pk=data_set.pk).version
    response = call(
        client,
        "POST",
        f"/api/data-sets/{data_set.pk}/fields/convert",
        world.token(world.editor),
        {},
    )
    ids = [row.record_id for row in Record.objects.filter(data_set=data_set).order_by("timestamp")]
    assert_error(
        response,
        400,
        "2 stored values cannot be converted to the declared type, so nothing was changed: "
        f"Record {ids[1]!r}, field 'count': '12x' is not a whole number",
    )
    assert body(response)["messages"] == [
        f"Record {ids[1]!r}, field 'count': '12x' is not a whole number",
        f"Record {ids[2]!r}, field 'count': 'n/a' is not a whole number",
    ]
    assert [record["count"] for record in stored(data_set)] == ["1,200", "12x", "n/a"]
    assert DataSet.objects.get(pk=data_set.pk).version == version


def test_the_command_converts_with_a_dry_run_first(client, world, free_form, capsys):
    data_set, token = free_form
    write_text_counts(client, data_set, token, ["1,200", "5"])
    assert main(["datasets", "convert-fields", "road-tax", "visits", "--dry-run"]) == 0
    out, _ = capsys.readouterr()
    assert out == (
        "road-tax/visits: 2 values in 2 records would be converted (count: 2).\n"
        "Dry run: nothing was changed.\n"
    )
    assert stored(data_set)[0]["count"] == "1,200"
    assert main(["datasets", "convert-fields", "road-tax", "visits"]) == 0
    out, _ = capsys.readouterr()
    assert out == "road-tax/visits: 2 values in 2 records were converted (count: 2).\n"
    assert [record["count"] for record in stored(data_set)] == [1200, 5]
    assert main(["datasets", "convert-fields", "road-tax", "visits"]) == 0
    out, _ = capsys.readouterr()
    assert out == (
        "road-tax/visits: Every stored value already has its field's declared type: nothing to "
        "convert.\n"
    )


def test_the_command_lists_values_it_cannot_convert_and_exits_2(client, world, free_form, capsys):
    data_set, token = free_form
    write_text_counts(client, data_set, token, ["1,200", "lots"])
    confirm(client, world, data_set, COUNT_CONFIRMED)
    record_id = Record.objects.get(data_set=data_set, data__count="lots").record_id
    assert main(["datasets", "convert-fields", "road-tax", "visits"]) == 2
    out, err = capsys.readouterr()
    assert out == f"Record {record_id!r}, field 'count': 'lots' is not a whole number\n"
    assert err == (
        "perfplat: error: road-tax/visits: 1 stored value cannot be converted to the declared "
        "type, so nothing was changed\n"
    )
    assert [record["count"] for record in stored(data_set)] == ["1,200", "lots"]


# spreadsheets: converted by the declared types


NUMBERS = [
    ["Date", "Channel", "Count"],
    ["01/01/2024", "digital", "1,200"],
    ["01/01/2024", "phone", "300"],
    ["08/01/2024", "digital", "1,000"],
]


def test_a_csv_of_numbers_uploaded_into_a_free_form_data_set_adds_up(client, world, free_form):
    data_set, _ = free_form
    upload = uploads.receive(
        data_set, csv_file(NUMBERS), "visits.csv", actor=world.editor, commit=True
    )
    assert upload.status == Upload.COMMITTED, upload.errors
    assert upload.proposed_fields == [
        proposed("channel", "text"),
        proposed("count", "whole-number"),
    ]
    assert declarations(data_set) == upload.proposed_fields
    assert body(client.get(URL, SUM_BY_CHANNEL))["data"] == [
        {"channel": "digital", "_count": 2, "count:sum": 2200},
        {"channel": "phone", "_count": 1, "count:sum": 300},
    ]


def test_the_upload_api_shows_the_fields_its_file_proposes(client, world, free_form):
    data_set, _ = free_form
    response = client.post(
        f"/api/data-sets/{data_set.pk}/uploads",
        {"file": SimpleUploadedFile("visits.csv", csv_file(NUMBERS))},
        HTTP_AUTHORIZATION=f"Bearer {world.token(world.editor)}",
    )
    reply = body(response)
    assert (reply["status"], reply["proposed_fields"]) == (
        "previewed",
        [proposed("channel", "text"), proposed("count", "whole-number")],
    )
    assert reply["preview"][0]["record"]["count"] == 1200
    # Nothing is kept before the commit.
    assert declarations(data_set) == []


def test_a_cell_that_is_not_a_number_is_a_row_error_and_nothing_is_stored(world, free_form):
    data_set, _ = free_form
    # All but one of the counts are numbers: the column is proposed as whole numbers, and the
    # one that is not is a mistake to correct.
    days = [f"{day:02d}/01/2024" for day in range(1, 11)]
    rows = [NUMBERS[0], *([day, "digital", "1,200"] for day in days[:9]), [days[9], "phone", "12x"]]
    upload = uploads.receive(
        data_set, csv_file(rows), "visits.csv", actor=world.editor, commit=True
    )
    assert upload.status == Upload.INVALID
    assert upload.errors == [
        {"row": 11, "column": "Count", "value": "12x", "problem": "'12x' is not a whole number"}
    ]
    assert not Record.objects.filter(data_set=data_set).exists()
    assert not WriteBatch.objects.filter(data_set=data_set).exists()
    assert declarations(data_set) == []


def test_an_upload_is_converted_by_confirmed_types(client, world, free_form):
    data_set, _ = free_form
    confirm(
        client,
        world,
        data_set,
        [
            {"name": "channel", "type": "text", "required": True},
            {"name": "cost", "type": "number"},
            {"name": "share", "type": "number"},
            {"name": "paid", "type": "boolean"},
            {"name": "due", "type": "date-time"},
        ],
    )
    rows = [
        ["Date", "Channel", "Cost", "Share", "Paid", "Due"],
        ["01/01/2024", "digital", "£1,200.50", "12%", "yes", "31/3/2025"],
        ["01/01/2024", "phone", "3", "0.5", "0", "2025-04-01"],
    ]
    upload = uploads.receive(
        data_set, csv_file(rows), "visits.csv", actor=world.editor, commit=True
    )
    assert upload.status == Upload.COMMITTED, upload.errors
    assert stored(data_set) == [
        {
            "channel": "digital",
            "cost": 1200.5,
            "share": 0.12,
            "paid": True,
            "due": "2025-03-31T00:00:00Z",
        },
        {"channel": "phone", "cost": 3, "share": 0.5, "paid": False, "due": "2025-04-01T00:00:00Z"},
    ]


def test_a_confirmed_required_field_without_a_column_is_one_error(client, world, free_form):
    data_set, _ = free_form
    confirm(client, world, data_set, COUNT_CONFIRMED)
    rows = [["Date", "Channel"], ["01/01/2024", "digital"]]
    upload = uploads.receive(data_set, csv_file(rows), "visits.csv", actor=world.editor)
    assert upload.errors == [
        {
            "row": 1,
            "column": "",
            "value": "",
            "problem": "no column is mapped to count, which every record needs: add the "
            "column, or choose it in the mapping",
        }
    ]


# collectors: the same pipeline


@pytest.fixture
def source(collecting):
    served = Source()
    served.thread.start()
    yield served
    served.server.shutdown()
    served.server.server_close()


def test_a_collector_reads_cells_by_the_types_it_proposes(client, world, free_form, source):
    data_set, _ = free_form
    csv = b'Date,Channel,Count\r\n2024-01-01,digital,"1,200"\r\n2024-01-01,phone,30\r\n'
    collector = collectors.create_collector(
        None, data_set, name="Export", url=source.answer(body=csv), mapping={}
    )
    run = collectors.run_now(None, collector)
    assert run.outcome == "succeeded", run.error
    assert declarations(data_set) == [
        proposed("channel", "text"),
        proposed("count", "whole-number"),
    ]
    assert body(client.get(URL, SUM_BY_CHANNEL))["data"] == [
        {"channel": "digital", "_count": 1, "count:sum": 1200},
        {"channel": "phone", "_count": 1, "count:sum": 30},
    ]


def test_a_collectors_json_is_converted_by_confirmed_types(client, world, free_form, source):
    data_set, _ = free_form
    confirm(client, world, data_set, COUNT_CONFIRMED)
    payload = (
        b'[{"_timestamp": "2024-01-01T00:00:00Z", "channel": "digital", "count": "1,200"},'
        b' {"_timestamp": "2024-01-02T00:00:00Z", "channel": "phone", "count": "many"}]'
    )
    collector = collectors.create_collector(
        None,
        data_set,
        name="Export",
        url=source.answer("/data.json", body=payload, content_type="application/json"),
        format="json",
        mapping={},
    )
    run = collectors.run_now(None, collector)
    assert run.outcome == "failed"
    assert run.error == (
        "The data has problems, so nothing was written: item 2, column 'count': 'many' is not "
        "a whole number"
    )
    assert stored(data_set) == []


def test_a_collectors_json_keeps_null_and_empty_text_as_sent(client, world, free_form, source):
    data_set, _ = free_form
    payload = (
        b'[{"_timestamp": "2024-01-01T00:00:00Z", "channel": "digital", "count": "1,200",'
        b' "note": "", "extra": null}]'
    )
    collector = collectors.create_collector(
        None,
        data_set,
        name="Export",
        url=source.answer("/data.json", body=payload, content_type="application/json"),
        format="json",
        mapping={},
    )
    run = collectors.run_now(None, collector)
    assert run.outcome == "succeeded", run.error
    assert stored(data_set) == [{"channel": "digital", "count": 1200, "note": "", "extra": None}]
    # Fields with no value yet are not proposed: their first value will say what they are.
    assert [d["name"] for d in declarations(data_set)] == ["channel", "count"]
