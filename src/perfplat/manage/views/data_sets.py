"""Data sets: creating one for a service, its page, changing its settings, replacing its
write token (the one page that shows a token) and emptying it."""

import json
from dataclasses import replace

from django.contrib import messages
from django.db.models import F
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.dateformat import format as format_date
from django.utils.html import format_html
from django.views.decorators.cache import never_cache

from perfplat.accounts.permissions import requires
from perfplat.datasets import services as data_sets
from perfplat.datasets.models import DataSet
from perfplat.registry.models import Service

from .. import forms
from .common import (
    MANAGE,
    _data,
    _form_page,
    _link,
    _seconds,
    _service_crumb,
    _submit,
    _summary,
    answers,
)


def _settings(data) -> data_sets.DataSetSettings:
    return data_sets.DataSetSettings(
        auto_ids=data["auto_ids"],
        raw_queries_allowed=data["raw_queries_allowed"],
        max_age_expected=data["max_age_expected"],
        published=data["published"],
        cache_max_age=data["cache_max_age"],
        upload_format=data["upload_format"],
    )


def _write_url(request, data_set) -> str:
    return request.build_absolute_uri(
        reverse("data-set", args=[data_set.data_group, data_set.data_type])
    )


def _token_page(request, data_set, token, title, breadcrumbs):
    """The one page that ever shows a data set's token (the database keeps only its hash)."""
    write_url = _write_url(request, data_set)
    example = {"_timestamp": "2025-01-06T00:00:00Z"}
    example.update({name: "example" for name in data_set.auto_ids if name != "_timestamp"})
    example["count"] = 1
    return render(
        request,
        "manage/data_set_token.html",
        {
            "data_set": data_set,
            "token": token,
            "title": title,
            "write_url": write_url,
            "example_record": json.dumps(example),
            "breadcrumbs": breadcrumbs,
        },
    )


@answers("GET", "POST")
@requires("data_set.manage")
@never_cache
def data_set_new(request, service):
    service = get_object_or_404(Service.objects.select_related("organisation"), slug=service)
    form = forms.DataSetForm(_data(request))
    created = _submit(
        form,
        lambda data: data_sets.create_data_set(
            None,
            data["data_type"],
            settings=replace(_settings(data), standard_type=data["standard_type"]),
            service=service,
            actor=request.user,
        ),
    )
    crumbs = [MANAGE, _service_crumb(service)]
    if created:
        data_set, token = created
        # Shown in this response, not after a redirect: the token must never be stored.
        return _token_page(request, data_set, token, "Data set created", crumbs)
    return _form_page(
        request,
        form,
        "Create a data set",
        "Create data set",
        crumbs,
        caption=str(service),
        intro=f"Its address will be {service.slug}/<data type>. Programs write its records "
        "with the token you will see on the next page.",
        cancel=crumbs[-1][1],
    )


def _data_set_of(data_set_id) -> DataSet:
    return get_object_or_404(
        DataSet.objects.select_related("service__organisation"), pk=data_set_id
    )


def _data_set_crumbs(data_set, here=False):
    crumbs = [MANAGE]
    if data_set.service_id:
        crumbs.append(_service_crumb(data_set.service))
    if here:
        crumbs.append((str(data_set), reverse("manage-data-set", args=[data_set.pk])))
    return crumbs


@answers("GET")
@requires("data_set.manage")
def data_set(request, data_set_id):
    from .data_set_fields import fields_section

    data_set = _data_set_of(data_set_id)
    tokens = data_set.tokens.order_by(F("revoked_at").desc(nulls_first=True), "-created_at")
    service = data_set.service
    last_write = data_set.last_write_at
    record_count = data_set.record_set.count()
    return render(
        request,
        "manage/data_set.html",
        {
            "data_set": data_set,
            "tokens": tokens,
            **fields_section(data_set, record_count),
            "summary": _summary(
                ("Address", str(data_set)),
                ("Name", data_set.name),
                (
                    "Service",
                    _link(reverse("service", args=[service.slug]), service) if service else "",
                ),
                (
                    "Write URL",
                    format_html('<code class="app-token">{}</code>', _write_url(request, data_set)),
                ),
                ("Records", record_count),
                (
                    "Source",
                    render_to_string(
                        "manage/_source_tag.html", {"source": data_sets.source_of(data_set)}
                    ),
                ),
                (
                    "Last write",
                    format_date(timezone.localtime(last_write), "j F Y, H:i")
                    if last_write
                    else "Never",
                ),
                ("Published", "Yes: anyone can read its records" if data_set.published else "No"),
                ("Raw queries", "Allowed" if data_set.raw_queries_allowed else "Not allowed"),
                ("Fields that identify a record", ", ".join(data_set.auto_ids)),
                ("Maximum age", _seconds(data_set.max_age_expected)),
                ("Cache time", _seconds(data_set.cache_max_age) or "The default"),
                ("Spreadsheet format", data_set.get_upload_format_display()),
            ),
            "breadcrumbs": _data_set_crumbs(data_set),
        },
    )


@answers("GET", "POST")
@requires("data_set.manage")
def data_set_edit(request, data_set_id):
    data_set = _data_set_of(data_set_id)
    form = forms.DataSetSettingsForm(
        _data(request), initial=forms.DataSetSettingsForm.initial_for(data_set)
    )
    updated = _submit(form, lambda data: data_sets.update_data_set(request.user, data_set, **data))
    if updated:
        messages.success(request, "Settings saved")
        return redirect("manage-data-set", data_set_id=data_set.pk)
    crumbs = _data_set_crumbs(data_set, here=True)
    return _form_page(
        request,
        form,
        "Change the data set's settings",
        "Save settings",
        crumbs,
        caption=str(data_set),
        cancel=crumbs[-1][1],
    )


@answers("GET", "POST")
@requires("data_set.manage")
@never_cache
def data_set_rotate_token(request, data_set_id):
    data_set = _data_set_of(data_set_id)
    crumbs = _data_set_crumbs(data_set, here=True)
    if request.method == "POST":
        token = data_sets.rotate_token(data_set, actor=request.user)
        return _token_page(request, data_set, token, "New token issued", crumbs)
    return render(
        request, "manage/data_set_rotate.html", {"data_set": data_set, "breadcrumbs": crumbs}
    )


@answers("GET", "POST")
@requires("data_set.manage")
def data_set_empty(request, data_set_id):
    data_set = _data_set_of(data_set_id)
    form = forms.EmptyDataSetForm(_data(request))
    emptied = _submit(
        form,
        lambda data: data_sets.empty(data_set, actor=request.user, reason=data["reason"]) or True,
    )
    if emptied:
        messages.success(request, f"{data_set} emptied: it now contains 0 records")
        return redirect("manage-data-set", data_set_id=data_set.pk)
    return render(
        request,
        "manage/data_set_empty.html",
        {
            "caption": f"Data set {data_set}",
            "title": "Empty the data set?",
            "button": "Empty the data set",
            "cancel": reverse("manage-data-set", args=[data_set.pk]),
            "record_count": data_set.record_set.count(),
            "form": form,
            "published": data_set.published,
            "breadcrumbs": _data_set_crumbs(data_set, here=True),
        },
    )
