"""/api/services/<service>/metrics, /api/metrics/<id> and the support check."""

from ninja import Router
from ninja.responses import Status

from perfplat.accounts.permissions import requires
from perfplat.errors import InvalidRequest
from perfplat.registry.models import Service

from . import services
from .models import Metric
from .schemas import MetricIn, MetricOut, MetricPatch, SupportCheckIn, VerdictOut

router = Router(tags=["metrics"])


def _with_sources(request, metrics):
    metrics = list(metrics)
    sources = services.metric_sources(metrics)
    for metric in metrics:
        metric.source = sources[metric.pk]
    return metrics


@router.get("/services/{service}/metrics", response=list[MetricOut])
@requires("service.view")
def list_metrics(request, service: str):
    """The service's metric catalogue, each with its source (manual, automatic, mixed)."""
    return _with_sources(request, Metric.objects.filter(service__slug=service))


@router.post("/services/{service}/metrics", response={201: MetricOut})
@requires("service.edit")
def create_metric(request, service: str, payload: MetricIn):
    metric = services.create_metric(
        request.user, Service.objects.get(slug=service), **payload.dict()
    )
    return Status(201, _with_sources(request, [metric])[0])


@router.get("/metrics/{metric_id}", response=MetricOut)
@requires("service.view")
def get_metric(request, metric_id: int):
    return _with_sources(request, [Metric.objects.get(pk=metric_id)])[0]


@router.patch("/metrics/{metric_id}", response=MetricOut)
@requires("service.edit")
def update_metric(request, metric_id: int, payload: MetricPatch):
    metric = Metric.objects.select_related("service").get(pk=metric_id)
    metric = services.update_metric(request.user, metric, **payload.dict(exclude_unset=True))
    return _with_sources(request, [metric])[0]


@router.delete("/metrics/{metric_id}", response={204: None})
@requires("service.edit")
def delete_metric(request, metric_id: int):
    services.delete_metric(request.user, Metric.objects.select_related("service").get(pk=metric_id))
    return Status(204, None)


@router.post("/services/{service}/support-check", response=list[VerdictOut])
@requires("service.view")
def support_check(request, service: str, payload: SupportCheckIn):
    """Check planned metrics against the platform: per metric, supported, or every problem
    found (unknown type, missing field, a value that would be rejected, a period the data
    cannot give). Nothing is written unless `record` is true (editors of the service): then
    the planned metrics are added to the catalogue with their verdicts (all or none), or, with
    no planned metrics, every catalogued metric is checked again and keeps its verdict; each
    verdict names the metric it is kept on."""
    planned = [
        services.PlannedMetric(
            **{
                **item.dict(),
                "fields": tuple(item.fields),
                "sample_records": tuple(item.sample_records),
            }
        )
        for item in payload.metrics
    ]
    if not payload.record:
        if not planned:
            raise InvalidRequest(
                "Give the planned metrics to check, or record: true to check the catalogue "
                "again and keep the verdicts",
                field="metrics",
            )
        return services.check_plan(planned)
    target = Service.objects.get(slug=service)
    if not planned:
        return [_kept(metric) for metric, _ in services.check_catalogue(request.user, target)]
    return [_kept(metric) for metric in services.save_plan(request.user, target, planned)]


def _kept(metric: Metric) -> dict:
    return {
        "name": metric.name,
        "supported": metric.support == "supported",
        "problems": metric.support_problems,
        "metric": metric.pk,
    }
