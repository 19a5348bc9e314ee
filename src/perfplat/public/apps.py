from django.apps import AppConfig


class PublicConfig(AppConfig):
    name = "perfplat.public"
    label = "public"
    verbose_name = "Public pages"
