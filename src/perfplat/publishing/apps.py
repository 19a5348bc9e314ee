from django.apps import AppConfig


class PublishingConfig(AppConfig):
    name = "perfplat.publishing"
    label = "publishing"
    verbose_name = "Publishing, assessments and readiness"
