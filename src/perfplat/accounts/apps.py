from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "perfplat.accounts"
    label = "accounts"
