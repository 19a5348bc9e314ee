from django.apps import AppConfig


class KpisConfig(AppConfig):
    name = "perfplat.kpis"
    label = "kpis"
