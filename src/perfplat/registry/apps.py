from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "perfplat.registry"
    label = "registry"
