from django.apps import AppConfig


class UploadsConfig(AppConfig):
    name = "perfplat.uploads"
    label = "uploads"
    verbose_name = "Spreadsheet uploads"
