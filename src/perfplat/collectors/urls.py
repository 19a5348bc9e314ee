"""/manage/data-sets/<data_set_id>/collectors/...: included by perfplat.urls."""

from django.urls import path

from . import views

app_name = "collectors"

urlpatterns = [
    path("", views.collector_list, name="list"),
    path("new", views.collector_new, name="new"),
    path("<int:collector_id>", views.collector_detail, name="detail"),
    path("<int:collector_id>/edit", views.collector_edit, name="edit"),
    path("<int:collector_id>/run", views.collector_run, name="run-now"),
    path("<int:collector_id>/dry-run", views.collector_dry_run, name="dry-run"),
    path("<int:collector_id>/pause", views.collector_pause, name="pause"),
    path("<int:collector_id>/resume", views.collector_resume, name="resume"),
    path("<int:collector_id>/delete", views.collector_delete, name="delete"),
    path("<int:collector_id>/runs/<int:run_id>", views.collector_run_detail, name="run"),
]
