from django.apps import AppConfig


class MetricsConfig(AppConfig):
    name = "perfplat.metrics"
    label = "metrics"
