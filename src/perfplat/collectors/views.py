"""The collector pages under /manage/data-sets/<id>/collectors/: add and change collectors, run
them now or as a dry run, pause and resume them, and read their run history. Server-rendered
with GOV.UK Frontend; every action is a POST form with its CSRF token, so no JavaScript is
needed. Each view declares its rule with `requires` (checked on the data set its URL names) and
its methods with `answers`."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateformat import format as format_date
from django.utils.html import format_html

from perfplat.accounts.permissions import requires
from perfplat.datasets.models import Correction, DataSet
from perfplat.datasets.services import freshness
from perfplat.errors import InvalidRequest, PerfplatError
from perfplat.ingest import conversion
from perfplat.manage.views.common import answers

from . import services
from .forms import CollectorForm, interval_text
from .models import Collector, CollectorRun


def _data_set(data_set_id: int) -> DataSet:
    return get_object_or_404(
        DataSet.objects.select_related("service__organisation"), pk=data_set_id
    )


def _crumbs(data_set: DataSet, *more) -> list[tuple[str, str]]:
    crumbs = [("Manage", reverse("manage-home"))]
    if data_set.service_id:
        crumbs.append((data_set.service.name, reverse("service", args=[data_set.service.slug])))
    crumbs.append((f"Data set {data_set}", reverse("manage-data-set", args=[data_set.pk])))
    crumbs.extend(more)
    return crumbs


def _list_crumb(data_set: DataSet) -> tuple[str, str]:
    return ("Collectors", reverse("collectors:list", args=[data_set.pk]))


def _when(moment) -> str:
    return format_date(timezone.localtime(moment), "j F Y, H:i:s") if moment else ""


STATUS_TAGS = {
    "paused": "govuk-tag--grey",
    "failing": "govuk-tag--red",
    "working": "govuk-tag--green",
    "not run yet": "govuk-tag--blue",
}


def status_of(collector: Collector) -> tuple[str, str]:
    """The text and GOV.UK tag colour of a collector's state."""
    return collector.status.capitalize(), STATUS_TAGS[collector.status]


def _tag(text: str, classes: str) -> str:
    return format_html('<strong class="govuk-tag {}">{}</strong>', classes, text)


def _form_error(form, error: InvalidRequest) -> None:
    form.add_error(error.field if error.field in form.fields else None, error.message)


def _rows(*pairs) -> list[dict]:
    return [{"key": key, "value": value} for key, value in pairs]


# the data set's collectors


@answers("GET")
@requires("data_set.manage")
def collector_list(request, data_set_id: int):
    data_set = _data_set(data_set_id)
    collectors = services.collectors_of(data_set)
    rows = [
        [
            format_html(
                '<a class="govuk-link" href="{}">{}</a>',
                reverse("collectors:detail", args=[data_set.pk, collector.pk]),
                collector.name,
            ),
            collector.get_format_display(),
            interval_text(collector.interval),
            _tag(*status_of(collector)),
            _when(collector.last_run_at) or "Never",
        ]
        for collector in collectors
    ]
    return render(
        request,
        "collectors/list.html",
        {
            "data_set": data_set,
            "freshness": freshness(data_set),
            "head": ["Collector", "Format", "Schedule", "Status", "Last run"],
            "rows": rows,
            "breadcrumbs": _crumbs(data_set),
        },
    )


@answers("GET", "POST")
@requires("data_set.manage")
def collector_new(request, data_set_id: int):
    data_set = _data_set(data_set_id)
    form = CollectorForm(
        request.POST if request.method == "POST" else None,
        initial={"format": Collector.CSV, "interval": 3600},
    )
    if form.is_bound and form.is_valid():
        try:
            collector = services.create_collector(request.user, data_set, **form.settings())
        except InvalidRequest as error:
            _form_error(form, error)
        else:
            messages.success(request, f"Collector “{collector.name}” added: it runs in a moment")
            return redirect("collectors:detail", data_set.pk, collector.pk)
    crumbs = _crumbs(data_set, _list_crumb(data_set))
    return render(
        request,
        "manage/form.html",
        {
            "form": form,
            "title": "Add a collector",
            "button": "Add collector",
            "caption": f"Data set {data_set}",
            "intro": (
                "A collector fetches a CSV, JSON or XLSX file from a web address on a schedule "
                "and writes its rows to this data set, checked like every other write."
            ),
            "cancel": crumbs[-1][1],
            "breadcrumbs": crumbs,
        },
    )


