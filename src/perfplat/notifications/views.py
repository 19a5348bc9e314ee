"""/manage/notifications: the emails the platform has sent to the signed-in person."""

from django.core.paginator import Paginator
from django.shortcuts import render

from perfplat.accounts.permissions import requires
from perfplat.manage.views.common import answers

from . import services

PAGE_SIZE = 25
STATUS_TAGS = {
    "pending": "govuk-tag--blue",
    "sending": "govuk-tag--blue",
    "sent": "govuk-tag--green",
    "failed": "govuk-tag--red",
}


@answers("GET")
@requires("signed_in")
def notifications(request):
    page = Paginator(services.messages_for(request.user), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    for message in page:
        message.tag_class = STATUS_TAGS.get(message.status, "")
    return render(
        request,
        "notifications/messages.html",
        {"page": page, "breadcrumbs": [("Manage", "/manage/")]},
    )
