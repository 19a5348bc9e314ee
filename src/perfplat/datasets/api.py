"""/api/services/<service>/data-sets and /api/data-sets/<id>: data set administration."""

from ninja import Router
from ninja.responses import Status

from perfplat.accounts.permissions import requires
from perfplat.errors import InvalidRequest
from perfplat.registry.models import Service

from . import fields, services, stored_values
from .models import DataSet
from .schemas import (
    ConversionOut,
    ConvertIn,
    DataSetCreated,
    DataSetIn,
    DataSetOut,
    DataSetPatch,
    FieldsIn,
    FieldsOut,
    MessageOut,
    TokenOut,
)

router = Router(tags=["data sets"])


def _with_sources(data_sets):
    data_sets = list(data_sets)
    sources = services.sources_of(data_sets)
    for data_set in data_sets:
        data_set.source = sources[data_set.pk]
    return data_sets


@router.get("/services/{service}/data-sets", response=list[DataSetOut])
@requires("service.view")
def list_data_sets(request, service: str):
    return _with_sources(DataSet.objects.filter(service__slug=service).select_related("service"))


@router.post("/services/{service}/data-sets", response={201: DataSetCreated})
@requires("data_set.manage")
def create_data_set(request, service: str, payload: DataSetIn):
    """Create a data set; the reply carries its bearer token, shown only this once."""
    fields = payload.dict()
    settings = services.DataSetSettings(
        auto_ids=tuple(fields["auto_ids"]),
        raw_queries_allowed=fields["raw_queries_allowed"],
        max_age_expected=fields["max_age_expected"],
        published=fields["published"],
        cache_max_age=fields["cache_max_age"],
        upload_format=fields["upload_format"],
        standard_type=fields["standard_type"],
    )
    data_set, token = services.create_data_set(
        fields["data_group"],
        fields["data_type"],
        name=fields["name"],
        settings=settings,
        service=Service.objects.get(slug=service),
        actor=request.user,
    )
    data_set.token = token
    return Status(201, _with_sources([data_set])[0])


@router.get("/data-sets/{data_set_id}", response=DataSetOut)
@requires("data_set.manage")
def get_data_set(request, data_set_id: int):
    return _with_sources([DataSet.objects.select_related("service").get(pk=data_set_id)])[0]


@router.patch("/data-sets/{data_set_id}", response=DataSetOut)
@requires("data_set.manage")
def update_data_set(request, data_set_id: int, payload: DataSetPatch):
    changes = payload.dict(exclude_unset=True)
    if "auto_ids" in changes:
        if changes["auto_ids"] is None:
            raise InvalidRequest("auto_ids must be a list of field names", field="auto_ids")
        changes["auto_ids"] = tuple(changes["auto_ids"])
    data_set = DataSet.objects.select_related("service").get(pk=data_set_id)
    return _with_sources([services.update_data_set(request.user, data_set, **changes)])[0]


@router.post("/data-sets/{data_set_id}/rotate-token", response=TokenOut)
@requires("data_set.manage")
def rotate_token(request, data_set_id: int):
    """Revoke the data set's token and issue a new one, shown only in this reply."""
    data_set = DataSet.objects.select_related("service").get(pk=data_set_id)
    token = services.rotate_token(data_set, actor=request.user)
    return {"token": token, "message": "The old token no longer works"}


@router.post("/data-sets/{data_set_id}/empty", response=MessageOut)
@requires("data_set.manage")
def empty_data_set(request, data_set_id: int, reason: str = ""):
    """Delete every record. Emptying a published data set is a public correction: say why in
    the `reason` query parameter (optional), as on the write API."""
    data_set = DataSet.objects.select_related("service").get(pk=data_set_id)
    services.empty(data_set, actor=request.user, reason=reason)
    return {"status": "ok", "message": f"{data_set.name} now contains 0 records"}


# declared fields


def _fields_of(data_set: DataSet) -> dict:
    return {
        "standard_type": data_set.standard_type,
        "fields": [declaration.as_dict() for declaration in fields.declared_fields(data_set)],
        "needs_conversion": fields.needs_conversion(data_set),
    }


@router.get("/data-sets/{data_set_id}/fields", response=FieldsOut)
@requires("data_set.manage")
def get_fields(request, data_set_id: int):
    """The data set's declared fields: its standard type's, or those proposed from its first
    data (`confirmed` false) and confirmed by its team."""
    return _fields_of(DataSet.objects.get(pk=data_set_id))


@router.put("/data-sets/{data_set_id}/fields", response=FieldsOut)
@requires("data_set.manage")
def put_fields(request, data_set_id: int, payload: FieldsIn):
    """Declare and confirm a free-form data set's fields: from then on every write is checked
    against them (the JSON write API strictly: "1200" is not a whole number)."""
    data_set = DataSet.objects.select_related("service").get(pk=data_set_id)
    services.declare_fields(request.user, data_set, [item.dict() for item in payload.fields])
    return _fields_of(data_set)


@router.post("/data-sets/{data_set_id}/fields/convert", response=ConversionOut)
@requires("data_set.manage")
def convert_fields(request, data_set_id: int, payload: ConvertIn):
    """Convert the stored values of the declared fields to their types ("1,200" -> 1200), all
    or none: when a value cannot be converted nothing changes and the answer is a 400 listing
    them (a dry run lists them with a 200)."""
    data_set = DataSet.objects.select_related("service").get(pk=data_set_id)
    report = stored_values.convert_stored_values(data_set, request.user, dry_run=payload.dry_run)
    if report.problem_count and not payload.dry_run:
        raise InvalidRequest(
            report.summary + ": " + report.problems[0].text,
            messages=[problem.text for problem in report.problems],
        )
    return {
        "status": "ok",
        "message": report.summary,
        "dry_run": report.dry_run,
        "changed_records": report.changed_records,
        "changed_values": report.changed_values,
        "problems": [problem.as_dict() for problem in report.problems],
        "problem_count": report.problem_count,
    }
