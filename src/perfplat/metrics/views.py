"""The metric catalogue pages under /manage/ and the alpha "can the platform support your
metrics" check.

Views stay thin, as in perfplat.manage: a form parses the input, a metrics.services function
checks permission, validates, makes the change and writes the audit entry, and a domain error it
raises is shown beside the field it names. The support check writes nothing: the checked plan
is kept in the session (its sample data reduced to the problems found) until the team saves it
to the catalogue or checks another.
"""

from django.conf import settings
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from perfplat.accounts.permissions import allowed, requires
from perfplat.errors import Conflict, InvalidRequest, PerfplatError
from perfplat.ingest import parsing
from perfplat.manage.forms import add_domain_error
from perfplat.manage.views.common import MANAGE, answers
from perfplat.registry.models import Service

from . import plans, services
from .forms import FREE_FORM, MetricForm, PlanFileForm, PlannedMetricForm, SaveForm
from .models import Metric

# Domain errors about the input, shown on the form; refusals and unknown objects become pages.
FORM_ERRORS = (InvalidRequest, Conflict)


def _data(request):
    return request.POST if request.method == "POST" else None


def _service(slug: str) -> Service:
    return get_object_or_404(Service.objects.select_related("organisation"), slug=slug)


def _metric(metric_id: int) -> Metric:
    return get_object_or_404(
        Metric.objects.select_related("service__organisation", "data_set"), pk=metric_id
    )


def _crumbs(service, *more) -> list:
    return [MANAGE, (str(service), reverse("service", args=[service.slug])), *more]


def _catalogue_crumb(service) -> tuple[str, str]:
    return ("Metric catalogue", reverse("metrics:catalogue", args=[service.slug]))


def _submit(form, action, instance=None):
    """Run `action(cleaned_data)` when the bound form is valid and return its result; a domain
    error about the input goes on the form (and None is returned)."""
    if not form.is_bound or not form.is_valid():
        return None
    try:
        return action(form.cleaned_data)
    except FORM_ERRORS as error:
        add_domain_error(form, error)
        if instance is not None:
            # The failed change may have altered it in memory.
            instance.refresh_from_db()
        return None


def _form_page(request, form, title, button, service, cancel, caption=None):
    return render(
        request,
        "manage/form.html",
        {
            "form": form,
            "title": title,
            "button": button,
            "caption": caption or str(service),
            "cancel": cancel,
            "breadcrumbs": _crumbs(service, _catalogue_crumb(service)),
        },
    )


# the catalogue


@answers("GET")
@requires("service.view")
def catalogue(request, service):
    service = _service(service)
    metrics = list(service.metrics.select_related("data_set"))
    # One query for every metric's source (datasets.services.sources_of).
    sources = services.metric_sources(metrics)
    return render(
        request,
        "metrics/catalogue.html",
        {
            "service": service,
            "metrics": [(metric, sources[metric.pk]) for metric in metrics],
            "can_edit": allowed(request.user, "service.edit", service),
            "can_manage_data_sets": allowed(request.user, "data_set.manage", service),
            "breadcrumbs": _crumbs(service),
        },
    )


@answers("GET", "POST")
@requires("service.edit")
def metric_new(request, service):
    service = _service(service)
    form = MetricForm(_data(request), service=service)
    created = _submit(form, lambda data: services.create_metric(request.user, service, **data))
    if created:
        messages.success(request, f"{created.name} added to the metric catalogue")
        return redirect("metrics:catalogue", service=service.slug)
    return _form_page(
        request,
        form,
        "Add a metric",
        "Add metric",
        service,
        cancel=reverse("metrics:catalogue", args=[service.slug]),
    )


@answers("GET", "POST")
@requires("service.edit")
def metric_edit(request, metric_id):
    metric = _metric(metric_id)
    service = metric.service
    form = MetricForm(
        _data(request),
        service=service,
        metric=metric,
        initial=MetricForm.initial_for(metric),
    )
    updated = _submit(
        form,
        lambda data: services.update_metric(request.user, metric, **data),
        instance=metric,
    )
    if updated:
        messages.success(request, f"Changes to {updated.name} saved")
        return redirect("metrics:catalogue", service=service.slug)
    return _form_page(
        request,
        form,
        f"Change the metric {metric.name}",
        "Save changes",
        service,
        cancel=reverse("metrics:catalogue", args=[service.slug]),
    )


@answers("GET", "POST")
@requires("service.edit")
def metric_delete(request, metric_id):
    metric = _metric(metric_id)
    service = metric.service
    if request.method == "POST":
        services.delete_metric(request.user, metric)
        messages.success(request, f"{metric.name} removed from the metric catalogue")
        return redirect("metrics:catalogue", service=service.slug)
    return render(
        request,
        "metrics/delete.html",
        {
            "caption": service.name,
            "title": f"Delete the metric {metric.name}?",
            "button": "Delete metric",
            "cancel": reverse("metrics:catalogue", args=[service.slug]),
            "breadcrumbs": _crumbs(service, _catalogue_crumb(service)),
        },
    )


# the support check


def _plan_key(service) -> str:
    return f"perfplat.metric-plan.{service.pk}"


