"""What the publishing pages share with each other and with the management area (whose
patterns they follow: `answers` + `requires` on every view, forms that show domain errors
beside their field, success banners after a redirect)."""

import re

from django.shortcuts import get_object_or_404
from django.urls import reverse

from perfplat.errors import Conflict, InvalidRequest
from perfplat.manage.forms import add_domain_error
from perfplat.manage.views.common import MANAGE, answers  # noqa: F401 (re-exported)
from perfplat.registry.models import Service

# Domain errors about the input, shown on the form; refusals and unknown objects become pages.
FORM_ERRORS = (InvalidRequest, Conflict)
# "modules[2].query: ..." -> "...": beside the field, the module and field go without saying.
_WHERE = re.compile(r"^modules\[\d+\](?:\.\w+)?:? ")


def data(request):
    return request.POST if request.method == "POST" else None


def service_of(slug: str) -> Service:
    return get_object_or_404(Service.objects.select_related("organisation"), slug=slug)


def service_crumb(service) -> tuple[str, str]:
    return (str(service), reverse("service", args=[service.slug]))


def editor_crumb(service) -> tuple[str, str]:
    return ("Dashboard", reverse("publishing:editor", args=[service.slug]))


def crumbs(service, *more) -> list:
    return [MANAGE, service_crumb(service), *more]


def show_error(form, error, field: str | None = None) -> None:
    """Put a domain error on the form: beside `field` (or the field the error names), else
    above the form."""
    if field is not None and field in form.fields:
        form.add_error(field, _WHERE.sub("", error.message))
    else:
        add_domain_error(form, error)


def submit(form, action, field_of=None):
    """Run `action(cleaned_data)` when the bound form is valid and return its result; a domain
    error about the input goes on the form (beside `field_of(error)` when given) and None is
    returned."""
    if not form.is_bound or not form.is_valid():
        return None
    try:
        return action(form.cleaned_data)
    except FORM_ERRORS as error:
        show_error(form, error, field_of(error) if field_of else None)
        return None
