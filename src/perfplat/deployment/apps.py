from django.apps import AppConfig


class DeploymentConfig(AppConfig):
    name = "perfplat.deployment"
    label = "deployment"

    def ready(self):
        # Registers the deployment checks with Django's check framework (`check --deploy`).
        from . import checks  # noqa: F401
