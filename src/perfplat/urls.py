"""perfplat's URLs. The catch-all comes last so that every unknown URL answers a JSON 404."""

from django.urls import path, re_path

from perfplat.datasets import views as data

urlpatterns = [
    path("data/<str:data_group>/<str:data_type>", data.data_set_view, name="data-set"),
    path(
        "data/<str:data_group>/<str:data_type>/<path:record_id>",
        data.record_view,
        name="data-set-record",
    ),
    path("_status", data.status_view, name="status"),
    path("_status/data-sets", data.stale_data_sets_view, name="status-data-sets"),
    re_path(r"^(?P<unknown_path>.*)$", data.not_found_view),
]
