from django.apps import AppConfig


class ManageConfig(AppConfig):
    name = "perfplat.manage"
    label = "manage"
    verbose_name = "Management pages"
