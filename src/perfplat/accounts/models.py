"""People who sign in, their role, and their personal API tokens (stored hashed)."""

import secrets

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.db import models
from django.utils import timezone

from perfplat.datasets.models import hash_token


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email, password=None, **fields):
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email, password=None, **fields):
        fields["role"] = User.PLATFORM_ADMIN
        return self.create_user(email, password, **fields)


class User(AbstractBaseUser):
    """A person with one role, in one organisation (platform admins may have none)."""

    PLATFORM_ADMIN = "platform-admin"
    ORG_ADMIN = "org-admin"
    EDITOR = "editor"
    ROLES = [
        (PLATFORM_ADMIN, "Platform admin"),
        (ORG_ADMIN, "Organisation admin"),
        (EDITOR, "Editor"),
    ]

    email = models.EmailField(unique=True)
    name = models.CharField(max_length=200, blank=True)
    role = models.CharField(max_length=20, choices=ROLES, default=EDITOR)
    organisation = models.ForeignKey(
        "registry.Organisation",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="users",
    )
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=timezone.now)

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    objects = UserManager()

    class Meta:
        ordering = ["email"]

    def __str__(self):
        return self.name or self.email

    @property
    def is_platform_admin(self) -> bool:
        return self.role == self.PLATFORM_ADMIN

    # What Django's admin and auth helpers ask; perfplat's own rules are in permissions.py.
    @property
    def is_superuser(self) -> bool:
        return self.is_platform_admin

    @property
    def is_staff(self) -> bool:
        return self.is_platform_admin


class PersonalToken(models.Model):
    """A token that lets a program use the management API as its user."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="tokens")
    name = models.CharField(max_length=100, blank=True)
    token_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=8)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"token {self.prefix}... of {self.user}"

    @classmethod
    def issue(cls, user: User, name: str = "") -> tuple["PersonalToken", str]:
        # A prefix tells personal tokens apart from data set tokens at a glance.
        token = "pp_" + secrets.token_urlsafe(32)
        row = cls.objects.create(
            user=user, name=name, token_hash=hash_token(token), prefix=token[:8]
        )
        return row, token