# one collector


def _summary(collector: Collector) -> list[dict]:
    job = getattr(collector, "job", None)
    mapping = collector.mapping
    rows = [
        ("Status", _tag(*status_of(collector))),
        ("Web address", format_html('<code class="app-token">{}</code>', collector.url)),
        ("Format", collector.get_format_display()),
    ]
    if collector.format == Collector.XLSX:
        rows.append(("Sheet", collector.sheet or "The first sheet"))
    rows += [
        (
            "Columns and fields",
            format_html(
                "{}",
                "; ".join(
                    f"{header} → {field or '(left out)'}" for header, field in mapping.items()
                )
                or "Matched by name",
            ),
        ),
        ("Schedule", interval_text(collector.interval)),
    ]
    if job is not None and not collector.paused:
        rows.append(("Next run", _when(job.next_run_at)))
    if collector.failure_count:
        retries = (
            f"{collector.failure_count} failed run{'s' if collector.failure_count != 1 else ''} "
            f"in a row since {_when(collector.failing_since)}"
        )
        if job is not None and job.attempts:
            retries += f"; tried again less often each time (attempt {job.attempts + 1} next)"
        rows.append(("Failures", retries))
    rows.append(("Last success", _when(collector.last_success_at) or "Never"))
    return _rows(*rows)


def history_rows(collector: Collector, runs) -> list[list]:
    return [
        [
            format_html(
                '<a class="govuk-link" href="{}">{}</a>',
                reverse("collectors:run", args=[collector.data_set_id, collector.pk, run.pk]),
                _when(run.started_at),
            ),
            run.get_trigger_display(),
            _tag(
                run.get_outcome_display(),
                "govuk-tag--green" if run.outcome == CollectorRun.SUCCEEDED else "govuk-tag--red",
            ),
            run.rows,
            run.records,
            run.error,
        ]
        for run in runs
    ]


@answers("GET")
@requires("data_set.manage")
def collector_detail(request, data_set_id: int, collector_id: int):
    collector = services.find_collector(data_set_id, collector_id)
    data_set = collector.data_set
    return render(
        request,
        "collectors/detail.html",
        {
            "data_set": data_set,
            "collector": collector,
            "summary": _summary(collector),
            "history_head": ["When", "How", "Outcome", "Rows", "Records", "Error"],
            "history": history_rows(collector, services.history(collector)),
            "history_numeric": [3, 4],
            "max_reason_length": Correction.MAX_REASON_LENGTH,
            "breadcrumbs": _crumbs(data_set, _list_crumb(data_set)),
        },
    )


@answers("GET", "POST")
@requires("data_set.manage")
def collector_edit(request, data_set_id: int, collector_id: int):
    collector = services.find_collector(data_set_id, collector_id)
    data_set = collector.data_set
    form = CollectorForm(
        request.POST if request.method == "POST" else None,
        initial=CollectorForm.initial_for(collector),
        current_interval=collector.interval,
    )
    if form.is_bound and form.is_valid():
        try:
            services.update_collector(request.user, collector, **form.settings())
        except InvalidRequest as error:
            collector.refresh_from_db()
            _form_error(form, error)
        else:
            messages.success(request, "Collector settings saved")
            return redirect("collectors:detail", data_set.pk, collector.pk)
    detail = reverse("collectors:detail", args=[data_set.pk, collector.pk])
    return render(
        request,
        "manage/form.html",
        {
            "form": form,
            "title": "Change the collector's settings",
            "button": "Save settings",
            "caption": collector.name,
            "cancel": detail,
            "breadcrumbs": _crumbs(data_set, _list_crumb(data_set), (collector.name, detail)),
        },
    )


@answers("POST")
@requires("data_set.manage")
def collector_run(request, data_set_id: int, collector_id: int):
    collector = services.find_collector(data_set_id, collector_id)
    try:
        run = services.run_now(request.user, collector, reason=request.POST.get("reason", ""))
    except PerfplatError as error:
        messages.info(request, error.message)
        return redirect("collectors:detail", data_set_id, collector.pk)
    if run.outcome == CollectorRun.SUCCEEDED:
        messages.success(
            request, f"Collected {run.records} record{'s' if run.records != 1 else ''}"
        )
    return redirect("collectors:run", data_set_id, collector.pk, run.pk)


