"""The metric catalogue and the support check under /manage/ (included by perfplat.urls before
the management area)."""

from django.urls import path

from . import views

app_name = "metrics"

METRICS = "services/<service>/metrics"

urlpatterns = [
    path(METRICS, views.catalogue, name="catalogue"),
    path(f"{METRICS}/new", views.metric_new, name="new"),
    path("metrics/<int:metric_id>/edit", views.metric_edit, name="edit"),
    path("metrics/<int:metric_id>/delete", views.metric_delete, name="delete"),
    # the alpha support check: a dry run that writes nothing, then saving the plan
    path(f"{METRICS}/check", views.support_check, name="check"),
    path(f"{METRICS}/check/results", views.support_results, name="results"),
    path(f"{METRICS}/check/save", views.save_plan, name="save"),
]
