"""Response shapes of the upload API."""

from datetime import datetime

from ninja import Schema

from perfplat.datasets.schemas import FieldOut


class RowErrorOut(Schema):
    row: int
    column: str
    value: str
    problem: str


class UploadSummaryOut(Schema):
    id: int
    data_set: str
    file_name: str
    size: int
    file_format: str
    sheet: str
    mode: str
    # received, queued, previewed (checked, no errors), invalid (row errors, or the file could
    # not be read: see failure_message), committing, committed, failed.
    status: str
    row_count: int
    error_count: int
    progress: int
    stored_count: int | None
    failure_message: str
    # The email address of who uploaded it; null for the command line.
    uploaded_by: str | None
    created_at: datetime
    finished_at: datetime | None
    url: str

    @staticmethod
    def resolve_data_set(upload) -> str:
        return str(upload.data_set)

    @staticmethod
    def resolve_uploaded_by(upload) -> str | None:
        return upload.user.email if upload.user_id else None

    @staticmethod
    def resolve_url(upload) -> str:
        return f"/api/data-sets/{upload.data_set_id}/uploads/{upload.pk}"


class UploadOut(UploadSummaryOut):
    sheet_names: list[str]
    headers: list[str]
    # header -> field ("" for a column that is not uploaded)
    mapping: dict[str, str]
    # The first rows as they will be stored: [{"row": 2, "record": {...}}, ...].
    preview: list[dict]
    # The first 1,000 row errors; error_count says how many there are in all.
    errors: list[RowErrorOut]
    # The fields the data set had not declared, with the types their columns were read as
    # (proposed: committing keeps them as the data set's proposed fields).
    proposed_fields: list[FieldOut]
