from django.apps import AppConfig


class DashboardsConfig(AppConfig):
    name = "perfplat.dashboards"
    label = "dashboards"
