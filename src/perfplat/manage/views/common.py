"""What the management pages share: `answers` (the methods a page answers), `MANAGE` (the
first breadcrumb), putting a form's input through a service function, and the helpers that
build summary rows, links, dates and breadcrumbs."""

import functools

from django.shortcuts import render
from django.urls import reverse, reverse_lazy
from django.utils.dateformat import format as format_date
from django.utils.html import format_html

from perfplat.errors import Conflict, InvalidRequest, MethodNotAllowed

from .. import forms

# Domain errors about the input, shown on the form; refusals and unknown objects become pages.
FORM_ERRORS = (InvalidRequest, Conflict)


def answers(*methods):
    """The HTTP methods a page answers (and HEAD with GET); any other gets a 405 page. Set on
    the decorated view as `permission_methods`, which the permission matrix test reads."""
    accepted = set(methods) | ({"HEAD"} if "GET" in methods else set())

    def decorate(view):
        @functools.wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.method not in accepted:
                raise MethodNotAllowed(request.method, list(methods))
            return view(request, *args, **kwargs)

        wrapper.permission_methods = tuple(methods)
        return wrapper

    return decorate


def _data(request):
    """The submitted form data of a POST; None (an unbound form) otherwise."""
    return request.POST if request.method == "POST" else None


def _submit(form, action, instance=None):
    """Run `action(cleaned_data)` when the bound form is valid and return its result. A domain
    error about the input is put on the form instead (and None returned); `instance`, which the
    failed change may have altered in memory, is reloaded."""
    if not form.is_bound or not form.is_valid():
        return None
    try:
        return action(form.cleaned_data)
    except FORM_ERRORS as error:
        forms.add_domain_error(form, error)
        if instance is not None:
            instance.refresh_from_db()
        return None


def _form_page(request, form, title, button, breadcrumbs=(), **context):
    return render(
        request,
        "manage/form.html",
        {"form": form, "title": title, "button": button, "breadcrumbs": breadcrumbs, **context},
    )


MANAGE = ("Manage", reverse_lazy("manage-home"))


def _summary(*rows) -> list[dict]:
    """Rows for components/summary_list.html from (key, value) pairs."""
    return [{"key": key, "value": value} for key, value in rows]


def _link(href, text):
    return format_html('<a class="govuk-link" href="{}">{}</a>', href, text)


def _day(value) -> str:
    return format_date(value, "j F Y") if value else ""


def _seconds(value) -> str:
    return "" if value is None else f"{value} second{'' if value == 1 else 's'}"


def _service_crumb(service):
    return (str(service), reverse("service", args=[service.slug]))
