"""The beacon's pages, included by perfplat.urls (the events themselves are answered by
middleware.BeaconMiddleware before URLs are resolved)."""

from django.urls import path

from . import views

app_name = "beacon"

urlpatterns = [
    path("manage/services/<service>/beacon", views.beacon_page, name="manage"),
    path("manage/services/<service>/beacon/turn-off", views.turn_off, name="turn-off"),
    path("privacy/beacon", views.privacy, name="privacy"),
]
