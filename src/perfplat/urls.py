"""perfplat's URLs. The catch-all comes last: unknown URLs answer a JSON 404 to programs and the
GOV.UK "Page not found" page to browsers (perfplat.frontend.views.not_found)."""

from django.urls import path, re_path

from perfplat.api import api
from perfplat.datasets import views as data
from perfplat.frontend import views as frontend

urlpatterns = [
    path("", frontend.home, name="home"),
    path("api/", api.urls),
    path("data/<str:data_group>/<str:data_type>", data.data_set_view, name="data-set"),
    path(
        "data/<str:data_group>/<str:data_type>/<path:record_id>",
        data.record_view,
        name="data-set-record",
    ),
    path("_status", data.status_view, name="status"),
    path("_status/data-sets", data.stale_data_sets_view, name="status-data-sets"),
    re_path(r"^(?P<unknown_path>.*)$", frontend.not_found),
]

handler404 = "perfplat.frontend.views.page_not_found"
handler500 = "perfplat.frontend.views.server_error"
