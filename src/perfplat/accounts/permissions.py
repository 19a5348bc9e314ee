"""Who may do what: every rule of perfplat's roles, in one place.

Roles: a platform admin may do everything; an organisation admin manages the users, services,
data sets and publishing of its organisation and every body under it; an editor works on the
services of its own organisation. Views and API operations declare their rule with `requires`,
which also records it on the view so the permission matrix test can find every endpoint.
"""

import functools

from perfplat.errors import Forbidden, NotFound, Unauthorized


class NotSignedIn(Unauthorized):
    """No user: pages send people to sign in, the API answers 401."""

    def __init__(self, message: str = "Sign in to do this"):
        super().__init__(message)


def organisation_ids_managed(user) -> set[int]:
    if user.organisation_id is None:
        return set()
    cache = user.__dict__.setdefault("_perfplat_managed", {})
    if "ids" not in cache:
        cache["ids"] = user.organisation.descendant_ids()
    return cache["ids"]


def administers(user, organisation) -> bool:
    """Whether the user is a platform admin or an organisation admin over `organisation`."""
    if user.is_platform_admin:
        return True
    return (
        user.role == user.ORG_ADMIN
        and organisation is not None
        and organisation.pk in organisation_ids_managed(user)
    )


def works_on(user, organisation) -> bool:
    """Whether the user may edit the services of `organisation`."""
    if administers(user, organisation):
        return True
    return (
        user.role == user.EDITOR
        and organisation is not None
        and (organisation.pk == user.organisation_id)
    )


def _organisation_of(target):
    """The organisation a target belongs to (an organisation is its own)."""
    from perfplat.accounts.models import User
    from perfplat.datasets.models import DataSet
    from perfplat.registry.models import Organisation, Service

    if isinstance(target, Organisation):
        return target
    if isinstance(target, Service):
        return target.organisation
    if isinstance(target, DataSet):
        return target.service.organisation if target.service_id else None
    if isinstance(target, User):
        return target.organisation
    # Anything else that belongs to a service (a metric, an upload, ...).
    service = getattr(target, "service", None)
    if isinstance(service, Service):
        return service.organisation
    data_set = getattr(target, "data_set", None)
    if isinstance(data_set, DataSet):
        return _organisation_of(data_set)
    return None


def _anyone_signed_in(user, target) -> bool:
    return True


def _platform_admin(user, target) -> bool:
    return user.is_platform_admin


def _administers_target(user, target) -> bool:
    if target is None:
        return user.is_platform_admin or user.role == user.ORG_ADMIN
    return administers(user, _organisation_of(target))


def _works_on_target(user, target) -> bool:
    if target is None:
        return user.is_platform_admin or user.organisation_id is not None
    return works_on(user, _organisation_of(target))


def _views_organisation(user, target) -> bool:
    # Editors see their own organisation; admins see the bodies they administer.
    return works_on(user, _organisation_of(target))


def _manages_user(user, target) -> bool:
    from perfplat.accounts.models import User

    if target is None:
        return user.is_platform_admin or user.role == user.ORG_ADMIN
    if isinstance(target, User) and target.pk == user.pk:
        return True
    if isinstance(target, User) and target.is_platform_admin:
        return user.is_platform_admin
    return administers(user, _organisation_of(target))


RULES = {
    # the signed-in area itself: my services, my account, my tokens
    "signed_in": _anyone_signed_in,
    "organisation.create": _platform_admin,
    "organisation.view": _views_organisation,
    "organisation.edit": _administers_target,
    "service.create": _works_on_target,
    "service.view": _works_on_target,
    "service.edit": _works_on_target,
    "service.publish": _administers_target,
    "data_set.manage": _works_on_target,
    # turning a service's journey beacon on, changing its steps and origins, turning it off
    "beacon.manage": _works_on_target,
    "users.manage": _manages_user,
    "audit.view": _administers_target,
}


def allowed(user, rule: str, target=None) -> bool:
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    return RULES[rule](user, target)


def check(user, rule: str, target=None) -> None:
    """Raise NotSignedIn or Forbidden unless the user may do `rule` to `target`.

    `None` is the platform itself (the command line, the demo loader, background tasks),
    which may do anything; requests always pass their user, anonymous or not."""
    if user is None:
        return
    if not user.is_authenticated:
        raise NotSignedIn()
    if not allowed(user, rule, target):
        raise Forbidden(f"You do not have permission to do this ({rule})")


# URL keyword arguments that name the object a request is about.
def _lookup(name):
    from perfplat.accounts.models import User
    from perfplat.datasets.models import DataSet
    from perfplat.metrics.models import Metric
    from perfplat.publishing.models import AssessmentSnapshot
    from perfplat.registry.models import Organisation, Service

    return {
        "organisation": (Organisation, "slug"),
        "service": (Service, "slug"),
        "data_set_id": (DataSet, "pk"),
        "user_id": (User, "pk"),
        "metric_id": (Metric, "pk"),
        "snapshot_id": (AssessmentSnapshot, "pk"),
    }.get(name)


def resolve_target(kwargs: dict):
    """The most specific object named by a request's URL arguments (404 if it does not exist)."""
    target = None
    for name in ("organisation", "service", "user_id", "data_set_id", "metric_id", "snapshot_id"):
        if name in kwargs:
            model, field = _lookup(name)
            target = model.objects.filter(**{field: kwargs[name]}).first()
            if target is None:
                raise NotFound(f"No {model._meta.verbose_name} {kwargs[name]!r}")
    return target


def request_user(request):
    # django-ninja puts the authenticated user in request.auth; pages use request.user.
    auth = getattr(request, "auth", None)
    if auth is not None and getattr(auth, "is_authenticated", False):
        return auth
    return getattr(request, "user", None)


def requires(rule: str):
    """Declare the permission a view or API operation needs; checked before it runs, on the
    object its URL names. `public` marks pages anyone may open (sign in, password reset)."""
    if rule != "public" and rule not in RULES:
        raise ValueError(f"unknown permission rule {rule!r}")

    def decorate(view):
        @functools.wraps(view)
        def wrapper(request, *args, **kwargs):
            if rule != "public":
                user = request_user(request)
                if user is None or not user.is_authenticated:
                    raise NotSignedIn()
                check(user, rule, resolve_target(kwargs))
            return view(request, *args, **kwargs)

        wrapper.permission_rule = rule
        return wrapper

    return decorate
