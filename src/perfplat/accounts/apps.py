from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "perfplat.accounts"
    label = "accounts"

    def ready(self):
        from django.contrib.auth.signals import user_logged_in, user_logged_out

        from .services import audit_sign_in, audit_sign_out

        user_logged_in.connect(audit_sign_in, dispatch_uid="perfplat.audit_sign_in")
        user_logged_out.connect(audit_sign_out, dispatch_uid="perfplat.audit_sign_out")
