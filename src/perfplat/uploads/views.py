"""The upload pages under /manage/data-sets/<id>/uploads/: upload a spreadsheet, check its
preview and row errors (and map its columns), commit it, watch background work, see the
history. They work without JavaScript: background work is followed by a page that refreshes
itself."""

from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from perfplat.accounts.permissions import requires
from perfplat.collectors.scheduler import recover_abandoned_tasks
from perfplat.datasets.fields import FieldDeclaration
from perfplat.datasets.models import DataSet
from perfplat.errors import PerfplatError
from perfplat.ingest import conversion
from perfplat.ingest.mapping import field_choices

from . import services
from .forms import MappingForm, UploadForm
from .models import Upload


def _data_set(data_set_id: int) -> DataSet:
    return get_object_or_404(
        DataSet.objects.select_related("service__organisation"), pk=data_set_id
    )


def _breadcrumbs(data_set: DataSet, *more) -> list[tuple[str, str]]:
    return [
        ("Manage", "/manage/"),
        (f"Data set {data_set}", f"/manage/data-sets/{data_set.pk}"),
        *more,
    ]


def _history_crumb(data_set: DataSet) -> tuple[str, str]:
    return ("Uploads", reverse("uploads:history", args=[data_set.pk]))


@requires("data_set.manage")
def upload_history(request, data_set_id: int):
    data_set = _data_set(data_set_id)
    return render(
        request,
        "uploads/history.html",
        {
            "data_set": data_set,
            "uploads": services.history(data_set),
            "breadcrumbs": _breadcrumbs(data_set),
        },
    )


upload_history.permission_methods = ("GET",)


@requires("data_set.manage")
def new_upload(request, data_set_id: int):
    data_set = _data_set(data_set_id)
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        uploaded = form.cleaned_data["file"]
        try:
            upload = services.receive(
                data_set,
                services.read_file(uploaded),
                uploaded.name,
                actor=request.user,
                sheet=form.cleaned_data["sheet"],
                mode=form.cleaned_data["mode"],
                reason=form.cleaned_data["reason"],
                size=uploaded.size,
            )
        except PerfplatError as error:
            form.add_error(error.field if error.field in form.fields else "file", error.message)
        else:
            return redirect("uploads:detail", data_set.pk, upload.pk)
    return render(
        request,
        "uploads/upload_form.html",
        {
            "data_set": data_set,
            "form": form,
            "breadcrumbs": _breadcrumbs(data_set, _history_crumb(data_set)),
        },
    )


new_upload.permission_methods = ("GET", "POST")


def _mapping_form(upload: Upload, data=None) -> MappingForm:
    return MappingForm(
        data,
        headers=upload.headers,
        mapping=upload.mapping,
        choices=field_choices(upload.data_set, upload.headers),
        sheet=upload.sheet,
        sheet_names=upload.sheet_names,
    )


@requires("data_set.manage")
def upload_detail(request, data_set_id: int, upload_id: int):
    """The upload's preview and row errors; while background work runs, its progress."""
    upload = services.find_upload(data_set_id, upload_id)
    data_set = upload.data_set
    if upload.in_progress and recover_abandoned_tasks():
        # Its worker may have died: then it has just been marked failed, with the reason.
        upload.refresh_from_db()
    form = None
    if request.method == "POST" and upload.headers and not upload.in_progress:
        form = _mapping_form(upload, request.POST)
        if form.is_valid():
            sheet = form.chosen_sheet()
            services.change_mapping(upload, request.user, form.mapping(), sheet=sheet)
            return redirect("uploads:detail", data_set.pk, upload.pk)
    context = {
        "data_set": data_set,
        "upload": upload,
        "breadcrumbs": _breadcrumbs(data_set, _history_crumb(data_set)),
    }
    if upload.in_progress:
        return render(request, "uploads/progress.html", context)
    if form is None and upload.headers and upload.status != Upload.COMMITTED:
        form = _mapping_form(upload)
    columns = services.preview_columns(upload)
    context.update(
        form=form,
        preview_head=["Row", *columns],
        preview_rows=[
            [row["row"], *(conversion.record_cell(row["record"].get(name)) for name in columns)]
            for row in upload.preview
        ],
        error_head=conversion.ROW_ERROR_HEAD,
        error_rows=conversion.row_error_cells(upload.errors),
        numeric_first=[0],
        more_errors=upload.error_count - len(upload.errors),
        proposed_fields=[FieldDeclaration.from_dict(item) for item in upload.proposed_fields],
        records=data_set.record_set.count() if upload.status == Upload.COMMITTED else None,
    )
    return render(request, "uploads/preview.html", context)


upload_detail.permission_methods = ("GET", "POST")


@require_POST
@requires("data_set.manage")
def commit_upload(request, data_set_id: int, upload_id: int):
    upload = services.find_upload(data_set_id, upload_id)
    services.commit(upload, request.user)
    return redirect("uploads:detail", upload.data_set_id, upload.pk)


commit_upload.permission_methods = ("POST",)
