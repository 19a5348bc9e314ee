"""Settings a deployment must not leave at their development defaults.

With DEBUG off (production), the development SECRET_KEY would let anyone who has read the
source forge sessions and password reset links, and the default ALLOWED_HOSTS answer for host
names nobody chose. `perfplat serve` refuses to start with either (exit code 2), and
`perfplat check --deploy` reports them with Django's own deployment checks.
"""

from django.core import checks

KEY_ADVICE = (
    "set SECRET_KEY to a long random value, such as the output of "
    "python3 -c 'import secrets; print(secrets.token_urlsafe(50))'"
)
HOSTS_ADVICE = "set ALLOWED_HOSTS to the comma-separated host names the platform answers for"


def unsafe_settings(config) -> list[tuple[str, str]]:
    """What is unsafe about `config` (django.conf.settings, or any object with its
    attributes) for a server that others reach, as (check id, message) pairs: none when DEBUG
    is on (local development)."""
    if config.DEBUG:
        return []
    problems = []
    if config.SECRET_KEY == config.DEVELOPMENT_SECRET_KEY:
        problems.append(
            ("perfplat.E001", f"SECRET_KEY is missing or the development key: {KEY_ADVICE}")
        )
    if not config.ALLOWED_HOSTS_GIVEN:
        problems.append(("perfplat.E002", f"ALLOWED_HOSTS is missing: {HOSTS_ADVICE}"))
    return problems


@checks.register(checks.Tags.security, deploy=True)
def check_deployment_settings(app_configs, **kwargs):
    from django.conf import settings

    return [checks.Error(message, id=code) for code, message in unsafe_settings(settings)]
