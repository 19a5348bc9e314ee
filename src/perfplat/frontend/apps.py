from django.apps import AppConfig


class FrontendConfig(AppConfig):
    name = "perfplat.frontend"
    label = "frontend"
    verbose_name = "Front end"
