from django.apps import AppConfig


class CollectorsConfig(AppConfig):
    name = "perfplat.collectors"
    label = "collectors"
    verbose_name = "Collectors and scheduled jobs"
