"""/api/data-sets/<id>/uploads: upload a spreadsheet, see its preview and row errors, commit it.

The upload goes through the same stages as on the pages (services.py): nothing is stored until
it is committed, and only when no row has an error.
"""

import orjson
from ninja import File, Form, Router
from ninja.files import UploadedFile
from ninja.responses import Status

from perfplat.accounts.permissions import requires
from perfplat.datasets.models import DataSet
from perfplat.errors import InvalidRequest

from . import services
from .models import Upload
from .schemas import UploadOut, UploadSummaryOut

router = Router(tags=["uploads"])


def _mapping(text: str) -> dict | None:
    if not text.strip():
        return None
    try:
        mapping = orjson.loads(text)
    except orjson.JSONDecodeError as error:
        raise InvalidRequest(f"mapping is not valid JSON: {error}", field="mapping")
    if not isinstance(mapping, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in mapping.items()
    ):
        raise InvalidRequest(
            'mapping must be a JSON object of column header -> field name ("" to leave a '
            "column out)",
            field="mapping",
        )
    return mapping


@router.post("/data-sets/{data_set_id}/uploads", response={201: UploadOut})
@requires("data_set.manage")
def create_upload(
    request,
    data_set_id: int,
    file: UploadedFile | None = File(None),  # noqa: B008 - django-ninja's way
    sheet: str = Form(""),  # noqa: B008
    mode: str = Form(Upload.APPEND),  # noqa: B008
    commit: bool = Form(False),  # noqa: B008
    mapping: str = Form(""),  # noqa: B008
    reason: str = Form(""),  # noqa: B008
):
    """Upload a spreadsheet (multipart/form-data: `file`, and optionally `sheet`, `mode` append
    or replace, `mapping` as JSON, `commit`, and `reason`: why, should it correct records of a
    published data set). The reply is the upload: its preview and every row
    error. With `commit=true` the records are also stored when no row has an error. A large
    file is handled in the background: its `status` is queued; follow its `url`."""
    if file is None:
        raise InvalidRequest(
            "Send the spreadsheet as the multipart/form-data field 'file'", field="file"
        )
    data_set = DataSet.objects.select_related("service__organisation").get(pk=data_set_id)
    upload = services.receive(
        data_set,
        services.read_file(file),
        file.name or "upload",
        actor=request.user,
        sheet=sheet,
        mode=mode,
        mapping=_mapping(mapping),
        reason=reason,
        commit=commit,
        size=file.size,
    )
    return Status(201, upload)


@router.get("/data-sets/{data_set_id}/uploads", response=list[UploadSummaryOut])
@requires("data_set.manage")
def list_uploads(request, data_set_id: int):
    """The data set's upload history, newest first."""
    data_set = DataSet.objects.get(pk=data_set_id)
    return services.history(data_set).select_related("data_set")


@router.get("/data-sets/{data_set_id}/uploads/{upload_id}", response=UploadOut)
@requires("data_set.manage")
def get_upload(request, data_set_id: int, upload_id: int):
    return services.find_upload(data_set_id, upload_id)


@router.post("/data-sets/{data_set_id}/uploads/{upload_id}/commit", response=UploadOut)
@requires("data_set.manage")
def commit_upload(request, data_set_id: int, upload_id: int):
    """Store the records of an upload that has no row errors (all of them, or none). A large
    upload is committed in the background: its `status` is queued, then committed."""
    upload = services.find_upload(data_set_id, upload_id)
    return services.commit(upload, request.user)
