"""Writing the audit log. Call `record` inside the transaction that makes the change, so a
change and its entry are written together or not at all."""

from datetime import date, datetime

from django.db import models, transaction

from .models import AuditEntry

# Never copied into the log.
SECRET_FIELDS = {"password", "token_hash", "last_login"}


def _plain(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, models.Model):
        return str(value)
    return value


def snapshot(instance: models.Model, fields: list[str] | None = None) -> dict:
    """The audited state of a model instance: its concrete fields as plain JSON values."""
    state = {}
    for field in instance._meta.concrete_fields:
        if field.name in SECRET_FIELDS or (fields is not None and field.name not in fields):
            continue
        if field.is_relation:
            related = getattr(instance, field.name)
            state[field.name] = None if related is None else str(related)
        else:
            state[field.name] = _plain(getattr(instance, field.attname))
    return state


def record(
    actor,
    action: str,
    instance: models.Model,
    before: dict | None = None,
    after: dict | None = None,
    *,
    service=None,
    organisation=None,
) -> AuditEntry:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit.record must run inside the transaction of the change")
    return AuditEntry.objects.create(
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        action=action,
        object_type=instance._meta.model_name,
        object_id=str(instance.pk),
        object_repr=str(instance)[:300],
        service=service,
        organisation=organisation,
        before=before,
        after=after,
    )