@answers("POST")
@requires("data_set.manage")
def collector_dry_run(request, data_set_id: int, collector_id: int):
    collector = services.find_collector(data_set_id, collector_id)
    run = services.dry_run(request.user, collector)
    return redirect("collectors:run", data_set_id, collector.pk, run.pk)


def _set_paused(request, data_set_id: int, collector_id: int, paused: bool):
    collector = services.find_collector(data_set_id, collector_id)
    services.update_collector(request.user, collector, paused=paused)
    messages.success(
        request,
        "Collector paused: it will not run on its schedule until you resume it"
        if paused
        else "Collector resumed: it runs again in a moment",
    )
    return redirect("collectors:detail", data_set_id, collector.pk)


@answers("POST")
@requires("data_set.manage")
def collector_pause(request, data_set_id: int, collector_id: int):
    return _set_paused(request, data_set_id, collector_id, True)


@answers("POST")
@requires("data_set.manage")
def collector_resume(request, data_set_id: int, collector_id: int):
    return _set_paused(request, data_set_id, collector_id, False)


@answers("GET", "POST")
@requires("data_set.manage")
def collector_delete(request, data_set_id: int, collector_id: int):
    collector = services.find_collector(data_set_id, collector_id)
    data_set = collector.data_set
    if request.method == "POST":
        services.delete_collector(request.user, collector)
        messages.success(request, f"Collector “{collector.name}” deleted")
        return redirect("collectors:list", data_set.pk)
    detail = reverse("collectors:detail", args=[data_set.pk, collector.pk])
    return render(
        request,
        "collectors/delete.html",
        {
            "caption": f"Data set {data_set}",
            "title": f"Delete the collector {collector.name}?",
            "button": "Delete collector",
            "cancel": detail,
            "breadcrumbs": _crumbs(data_set, _list_crumb(data_set), (collector.name, detail)),
        },
    )


# one run


@answers("GET")
@requires("data_set.manage")
def collector_run_detail(request, data_set_id: int, collector_id: int, run_id: int):
    collector = services.find_collector(data_set_id, collector_id)
    run = get_object_or_404(
        CollectorRun.objects.select_related("user"), pk=run_id, collector=collector
    )
    data_set = collector.data_set
    seen = dict.fromkeys(key for record in run.preview for key in record)
    # As the uploads' preview: the time first, the fields, and the (long) _id last.
    columns = [
        *(name for name in ("_timestamp",) if name in seen),
        *(name for name in seen if name not in ("_id", "_timestamp")),
        *(name for name in ("_id",) if name in seen),
    ]
    detail = reverse("collectors:detail", args=[data_set.pk, collector.pk])
    summary = [
        ("When", _when(run.started_at)),
        ("How", run.get_trigger_display() + (f" by {run.user}" if run.user else "")),
        (
            "Outcome",
            _tag(
                run.get_outcome_display(),
                "govuk-tag--green" if run.outcome == CollectorRun.SUCCEEDED else "govuk-tag--red",
            ),
        ),
        ("Took", f"{(run.finished_at - run.started_at).total_seconds():.1f} seconds"),
    ]
    if run.http_status:
        summary.append(("Response", f"HTTP {run.http_status}, {run.size} bytes"))
    summary.append(("Rows read", run.rows))
    summary.append(
        ("Records that would be written" if run.dry_run else "Records written", run.records)
    )
    return render(
        request,
        "collectors/run.html",
        {
            "data_set": data_set,
            "collector": collector,
            "run": run,
            "summary": _rows(*summary),
            "error_head": conversion.ROW_ERROR_HEAD,
            "error_rows": conversion.row_error_cells(run.errors),
            "more_errors": max(run.error_count - len(run.errors), 0),
            "preview_head": columns,
            "preview_rows": [
                [conversion.record_cell(record.get(c)) for c in columns] for record in run.preview
            ],
            "more_records": max(run.records - len(run.preview), 0),
            "breadcrumbs": _crumbs(data_set, _list_crumb(data_set), (collector.name, detail)),
        },
    )
