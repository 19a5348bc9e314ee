"""Safeguards on accounts (issue 13, finding 6): the last active platform admin keeps their role,
no platform admin demotes or deactivates themselves, and the settings that make cookies and HSTS
depend on HTTPS and trust a proxy's header only when told to."""

import pytest

from perfplat.accounts.models import User
from perfplat.accounts.services import create_user, update_user
from perfplat.errors import Conflict, Forbidden
from perfplat.settings import https_settings

SELF = (
    "You cannot remove your own platform admin role or deactivate your own account: ask "
    "another platform admin"
)


@pytest.mark.parametrize(
    "change", [{"role": "editor", "organisation": "transport"}, {"is_active": False}]
)
def test_a_platform_admin_cannot_demote_or_deactivate_themselves(world, change):
    create_user(None, "second-admin@example.gov.uk", User.PLATFORM_ADMIN)
    with pytest.raises(Forbidden) as raised:
        update_user(world.platform_admin, world.platform_admin, **change)
    assert raised.value.message == SELF
    world.platform_admin.refresh_from_db()
    assert (world.platform_admin.role, world.platform_admin.is_active) == (
        User.PLATFORM_ADMIN,
        True,
    )


@pytest.mark.parametrize(
    "change", [{"role": "editor", "organisation": "transport"}, {"is_active": False}]
)
def test_the_last_active_platform_admin_cannot_be_demoted_or_deactivated(world, change):
    with pytest.raises(Conflict) as raised:
        update_user(None, world.platform_admin, **change)
    assert raised.value.message == (
        "admin@example.gov.uk is the last active platform admin: make someone else a "
        "platform admin first"
    )
    assert User.objects.get(pk=world.platform_admin.pk).is_platform_admin


def test_a_platform_admin_can_demote_another_while_one_remains(world):
    second = create_user(None, "second-admin@example.gov.uk", User.PLATFORM_ADMIN)
    update_user(world.platform_admin, second, role="editor", organisation="transport")
    assert User.objects.get(pk=second.pk).role == "editor"
    # Now the last one: the other way round is refused.
    with pytest.raises(Forbidden):
        update_user(world.platform_admin, world.platform_admin, is_active=False)


def test_an_inactive_platform_admin_does_not_count_as_the_one_remaining(world):
    second = create_user(None, "second-admin@example.gov.uk", User.PLATFORM_ADMIN)
    update_user(world.platform_admin, second, is_active=False)
    with pytest.raises(Conflict):
        update_user(None, world.platform_admin, is_active=False)


def test_the_api_refuses_an_admin_deactivating_themselves(client, world):
    response = client.patch(
        f"/api/users/{world.platform_admin.pk}",
        {"is_active": False},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {world.token(world.platform_admin)}",
    )
    assert response.status_code == 403
    assert response.json()["message"] == SELF


# HTTPS settings


def test_without_https_cookies_are_not_secure_and_no_proxy_header_is_believed():
    assert https_settings({}) == {
        "SESSION_COOKIE_SECURE": False,
        "CSRF_COOKIE_SECURE": False,
        "SECURE_HSTS_SECONDS": 0,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": False,
        "SECURE_PROXY_SSL_HEADER": None,
    }


def test_over_https_cookies_are_secure_and_hsts_lasts_a_year():
    chosen = https_settings({"PERFPLAT_HTTPS": "true"})
    assert (chosen["SESSION_COOKIE_SECURE"], chosen["CSRF_COOKIE_SECURE"]) == (True, True)
    assert chosen["SECURE_HSTS_SECONDS"] == 31_536_000
    assert chosen["SECURE_PROXY_SSL_HEADER"] is None
    assert (
        https_settings({"PERFPLAT_HTTPS": "1", "PERFPLAT_HSTS_SECONDS": "600"})[
            "SECURE_HSTS_SECONDS"
        ]
        == 600
    )


def test_the_proxy_header_is_believed_only_when_named():
    chosen = https_settings(
        {"PERFPLAT_HTTPS": "true", "PERFPLAT_PROXY_SSL_HEADER": "X-Forwarded-Proto"}
    )
    assert chosen["SECURE_PROXY_SSL_HEADER"] == ("HTTP_X_FORWARDED_PROTO", "https")


def test_a_client_claiming_https_in_a_header_is_not_believed_by_default(client, db, settings):
    settings.SECURE_HSTS_SECONDS = 31_536_000
    settings.SECURE_PROXY_SSL_HEADER = None
    claimed = client.get("/", HTTP_X_FORWARDED_PROTO="https")
    assert "Strict-Transport-Security" not in claimed
    assert client.get("/", secure=True)["Strict-Transport-Security"] == "max-age=31536000"
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    proxied = client.get("/", HTTP_X_FORWARDED_PROTO="https")
    assert proxied["Strict-Transport-Security"] == "max-age=31536000"
