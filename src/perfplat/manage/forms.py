"""The management pages' forms. They only parse what people type into the values the service
functions take (text, an organisation, a number of seconds) and say when a field is left empty;
the rules about those values live in the service functions, whose domain errors are shown
beside the field they name by `add_domain_error`."""

import logging

from django import forms
from django.contrib.auth import forms as auth_forms
from django.core.exceptions import ValidationError

from perfplat.accounts import throttle
from perfplat.accounts.models import User
from perfplat.accounts.permissions import administers, works_on
from perfplat.datasets.models import Correction, DataSet
from perfplat.datasets.types import TYPES
from perfplat.registry.models import Organisation, Service

logger = logging.getLogger(__name__)

EMAIL_FORMAT = "Enter an email address in the correct format, like name@example.gov.uk"
STRENGTH_HINT = (
    "Use at least 10 characters. Do not use a common password, only numbers, or something "
    "like your email address."
)


def add_domain_error(form, error) -> None:
    """Show a domain error (perfplat.errors) beside the field it names, or above the form when
    the form has no such field."""
    form.add_error(error.field if error.field in form.fields else None, error.message)


def with_required_message(field, message: str):
    # A copy: a form field's messages are shared with the class's field (and Django's own).
    field.error_messages = {**field.error_messages, "required": message}
    return field


def text_field(label, message=None, hint="", width="", **options):
    attrs = {"class": width} if width else {}
    field = forms.CharField(
        label=label,
        help_text=hint,
        required=message is not None,
        widget=forms.TextInput(attrs=attrs),
        **options,
    )
    return with_required_message(field, message) if message else field


def long_text_field(label, hint=""):
    return forms.CharField(
        label=label, help_text=hint, required=False, widget=forms.Textarea(attrs={"rows": 4})
    )


def _organisation_choice(label, queryset, message=None, empty_label="Choose an organisation"):
    field = forms.ModelChoiceField(
        label=label,
        queryset=queryset,
        to_field_name="slug",
        required=message is not None,
        empty_label=empty_label,
        error_messages={"invalid_choice": "Choose an organisation from the list"},
    )
    return with_required_message(field, message) if message else field


def _seconds(label, hint):
    return forms.IntegerField(
        label=label,
        help_text=hint,
        required=False,
        widget=forms.TextInput(
            attrs={"class": "govuk-input--width-10", "inputmode": "numeric", "spellcheck": "false"}
        ),
        error_messages={"invalid": f"{label} must be a whole number of seconds, like 86400"},
    )


# signing in and passwords


