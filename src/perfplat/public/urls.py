"""The public pages and their data twins (`.json`, `.csv`), included by perfplat.urls before
its catch-all. Names start with "public-", except the home page's "home", which every page's
header links to."""

from django.urls import path, register_converter

from . import views


class FormatConverter:
    regex = "json|csv"

    def to_python(self, value):
        return value

    def to_url(self, value):
        return value


register_converter(FormatConverter, "format")

urlpatterns = [
    path("", views.home, name="home"),
    path("index.<format:fmt>", views.home, name="public-home-data"),
    path("services", views.services, name="public-services"),
    path("services.<format:fmt>", views.services, name="public-services-data"),
    path("services/<slug:service>", views.dashboard, name="public-service"),
    path("services/<slug:service>.<format:fmt>", views.dashboard, name="public-service-data"),
    path("services/<slug:service>/modules/<int:number>", views.module_page, name="public-module"),
    path("embed/services/<slug:service>", views.embed_module, name="public-embed"),
    path(
        "embed/services/<slug:service>/modules/<int:number>",
        views.embed_module,
        name="public-embed-module",
    ),
    path(
        "services/<slug:service>/modules/<int:number>.<format:fmt>",
        views.module_data,
        name="public-module-data",
    ),
    path("organisations/<slug:organisation>", views.organisation, name="public-organisation"),
    path(
        "organisations/<slug:organisation>.<format:fmt>",
        views.organisation,
        name="public-organisation-data",
    ),
    path("corrections", views.corrections, name="public-corrections"),
    path("corrections.<format:fmt>", views.corrections, name="public-corrections-data"),
    path(
        "corrections.atom",
        views.feed,
        {"publications": False},
        name="public-corrections-feed",
    ),
    path("corrections/<int:correction_id>", views.correction, name="public-correction"),
    path(
        "corrections/<int:correction_id>.<format:fmt>",
        views.correction,
        name="public-correction-data",
    ),
    path("feed.atom", views.feed, name="public-feed"),
    path(
        "services/<slug:service>/corrections",
        views.corrections,
        name="public-service-corrections",
    ),
    path(
        "services/<slug:service>/corrections.<format:fmt>",
        views.corrections,
        name="public-service-corrections-data",
    ),
    path(
        "services/<slug:service>/corrections.atom",
        views.feed,
        {"publications": False},
        name="public-service-corrections-feed",
    ),
    path("services/<slug:service>/feed.atom", views.feed, name="public-service-feed"),
    path("data.zip", views.data_zip, name="public-data-zip"),
    path("open-data", views.open_data, name="public-open-data"),
    path("accessibility", views.accessibility, name="public-accessibility"),
    path("privacy", views.privacy, name="public-privacy"),
    path("cookies", views.cookies, name="public-cookies"),
    path("compare", views.compare, name="public-compare"),
    path("compare.<format:fmt>", views.compare, name="public-compare-data"),
]
