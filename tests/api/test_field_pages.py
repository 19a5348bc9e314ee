"""A data set's fields in /manage/: the section of its page (proposed or confirmed fields,
values needing conversion), the page that confirms or edits them, and the button that converts
stored values to the declared types."""

import html
import re

from django.test import Client

from helpers import call
from perfplat.audit.models import AuditEntry
from perfplat.datasets.models import DataSet, DataSetToken, Record
from perfplat.datasets.services import DataSetSettings, create_data_set, declare_fields

URL = "/data/road-tax/transactions"


def as_user(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def text(response) -> str:
    """The page's text, tags removed and spaces collapsed."""
    content = re.sub(r"<[^>]+>", " ", response.content.decode())
    return " ".join(html.unescape(content).split())


def summary_errors(response) -> list[str]:
    found = re.search(r'govuk-error-summary__list">(.*?)</ul>', response.content.decode(), re.S)
    if not found:
        return []
    return [
        " ".join(html.unescape(re.sub(r"<[^>]+>", "", item)).split())
        for item in re.findall(r"<li>(.*?)</li>", found.group(1), re.S)
    ]


def write(client, data_set, records):
    token = DataSetToken.issue(data_set)[1]
    response = call(client, "POST", URL, token, records)
    assert response.status_code == 200, response.content


def declared(data_set) -> list[tuple]:
    return [
        (d["name"], d["type"], d["required"], d["allowed_values"], d["confirmed"])
        for d in DataSet.objects.get(pk=data_set.pk).field_declarations
    ]


RECORDS = [
    {"_timestamp": "2024-01-01T00:00:00Z", "channel": "digital", "count": "1,200"},
    {"_timestamp": "2024-01-02T00:00:00Z", "channel": "phone", "count": "30", "region": "north"},
]


def test_the_data_set_page_shows_proposed_fields_and_text_to_convert(client, world):
    write(client, world.data_set, RECORDS)

    shown = text(as_user(world.editor).get(f"/manage/data-sets/{world.data_set.pk}"))

    assert (
        "3 fields were proposed from the data set's data. Check their types and confirm them: "
        "until then writes are not checked against them."
    ) in shown
    assert (
        "Declared fields Field Type Required Allowed values Status "
        "channel Text Yes Proposed "
        "count Whole number Yes Proposed "
        "region Text No Proposed"
    ) in shown
    assert "Some stored values of count do not have the field's type" in shown
    assert "Check and confirm the fields" in shown
    assert "Convert stored values to the fields' types" in shown


def test_a_data_set_without_fields_says_they_will_be_proposed(world):
    shown = text(as_user(world.editor).get(f"/manage/data-sets/{world.data_set.pk}"))
    assert (
        "No fields are declared yet. They will be proposed from the data set's first data (its "
        "first write, upload or collector run) for you to check and confirm."
    ) in shown
    assert "Convert stored values" not in shown


def test_a_standard_types_fields_are_its_types(world):
    typed, _ = create_data_set(
        None, "cost", service=world.service, settings=DataSetSettings(standard_type="cost")
    )
    client = as_user(world.editor)
    shown = text(client.get(f"/manage/data-sets/{typed.pk}"))
    assert "Its fields are those of the standard type “Cost”" in shown
    assert "amount Number Yes Confirmed" in shown
    assert "Check and confirm the fields" not in shown
    response = client.post(f"/manage/data-sets/{typed.pk}/fields", {})
    assert response["Location"] == f"/manage/data-sets/{typed.pk}#fields"


def test_confirming_the_proposed_fields_with_changes(client, world):
    write(client, world.data_set, RECORDS)
    editor = as_user(world.editor)
    form = editor.get(f"/manage/data-sets/{world.data_set.pk}/fields")
    assert "region Proposed" in text(form)

    response = editor.post(
        f"/manage/data-sets/{world.data_set.pk}/fields",
        {
            "field-channel-type": "text",
            "field-channel-required": "on",
            "field-channel-allowed": "digital, phone, paper",
            "field-count-type": "whole-number",
            "field-count-required": "on",
            "field-region-type": "text",
            "field-region-remove": "on",
            "add-name": "paid",
            "add-type": "boolean",
        },
    )

    assert response["Location"] == f"/manage/data-sets/{world.data_set.pk}#fields"
    assert declared(world.data_set) == [
        ("channel", "text", True, ["digital", "phone", "paper"], True),
        ("count", "whole-number", True, [], True),
        ("paid", "boolean", False, [], True),
    ]
    assert AuditEntry.objects.get(action="data_set.fields").actor == world.editor
    after = text(editor.get(f"/manage/data-sets/{world.data_set.pk}"))
    assert "Fields confirmed: every write is now checked against them" in after
    assert "channel Text Yes digital, phone, paper Confirmed" in after
    assert "Change the fields" in after


def test_a_bad_new_field_is_an_error_and_nothing_is_saved(client, world):
    write(client, world.data_set, RECORDS)
    before = declared(world.data_set)

    response = as_user(world.editor).post(
        f"/manage/data-sets/{world.data_set.pk}/fields",
        {
            "field-channel-type": "text",
            "field-count-type": "whole-number",
            "field-count-allowed": "1, 2",
            "field-region-type": "text",
        },
    )

    assert response.status_code == 200
    assert summary_errors(response) == [
        "Only text fields can have allowed values, and 'count' is a whole number"
    ]
    assert declared(world.data_set) == before


def test_records_stored_before_fields_existed_are_offered_as_proposals(world):
    # Records stored before declarations existed: none were proposed when they arrived.
    Record.objects.create(
        data_set=world.data_set, record_id="old", updated_at=0, data={"visits": "1,200"}
    )
    shown = text(as_user(world.editor).get(f"/manage/data-sets/{world.data_set.pk}/fields"))
    assert "These fields and types were worked out from the data set's stored records." in shown
    assert "visits Proposed" in shown
    assert re.search(
        r'<option value="whole-number" selected>Whole number</option>',
        as_user(world.editor).get(f"/manage/data-sets/{world.data_set.pk}/fields").content.decode(),
    )


def test_the_convert_button_converts_stored_text_after_showing_what_changes(client, world):
    write(client, world.data_set, RECORDS)
    editor = as_user(world.editor)
    confirm_page = text(editor.get(f"/manage/data-sets/{world.data_set.pk}/fields/convert"))
    assert "2 values in 2 records would be converted (count: 2)." in confirm_page
    assert "Convert 2 records" in confirm_page
    assert [r.data["count"] for r in Record.objects.order_by("timestamp")] == ["1,200", "30"]

    response = editor.post(f"/manage/data-sets/{world.data_set.pk}/fields/convert")

    assert response["Location"] == f"/manage/data-sets/{world.data_set.pk}#fields"
    assert [r.data["count"] for r in Record.objects.order_by("timestamp")] == [1200, 30]
    after = text(editor.get(f"/manage/data-sets/{world.data_set.pk}"))
    assert "2 values in 2 records were converted (count: 2)" in after
    assert "Some stored values" not in after


def test_values_that_cannot_be_converted_are_listed_and_nothing_changes(client, world):
    write(
        client, world.data_set, [*RECORDS, {"_timestamp": "2024-01-03T00:00:00Z", "count": "lots"}]
    )
    declare_fields(None, world.data_set, [{"name": "count", "type": "whole-number"}])
    record_id = Record.objects.get(data_set=world.data_set, timestamp=1704240000).record_id
    editor = as_user(world.editor)

    response = editor.post(f"/manage/data-sets/{world.data_set.pk}/fields/convert")

    assert response.status_code == 200
    assert summary_errors(response) == [
        "1 stored value cannot be converted to the declared type, so nothing was changed"
    ]
    assert (
        "Each value that cannot be converted Record Field Value Problem "
        f"{record_id} count lots 'lots' is not a whole number"
    ) in text(response)
    assert "Convert 2 records" not in text(response)
    assert [r.data["count"] for r in Record.objects.order_by("timestamp")] == [
        "1,200",
        "30",
        "lots",
    ]
