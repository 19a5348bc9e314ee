"""/api/data-sets/<id>/collectors: configure a data set's collectors, run them now or as a dry
run, pause them (PATCH paused) and read their run history. Same rules and checks as the pages
(services.py)."""

from ninja import Router
from ninja.responses import Status

from perfplat.accounts.permissions import requires
from perfplat.datasets.models import DataSet

from . import services
from .schemas import CollectorIn, CollectorOut, CollectorPatch, MessageOut, RunOut

router = Router(tags=["collectors"])


def _data_set(data_set_id: int) -> DataSet:
    return DataSet.objects.select_related("service__organisation").get(pk=data_set_id)


@router.get("/data-sets/{data_set_id}/collectors", response=list[CollectorOut])
@requires("data_set.manage")
def list_collectors(request, data_set_id: int):
    return list(services.collectors_of(_data_set(data_set_id)))


@router.post("/data-sets/{data_set_id}/collectors", response={201: CollectorOut})
@requires("data_set.manage")
def create_collector(request, data_set_id: int, payload: CollectorIn):
    """Add a collector; its first run is scheduled for now."""
    collector = services.create_collector(request.user, _data_set(data_set_id), **payload.dict())
    return Status(201, services.find_collector(data_set_id, collector.pk))


@router.get("/data-sets/{data_set_id}/collectors/{collector_id}", response=CollectorOut)
@requires("data_set.manage")
def get_collector(request, data_set_id: int, collector_id: int):
    return services.find_collector(data_set_id, collector_id)


@router.patch("/data-sets/{data_set_id}/collectors/{collector_id}", response=CollectorOut)
@requires("data_set.manage")
def update_collector(request, data_set_id: int, collector_id: int, payload: CollectorPatch):
    """Change settings; `{"paused": true}` pauses it, `{"paused": false}` resumes it."""
    collector = services.find_collector(data_set_id, collector_id)
    changes = {name: value for name, value in payload.dict(exclude_unset=True).items()}
    services.update_collector(request.user, collector, **changes)
    return services.find_collector(data_set_id, collector_id)


@router.delete("/data-sets/{data_set_id}/collectors/{collector_id}", response=MessageOut)
@requires("data_set.manage")
def delete_collector(request, data_set_id: int, collector_id: int):
    collector = services.find_collector(data_set_id, collector_id)
    services.delete_collector(request.user, collector)
    return {"status": "ok", "message": f"Deleted the collector {collector.name}"}


@router.post("/data-sets/{data_set_id}/collectors/{collector_id}/run", response=RunOut)
@requires("data_set.manage")
def run_collector(request, data_set_id: int, collector_id: int):
    """Run the collector now and wait for the run (409 while another run is in progress)."""
    return services.run_now(request.user, services.find_collector(data_set_id, collector_id))


@router.post("/data-sets/{data_set_id}/collectors/{collector_id}/dry-run", response=RunOut)
@requires("data_set.manage")
def dry_run_collector(request, data_set_id: int, collector_id: int):
    """Fetch and check what the collector would write, and write nothing."""
    return services.dry_run(request.user, services.find_collector(data_set_id, collector_id))


@router.get("/data-sets/{data_set_id}/collectors/{collector_id}/runs", response=list[RunOut])
@requires("data_set.manage")
def collector_runs(request, data_set_id: int, collector_id: int):
    """The collector's latest runs, newest first."""
    return list(services.history(services.find_collector(data_set_id, collector_id)))
