"""Settings of a production deployment: the shared cache, and refusing development secrets."""

import re
from pathlib import Path
from types import SimpleNamespace

import pytest

from perfplat.cli import main
from perfplat.deployment.checks import check_deployment_settings, unsafe_settings
from perfplat.settings import DEVELOPMENT_SECRET_KEY, cache_settings

SECRET_KEY_PROBLEM = (
    "SECRET_KEY is missing or the development key: set SECRET_KEY to a long random value, "
    "such as the output of python3 -c 'import secrets; print(secrets.token_urlsafe(50))'"
)
HOSTS_PROBLEM = (
    "ALLOWED_HOSTS is missing: set ALLOWED_HOSTS to the comma-separated host names the "
    "platform answers for"
)


def test_the_cache_is_per_process_memory_without_redis():
    assert cache_settings("", "")["BACKEND"] == "django.core.cache.backends.locmem.LocMemCache"


def test_redis_url_makes_redis_the_shared_cache():
    assert cache_settings("", "redis://127.0.0.1:6379/0") == {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:6379/0",
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
    }


def test_perfplat_cache_still_chooses_when_redis_url_is_set():
    chosen = cache_settings("database", "redis://127.0.0.1:6379/0")
    assert chosen["BACKEND"] == "django.core.cache.backends.db.DatabaseCache"
    assert cache_settings("memory", "redis://127.0.0.1:6379/0")["LOCATION"] == "perfplat"


def test_redis_cache_without_redis_url_is_refused():
    with pytest.raises(ValueError) as raised:
        cache_settings("redis", "")
    assert str(raised.value) == (
        "PERFPLAT_CACHE=redis needs REDIS_URL (such as redis://127.0.0.1:6379/0)"
    )


def test_a_redis_address_belongs_in_redis_url():
    with pytest.raises(ValueError) as raised:
        cache_settings("redis://127.0.0.1:6379/0", "")
    assert str(raised.value) == (
        "Give Redis's address as REDIS_URL, and PERFPLAT_CACHE=redis or nothing"
    )


def test_an_unknown_cache_is_refused():
    with pytest.raises(ValueError) as raised:
        cache_settings("memcached", "")
    assert str(raised.value) == "PERFPLAT_CACHE must be memory, database or redis, not 'memcached'"


def config(debug=False, key=DEVELOPMENT_SECRET_KEY, hosts_given=False):
    return SimpleNamespace(
        DEBUG=debug,
        SECRET_KEY=key,
        DEVELOPMENT_SECRET_KEY=DEVELOPMENT_SECRET_KEY,
        ALLOWED_HOSTS_GIVEN=hosts_given,
    )


def test_development_defaults_are_unsafe_with_debug_off():
    assert unsafe_settings(config()) == [
        ("perfplat.E001", SECRET_KEY_PROBLEM),
        ("perfplat.E002", HOSTS_PROBLEM),
    ]


def test_a_missing_allowed_hosts_alone_is_unsafe():
    assert unsafe_settings(config(key="k" * 60)) == [("perfplat.E002", HOSTS_PROBLEM)]


def test_production_settings_are_safe():
    assert unsafe_settings(config(key="k" * 60, hosts_given=True)) == []


def test_debug_allows_the_development_defaults():
    assert unsafe_settings(config(debug=True)) == []


def test_the_deploy_check_reports_the_development_key(settings):
    settings.SECRET_KEY = DEVELOPMENT_SECRET_KEY
    settings.ALLOWED_HOSTS_GIVEN = True
    settings.DEBUG = False
    errors = check_deployment_settings(None)
    assert [(error.id, error.msg) for error in errors] == [("perfplat.E001", SECRET_KEY_PROBLEM)]


def test_serve_refuses_the_development_key_with_debug_off(settings, capsys):
    settings.SECRET_KEY = DEVELOPMENT_SECRET_KEY
    settings.ALLOWED_HOSTS_GIVEN = True
    settings.DEBUG = False
    assert main(["serve"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == (
        "perfplat: error: refusing to serve with DEBUG off:\n"
        f"  {SECRET_KEY_PROBLEM}\n"
        "  For local development only, DEBUG=true allows the development defaults.\n"
    )


def test_serve_refuses_missing_allowed_hosts_with_debug_off(settings, capsys):
    settings.SECRET_KEY = "k" * 60
    settings.ALLOWED_HOSTS_GIVEN = False
    settings.DEBUG = False
    assert main(["serve"]) == 2
    assert capsys.readouterr().err == (
        "perfplat: error: refusing to serve with DEBUG off:\n"
        f"  {HOSTS_PROBLEM}\n"
        "  For local development only, DEBUG=true allows the development defaults.\n"
    )


def test_every_setting_read_from_the_environment_is_in_the_readme_table():
    root = Path(__file__).resolve().parents[2]
    source = (root / "src" / "perfplat" / "settings.py").read_text()
    names = set(re.findall(r'(?:env_bool|env_int|environ\.get)\("([A-Z_]+)"', source))
    table = (root / "README.md").read_text().split("## Configuration", 1)[1]
    assert {"SECRET_KEY", "REDIS_URL", "DATABASE_REPLICA_URLS"} <= names
    assert sorted(name for name in names if f"`{name}`" not in table) == []


def test_check_deploy_reports_the_development_defaults_with_exit_code_2(settings, capsys):
    settings.SECRET_KEY = DEVELOPMENT_SECRET_KEY
    settings.ALLOWED_HOSTS_GIVEN = False
    settings.DEBUG = False
    assert main(["check", "--deploy"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("perfplat: error: System check identified some issues:")
    assert f"?: (perfplat.E001) {SECRET_KEY_PROBLEM}\n" in err
    assert f"?: (perfplat.E002) {HOSTS_PROBLEM}\n" in err
