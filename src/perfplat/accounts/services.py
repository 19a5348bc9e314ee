"""Managing users and personal API tokens; each change is permission-checked and audited."""

import hmac
import logging

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from perfplat.audit.services import record, snapshot
from perfplat.datasets.models import hash_token
from perfplat.errors import Conflict, Forbidden, InvalidRequest

from .models import PersonalToken, User
from .permissions import check

logger = logging.getLogger(__name__)

USER_FIELDS = ["email", "name", "role", "organisation", "is_active"]


def _email(value) -> str:
    value = (value or "").strip().lower() if isinstance(value, str | type(None)) else value
    try:
        validate_email(value)
    except (ValidationError, TypeError):
        raise InvalidRequest(
            "Enter an email address in the correct format, like name@example.gov.uk", field="email"
        )
    return value


def _role(value) -> str:
    roles = [key for key, _ in User.ROLES]
    if value not in roles:
        raise InvalidRequest(f"Role must be one of: {', '.join(roles)}", field="role")
    return value


def _organisation(value):
    from perfplat.registry.models import Organisation

    if value in (None, ""):
        return None
    if isinstance(value, Organisation):
        return value
    found = Organisation.objects.filter(slug=value).first() if isinstance(value, str) else None
    if found is None:
        raise InvalidRequest(f"There is no organisation {value!r}", field="organisation")
    return found


def _check_role_fits(actor, role: str, organisation) -> None:
    if role == User.PLATFORM_ADMIN:
        if actor is not None and not actor.is_platform_admin:
            raise Forbidden("Only platform admins can make platform admins")
        return
    if organisation is None:
        raise InvalidRequest("Choose the organisation this person works for", field="organisation")
    check(actor, "users.manage", organisation)


def password_problem(password: str, user=None) -> str | None:
    try:
        validate_password(password, user)
    except ValidationError as error:
        return " ".join(error.messages)
    return None


def create_user(actor, email, role, organisation=None, name="", password=None) -> User:
    """Create a user. `actor` None means the command line, which may do anything."""
    email, role, organisation = _email(email), _role(role), _organisation(organisation)
    _check_role_fits(actor, role, organisation)
    if password:
        problem = password_problem(password)
        if problem:
            raise InvalidRequest(problem, field="password")
    with transaction.atomic():
        if User.objects.filter(email=email).exists():
            raise Conflict(f"There is already a user with the email address {email}", field="email")
        try:
            user = User.objects.create_user(
                email,
                password or None,
                role=role,
                organisation=organisation,
                name=(name or "").strip()[:200],
            )
        except IntegrityError:
            raise Conflict(f"There is already a user with the email address {email}", field="email")
        record(
            actor, "user.create", user, None, snapshot(user, USER_FIELDS), organisation=organisation
        )
    return user


def update_user(actor, user: User, **changes) -> User:
    check(actor, "users.manage", user)
    clean = {}
    if "name" in changes:
        clean["name"] = (changes["name"] or "").strip()[:200]
    if "role" in changes:
        clean["role"] = _role(changes["role"])
    if "organisation" in changes:
        clean["organisation"] = _organisation(changes["organisation"])
    if "is_active" in changes:
        clean["is_active"] = bool(changes["is_active"])
    role = clean.get("role", user.role)
    organisation = clean.get("organisation", user.organisation)
    if {"role", "organisation"} & set(clean):
        if actor is not None and actor.pk == user.pk and not actor.is_platform_admin:
            raise Forbidden("You cannot change your own role or organisation")
        _check_role_fits(actor, role, organisation)
    stays_admin = role == User.PLATFORM_ADMIN and clean.get("is_active", user.is_active)
    with transaction.atomic():
        if user.is_platform_admin and user.is_active and not stays_admin:
            _check_not_last_admin(actor, user)
        before = snapshot(user, USER_FIELDS)
        for name, value in clean.items():
            setattr(user, name, value)
        user.save()
        record(
            actor,
            "user.update",
            user,
            before,
            snapshot(user, USER_FIELDS),
            organisation=user.organisation,
        )
    return user


