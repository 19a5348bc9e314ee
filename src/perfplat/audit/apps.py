from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "perfplat.audit"
    label = "audit"
