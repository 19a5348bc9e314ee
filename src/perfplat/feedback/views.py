"""/feedback (anyone: a form, from the phase banner and each dashboard) and /manage/feedback
(signed in: the feedback on the services one works on; all of it for platform admins)."""

from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache

from perfplat.accounts.permissions import requires
from perfplat.errors import InvalidRequest
from perfplat.manage.views.common import answers
from perfplat.registry.services import public_services

from . import services
from .forms import FeedbackForm

PAGE_SIZE = 25


def _service(request):
    """The public service the feedback is about (?service=<slug>), or None."""
    slug = request.GET.get("service", "")
    if not slug:
        return None
    return public_services().select_related("organisation").filter(slug=slug[:100]).first()


@answers("GET", "POST")
@requires("public")
@never_cache
def feedback(request):
    service = _service(request)
    initial = {"page": request.GET.get("page", "")}
    form = FeedbackForm(
        request.POST if request.method == "POST" else None, initial=initial, service=service
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.submit_feedback(
                service, data.get("useful", ""), data["message"], data.get("page", "")
            )
        except InvalidRequest as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            return redirect(f"/feedback/sent{'?service=' + service.slug if service else ''}")
    return render(
        request,
        "feedback/form.html",
        {"form": form, "service": service, "breadcrumbs": _crumbs(service)},
    )


@answers("GET")
@requires("public")
def feedback_sent(request):
    service = _service(request)
    return render(
        request, "feedback/sent.html", {"service": service, "breadcrumbs": _crumbs(service)}
    )


def _crumbs(service):
    crumbs = [("Home", "/")]
    if service is not None:
        crumbs += [("Services", "/services"), (service.name, f"/services/{service.slug}")]
    return crumbs


@answers("GET")
@requires("signed_in")
def feedback_list(request):
    page = Paginator(services.feedback_for(request.user), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "feedback/list.html",
        {"page": page, "breadcrumbs": [("Manage", "/manage/")]},
    )