class SignInForm(auth_forms.AuthenticationForm):
    """Django's sign-in form with GOV.UK wording. It authenticates with the request, so
    django-axes counts failures and refuses a locked-out account (see `clean`)."""

    error_messages = {
        **auth_forms.AuthenticationForm.error_messages,
        "invalid_login": "Enter a correct email address and password",
    }

    def __init__(self, request=None, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        email = self.fields["username"]
        email.label = "Email address"
        email.widget = forms.EmailInput(attrs={"autocomplete": "email", "spellcheck": "false"})
        with_required_message(email, "Enter your email address")
        with_required_message(self.fields["password"], "Enter your password")

    def clean_username(self):
        # Addresses are stored in lower case; people type them as they like.
        return self.cleaned_data["username"].strip().lower()

    def clean(self):
        try:
            return super().clean()
        except ValidationError:
            # django-axes marks the request when this failure locked the account, or when the
            # account was already locked (it then refuses even the right password).
            if getattr(self.request, "axes_locked_out", False):
                raise ValidationError(lockout_message(self.request), code="locked_out")
            raise

    @property
    def locked_out(self) -> bool:
        return any(error.code == "locked_out" for error in self.errors.as_data().get("__all__", []))


def lockout_message(request=None) -> str:
    from axes.helpers import get_cool_off

    cool_off = get_cool_off(request)
    if not cool_off:
        return (
            "Too many failed sign-in attempts. Ask an admin of your organisation to unlock "
            "your account."
        )
    minutes = round(cool_off.total_seconds() / 60)
    unit = "minute" if minutes == 1 else "minutes"
    return (
        f"Too many failed sign-in attempts. Try again in {minutes} {unit}, or reset your password."
    )


class CodeForm(forms.Form):
    """A code from an authenticator app (or, signing in, a recovery code)."""

    code = text_field(
        "Code",
        "Enter the code",
        width="govuk-input--width-10",
        max_length=40,
    )

    def __init__(self, *args, hint="", **kwargs):
        super().__init__(*args, **kwargs)
        code = self.fields["code"]
        code.help_text = hint
        code.widget.attrs.update(
            {"autocomplete": "one-time-code", "spellcheck": "false", "autocapitalize": "none"}
        )


class PasswordResetForm(auth_forms.PasswordResetForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        email = self.fields["email"]
        email.label = "Email address"
        email.help_text = "The address you sign in with"
        email.widget.attrs.update({"spellcheck": "false"})
        with_required_message(email, "Enter your email address")
        email.error_messages["invalid"] = EMAIL_FORMAT

    def get_users(self, email):
        # Django emails only users who already have a usable password; a new user has none yet
        # and needs this link to choose one. Addresses are stored in lower case.
        return User._default_manager.filter(email=email.strip().lower(), is_active=True)

    def send_mail(self, *args, **kwargs):
        # A mail server that fails must not fail the page (nor say whether the address has an
        # account); what failed is logged, never the link.
        try:
            super().send_mail(*args, **kwargs)
        except Exception:  # noqa: BLE001 - any mail failure
            logger.warning("Could not send a password reset email to %s", args[4])


class NewPasswordForm(auth_forms.SetPasswordForm):
    """Choosing a new password, from a reset or a new account's email."""

    error_messages = {
        **auth_forms.SetPasswordForm.error_messages,
        "password_mismatch": "The passwords do not match",
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        new, again = self.fields["new_password1"], self.fields["new_password2"]
        new.help_text, again.help_text = STRENGTH_HINT, ""
        again.label = "Confirm your new password"
        with_required_message(new, "Enter a new password")
        with_required_message(again, "Confirm your new password")

    def clean(self):
        self.validate_passwords("new_password1", "new_password2")
        # A weak password is a problem of the first box, where it was chosen (Django puts it
        # on the confirmation).
        self.validate_password_for_user(self.user, "new_password1")
        return self.cleaned_data

    def save(self, commit=True):
        from axes.utils import reset

        user = super().save(commit)
        # Whoever chose a new password from the emailed link owns the account: a lockout from
        # failed sign-ins (which tells them to reset their password) ends here.
        if commit:
            reset(username=user.email)
        return user


class PasswordChangeForm(NewPasswordForm, auth_forms.PasswordChangeForm):
    error_messages = {
        **NewPasswordForm.error_messages,
        "password_incorrect": "Your current password is not correct",
    }
    field_order = ["old_password", "new_password1", "new_password2"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        current = self.fields["old_password"]
        current.label = "Current password"
        current.widget.attrs.pop("autofocus", None)
        with_required_message(current, "Enter your current password")

    def clean_old_password(self):
        # Throttled like sign-in: wrong current passwords are guesses at the password.
        limit, seconds = throttle.PASSWORD_CHANGE_FAILURES
        key = str(self.user.pk)
        if throttle.attempts("password-change", key) >= limit:
            raise ValidationError(
                "Too many wrong current passwords. Try again in 15 minutes.", code="throttled"
            )
        try:
            return super().clean_old_password()
        except ValidationError:
            throttle.count("password-change", key, seconds)
            raise


# organisations and services


class OrganisationForm(forms.Form):
    name = text_field("Name", "Enter the organisation's name", width="govuk-!-width-two-thirds")
    slug = text_field(
        "Short name for web addresses",
        "Enter a short name for web addresses",
        hint="Lower-case letters, digits and hyphens, like department-for-transport",
        width="govuk-input--width-20",
    )
    abbreviation = text_field(
        "Abbreviation", hint="For example, DfT", width="govuk-input--width-10"
    )
    type = with_required_message(
        forms.ChoiceField(
            label="Type", choices=Organisation.TYPES, widget=forms.RadioSelect, initial="department"
        ),
        "Choose the type of organisation",
    )
    parent = _organisation_choice(
        "Belongs to",
        Organisation.objects.none(),
        empty_label="No parent: it is a department or independent body",
    )

    def __init__(self, *args, user, organisation=None, **kwargs):
        super().__init__(*args, **kwargs)
        parent = self.fields["parent"]
        parent.help_text = "Agencies belong to a department"
        # The bodies this person administers (and the current parent, so it stays chosen),
        # never the organisation itself or a body under it.
        choices = Organisation.objects.all()
        if not user.is_platform_admin:
            managed = [o.pk for o in choices if administers(user, o)]
            if organisation is not None and organisation.parent_id:
                managed.append(organisation.parent_id)
            choices = choices.filter(pk__in=managed)
            # Only platform admins create top-level bodies.
            parent.required = organisation is None or organisation.parent_id is not None
            with_required_message(parent, "Choose the organisation this one belongs to")
        if organisation is not None:
            choices = choices.exclude(pk__in=organisation.descendant_ids())
        parent.queryset = choices

    @classmethod
    def initial_for(cls, organisation: Organisation) -> dict:
        return {
            "name": organisation.name,
            "slug": organisation.slug,
            "abbreviation": organisation.abbreviation,
            "type": organisation.type,
            "parent": organisation.parent.slug if organisation.parent_id else None,
        }


class ServiceForm(forms.Form):
    name = text_field("Name", "Enter the service's name", width="govuk-!-width-two-thirds")
    slug = text_field(
        "Short name for web addresses",
        "Enter a short name for web addresses",
        hint="Lower-case letters, digits and hyphens, like apply-for-a-licence. Its dashboard "
        "will be at /services/<short name>",
        width="govuk-input--width-20",
    )
    organisation = _organisation_choice(
        "Organisation", Organisation.objects.none(), "Choose the organisation that runs it"
    )
    phase = with_required_message(
        forms.ChoiceField(
            label="Phase", choices=Service.PHASES, widget=forms.RadioSelect, initial="discovery"
        ),
        "Choose the service's phase",
    )
    description = long_text_field("Description")
    start_page_url = text_field(
        "Start page URL", hint="Where people start using the service, like https://www.gov.uk/"
    )
    audience = long_text_field("Who uses the service")
    dashboard_usage = long_text_field(
        "How the dashboard is used", hint="Who reads its dashboard, and what they decide with it"
    )
    previous_assessment_date = text_field(
        "Previous assessment date", hint="For example, 2025-03-31", width="govuk-input--width-10"
    )
    next_assessment_date = text_field(
        "Next assessment date", hint="For example, 2025-09-30", width="govuk-input--width-10"
    )

    def __init__(self, *args, user, service=None, **kwargs):
        super().__init__(*args, **kwargs)
        # The organisations this person may register services in (and the current one).
        allowed = [o.pk for o in Organisation.objects.all() if works_on(user, o)]
        if service is not None:
            allowed.append(service.organisation_id)
        self.fields["organisation"].queryset = Organisation.objects.filter(pk__in=allowed)

    @classmethod
    def initial_for(cls, service: Service) -> dict:
        initial = {name: getattr(service, name) for name in cls.base_fields}
        initial["organisation"] = service.organisation.slug
        for name in ("previous_assessment_date", "next_assessment_date"):
            initial[name] = initial[name].isoformat() if initial[name] else ""
        return initial


# data sets


class DataSetSettingsForm(forms.Form):
    auto_ids = text_field(
        "Fields that identify a record",
        hint="Field names separated by commas, like _timestamp, channel. A record with the same "
        "values replaces the one already stored. Leave empty to let each record set its _id",
        width="govuk-!-width-two-thirds",
    )
    published = forms.BooleanField(label="Published: anyone can read its records", required=False)
    raw_queries_allowed = forms.BooleanField(
        label="Allow raw queries (individual records, not only totals)", required=False
    )
    max_age_expected = _seconds(
        "Maximum age", "How many seconds may pass between writes before the data is stale"
    )
    cache_max_age = _seconds(
        "Cache time", "How many seconds readers may cache its records. Leave empty for the default"
    )
    upload_format = with_required_message(
        forms.ChoiceField(
            label="Spreadsheet format",
            choices=DataSet.UPLOAD_FORMATS,
            widget=forms.RadioSelect,
            initial="csv",
        ),
        "Choose the spreadsheet format",
    )

    def clean_auto_ids(self):
        return tuple(
            name.strip() for name in self.cleaned_data["auto_ids"].split(",") if name.strip()
        )

    @classmethod
    def initial_for(cls, data_set: DataSet) -> dict:
        initial = {name: getattr(data_set, name) for name in cls.base_fields}
        initial["auto_ids"] = ", ".join(data_set.auto_ids)
        return initial


# "" is a free-form data set; a standard type's records are checked as that type's, and only
# standard types feed the KPIs.
STANDARD_TYPE_CHOICES = [
    ("", "None: a free-form data set (not used for the key performance indicators)"),
    *((slug, f"{spec.name}: {spec.description}") for slug, spec in TYPES.items()),
]


class DataSetForm(DataSetSettingsForm):
    data_type = text_field(
        "Data type",
        "Enter the data type",
        hint="What kind of data it holds: lower-case letters, digits, hyphens or underscores, "
        "like transactions-by-channel",
        width="govuk-input--width-20",
    )
    standard_type = forms.ChoiceField(
        label="Standard type",
        help_text="The key performance indicators come only from data sets of a standard type",
        choices=STANDARD_TYPE_CHOICES,
        widget=forms.RadioSelect,
        required=False,
        initial="",
    )
    field_order = ["data_type", "standard_type"]


# people and tokens


def _role_choices(user) -> list:
    if user.is_platform_admin:
        return User.ROLES
    return [(key, label) for key, label in User.ROLES if key != User.PLATFORM_ADMIN]


class EmptyDataSetForm(forms.Form):
    reason = forms.CharField(
        label="Why are you emptying it?",
        required=False,
        max_length=Correction.MAX_REASON_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=(
            "The data set is published, so emptying it is a correction: the public corrections "
            "log shows this reason."
        ),
        error_messages={
            "max_length": f"The reason must be {Correction.MAX_REASON_LENGTH} characters or fewer"
        },
    )


class UserForm(forms.Form):
    email = forms.CharField(
        label="Email address",
        widget=forms.EmailInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        error_messages={"required": "Enter their email address"},
    )
    name = text_field("Full name", width="govuk-!-width-two-thirds")
    role = with_required_message(
        forms.ChoiceField(label="Role", choices=User.ROLES, widget=forms.RadioSelect),
        "Choose their role",
    )
    organisation = _organisation_choice("Organisation", Organisation.objects.none())

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        _limit_role_and_organisation(self, user)


def _limit_role_and_organisation(form, user):
    form.fields["role"].choices = _role_choices(user)
    organisation = form.fields["organisation"]
    if user.is_platform_admin:
        organisation.queryset = Organisation.objects.all()
        organisation.help_text = "Platform admins need none"
    else:
        organisation.queryset = Organisation.objects.filter(
            pk__in=[o.pk for o in Organisation.objects.all() if administers(user, o)]
        )
        # Every role an organisation admin can give belongs to an organisation.
        organisation.required = True
        with_required_message(organisation, "Choose the organisation they work for")


class UserEditForm(forms.Form):
    name = text_field("Full name", width="govuk-!-width-two-thirds")
    role = with_required_message(
        forms.ChoiceField(label="Role", choices=User.ROLES, widget=forms.RadioSelect),
        "Choose their role",
    )
    organisation = _organisation_choice("Organisation", Organisation.objects.none())
    is_active = forms.BooleanField(label="Active: they can sign in", required=False)

    def __init__(self, *args, user, person, **kwargs):
        super().__init__(*args, **kwargs)
        if person.pk == user.pk and not user.is_platform_admin:
            # People cannot change their own role or organisation, nor lock themselves out.
            for name in ("role", "organisation", "is_active"):
                del self.fields[name]
        else:
            _limit_role_and_organisation(self, user)

    @staticmethod
    def initial_for(person: User) -> dict:
        return {
            "name": person.name,
            "role": person.role,
            "organisation": person.organisation.slug if person.organisation_id else None,
            "is_active": person.is_active,
        }


class TokenForm(forms.Form):
    name = text_field(
        "Name",
        hint="So you can tell your tokens apart, like nightly upload",
        width="govuk-!-width-one-half",
        max_length=100,
    )


class AuditFilterForm(forms.Form):
    SYSTEM = "system"

    service = forms.ModelChoiceField(
        label="Service",
        queryset=Service.objects.none(),
        to_field_name="slug",
        required=False,
        empty_label="All services",
        error_messages={"invalid_choice": "Choose a service from the list"},
    )
    user = forms.ChoiceField(
        label="Who",
        required=False,
        error_messages={"invalid_choice": "Choose a person from the list"},
    )

    def __init__(self, *args, services, users, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["service"].queryset = services
        self.fields["user"].choices = [
            ("", "Anyone"),
            (self.SYSTEM, "System (command line and background tasks)"),
            *[(str(person.pk), _person_label(person)) for person in users],
        ]


def _person_label(person) -> str:
    return f"{person.name} ({person.email})" if person.name else person.email
