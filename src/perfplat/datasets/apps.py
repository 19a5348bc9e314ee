from django.apps import AppConfig


class DatasetsConfig(AppConfig):
    name = "perfplat.datasets"
    label = "datasets"
    verbose_name = "Data sets"
