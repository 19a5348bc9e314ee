from django.apps import AppConfig


class BeaconConfig(AppConfig):
    name = "perfplat.beacon"
    label = "beacon"
    verbose_name = "Journey beacon"
