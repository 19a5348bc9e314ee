"""The management area's home page, /manage/: your services."""

from django.shortcuts import render

from perfplat.accounts.permissions import allowed, requires
from perfplat.registry import services as registry

from .common import answers


@answers("GET")
@requires("signed_in")
def home(request):
    user = request.user
    return render(
        request,
        "manage/home.html",
        {
            "services": registry.services_visible_to(user),
            "can_register": allowed(user, "service.create"),
            "can_manage_users": allowed(user, "users.manage"),
            "can_see_audit": allowed(user, "audit.view"),
        },
    )