def _kept_plan(request, service):
    data = request.session.get(_plan_key(service))
    return None if data is None else plans.plan_from_data(data)


def _file_bytes(uploaded) -> bytes:
    limit = settings.PERFPLAT_MAX_UPLOAD_BYTES
    parsing.check_size(uploaded.size, limit)
    return uploaded.read(limit + 1)


def _file_error(form, field: str, error: PerfplatError) -> None:
    for message in error.messages or [error.message]:
        form.add_error(field, message)


def _read_sample(form, uploaded, data_set_type: str):
    """The sample data file read for a type, or None (its error put on the form)."""
    try:
        return plans.read_sample(
            _file_bytes(uploaded), data_set_type, settings.PERFPLAT_MAX_UPLOAD_BYTES
        )
    except PerfplatError as error:
        _file_error(form, "sample", error)
        return None


def _one_metric(form: PlannedMetricForm):
    """The planned metric of the form, or None (the form has errors)."""
    if not form.is_valid():
        return None
    planned = services.PlannedMetric(**form.planned_values())
    if form.cleaned_data["sample"]:
        sample = _read_sample(form, form.cleaned_data["sample"], planned.data_set_type)
        if sample is None:
            return None
        planned = plans.with_sample(planned, sample)
    return [planned]


def _plan_file(form: PlanFileForm):
    """The planned metrics of the file (with the sample data file given to those of its
    type), or None (the form has errors)."""
    if not form.is_valid():
        return None
    try:
        planned = plans.read_plan(
            _file_bytes(form.cleaned_data["plan"]), settings.PERFPLAT_MAX_UPLOAD_BYTES
        )
    except PerfplatError as error:
        _file_error(form, "plan", error)
        return None
    uploaded = form.cleaned_data["sample"]
    if uploaded:
        chosen = form.cleaned_data["sample_type"]
        data_set_type = "" if chosen == FREE_FORM else chosen
        if not any(metric.data_set_type == data_set_type for metric in planned):
            form.add_error(
                "sample_type",
                f"No planned metric in the file is of the type {chosen}: choose the type of "
                "the sample data",
            )
            return None
        sample = _read_sample(form, uploaded, data_set_type)
        if sample is None:
            return None
        planned = [
            plans.with_sample(metric, sample) if metric.data_set_type == data_set_type else metric
            for metric in planned
        ]
    return planned


@answers("GET", "POST")
@requires("service.view")
def support_check(request, service):
    """The planned metrics to check: one described in a form, or a file of them."""
    service = _service(service)
    kind = request.POST.get("kind") if request.method == "POST" else None
    files = request.FILES if request.method == "POST" else None
    one = PlannedMetricForm(
        _data(request) if kind != "plan" else None,
        files if kind != "plan" else None,
        prefix="metric",
    )
    from_file = PlanFileForm(
        _data(request) if kind == "plan" else None,
        files if kind == "plan" else None,
        prefix="plan",
    )
    submitted = from_file if kind == "plan" else one
    if submitted.is_bound:
        planned = _plan_file(from_file) if kind == "plan" else _one_metric(one)
        if planned is not None:
            # Kept without the sample records: only the problems found in them.
            request.session[_plan_key(service)] = plans.plan_data(
                [plans.checked(metric) for metric in planned]
            )
            return redirect("metrics:results", service=service.slug)
    return render(
        request,
        "metrics/check.html",
        {
            "service": service,
            "one": one,
            "from_file": from_file,
            # base.html starts the title with "Error: " when `form` has errors.
            "form": submitted if submitted.is_bound else None,
            "breadcrumbs": _crumbs(service, _catalogue_crumb(service)),
        },
    )


def _results_page(request, service, planned, form):
    verdicts = services.check_plan(planned)
    return render(
        request,
        "metrics/results.html",
        {
            "service": service,
            "results": list(zip(planned, verdicts, strict=True)),
            "supported": sum(1 for verdict in verdicts if verdict.supported),
            "form": form,
            "can_save": allowed(request.user, "service.edit", service),
            "breadcrumbs": _crumbs(service, _catalogue_crumb(service)),
        },
    )


@answers("GET")
@requires("service.view")
def support_results(request, service):
    """Per planned metric: supported, or every problem. Nothing has been written."""
    service = _service(service)
    planned = _kept_plan(request, service)
    if planned is None:
        return redirect("metrics:check", service=service.slug)
    return _results_page(request, service, planned, SaveForm(planned=planned))


@answers("POST")
@requires("service.edit")
def save_plan(request, service):
    """Add the chosen checked metrics to the catalogue, each with its verdict."""
    service = _service(service)
    planned = _kept_plan(request, service)
    if planned is None:
        return redirect("metrics:check", service=service.slug)
    form = SaveForm(request.POST, planned=planned)
    saved = _submit(
        form,
        lambda data: services.save_plan(
            request.user, service, [planned[index] for index in data["metrics"]]
        ),
    )
    if saved:
        del request.session[_plan_key(service)]
        count = len(saved)
        messages.success(
            request, f"{count} metric{'s' if count != 1 else ''} added to the metric catalogue"
        )
        return redirect("metrics:catalogue", service=service.slug)
    return _results_page(request, service, planned, form)
