"""perfplat's URLs. The catch-all comes last: unknown URLs answer a JSON 404 to programs and the
GOV.UK "Page not found" page to browsers (perfplat.frontend.views.not_found)."""

from django.urls import include, path, re_path
from django.views.generic import RedirectView

from perfplat.api import api
from perfplat.datasets import views as data
from perfplat.feedback import views as feedback
from perfplat.frontend import views as frontend

urlpatterns = [
    # The public pages (perfplat.public): "/", /services, /organisations, /compare.
    path("", include("perfplat.public.urls")),
    path("api/", api.urls),
    path("manage", RedirectView.as_view(url="/manage/")),
    # Spreadsheet uploads (perfplat.uploads), before the other management pages.
    path("manage/data-sets/<int:data_set_id>/uploads/", include("perfplat.uploads.urls")),
    # Collectors (perfplat.collectors) and the emails sent (perfplat.notifications).
    path("manage/data-sets/<int:data_set_id>/collectors/", include("perfplat.collectors.urls")),
    path("manage/notifications", include("perfplat.notifications.urls")),
    path("manage/feedback", feedback.feedback_list, name="manage-feedback"),
    # Feedback from the public (perfplat.feedback): /feedback, /feedback/sent.
    path("", include("perfplat.feedback.urls")),
    # The dashboard editor, publishing, assessments and readiness (perfplat.publishing).
    path("manage/", include("perfplat.publishing.urls")),
    # The metric catalogue and the support check (perfplat.metrics).
    path("manage/", include("perfplat.metrics.urls")),
    path("manage/", include("perfplat.manage.urls")),
    # The journey beacon's management page and privacy page (perfplat.beacon); its events
    # are answered by perfplat.beacon.middleware before any URL is resolved.
    path("", include("perfplat.beacon.urls")),
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