def _check_not_last_admin(actor, user: User) -> None:
    """A platform admin may not take away their own role or account (another must), and the
    last active platform admin keeps theirs: someone must always be able to manage the
    platform. The admins' rows are locked, so two admins cannot demote each other at once."""
    if actor is not None and actor.pk == user.pk:
        raise Forbidden(
            "You cannot remove your own platform admin role or deactivate your own account: "
            "ask another platform admin"
        )
    admins = User.objects.select_for_update().filter(role=User.PLATFORM_ADMIN, is_active=True)
    if not admins.exclude(pk=user.pk).exists():
        raise Conflict(
            f"{user.email} is the last active platform admin: make someone else a platform "
            "admin first",
            field="role",
        )


def users_visible_to(actor):
    from .permissions import organisation_ids_managed

    users = User.objects.select_related("organisation")
    if actor.is_platform_admin:
        return users
    if actor.role == User.ORG_ADMIN:
        return users.filter(organisation_id__in=organisation_ids_managed(actor))
    return users.filter(pk=actor.pk)


# personal API tokens


def issue_personal_token(actor, user: User, name: str = "") -> tuple[PersonalToken, str]:
    if actor is not None and actor.pk != user.pk:
        raise Forbidden("People create their own personal tokens")
    with transaction.atomic():
        row, token = PersonalToken.issue(user, (name or "").strip()[:100])
        record(
            actor,
            "personal_token.create",
            row,
            None,
            {"name": row.name, "prefix": row.prefix},
            organisation=user.organisation,
        )
    return row, token


def revoke_personal_token(actor, row: PersonalToken) -> None:
    if actor is not None and actor.pk != row.user_id:
        check(actor, "users.manage", row.user)
    with transaction.atomic():
        row.revoked_at = timezone.now()
        row.save(update_fields=["revoked_at"])
        record(
            actor,
            "personal_token.revoke",
            row,
            None,
            {"prefix": row.prefix},
            organisation=row.user.organisation,
        )


def user_for_token(token: str) -> User | None:
    """The active user a personal token belongs to, or None."""
    if not token or not token.startswith("pp_"):
        return None
    digest = hash_token(token)
    row = (
        PersonalToken.objects.select_related("user")
        .filter(token_hash=digest, revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    # The lookup is by hash; compare again in constant time so the check itself leaks nothing.
    if row is None or not hmac.compare_digest(row.token_hash, digest):
        return None
    PersonalToken.objects.filter(pk=row.pk).update(last_used_at=timezone.now())
    return row.user


def password_link(user: User, request=None) -> str:
    """A one-time link where the user sets a new password (Django's reset token)."""
    from django.contrib.auth.tokens import default_token_generator
    from django.urls import reverse
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    path = reverse(
        "password_reset_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    return request.build_absolute_uri(path) if request is not None else path


def send_password_setup(user: User, request=None) -> bool:
    """Email a new user the link where they choose their password; False (logged, without
    the link) when it could not be sent: the account exists all the same, and a password
    reset sends another link."""
    from django.core.mail import send_mail

    link = password_link(user, request)
    try:
        _send_setup(send_mail, user, link)
    except Exception:  # noqa: BLE001 - any mail failure; the body (a password link) is not logged
        logger.warning("Could not send the password email to %s", user.email, exc_info=False)
        return False
    return True


def _send_setup(send_mail, user: User, link: str) -> None:
    send_mail(
        "Your Performance Platform account",
        f"Hello {user.name or user.email},\n\n"
        f"An account has been created for you on the Performance Platform as "
        f"{user.get_role_display().lower()}"
        f"{' of ' + str(user.organisation) if user.organisation else ''}.\n\n"
        f"Choose your password here (the link works once, for 3 days):\n{link}\n",
        None,
        [user.email],
    )


# signing in and out, in the audit log


def audit_sign_in(sender, request, user, **kwargs):
    with transaction.atomic():
        record(user, "user.sign_in", user, None, None, organisation=user.organisation)


def audit_sign_out(sender, request, user, **kwargs):
    if user is not None:
        with transaction.atomic():
            record(user, "user.sign_out", user, None, None, organisation=user.organisation)
