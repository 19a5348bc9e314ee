"""Who may read and write a data set: the one place these rules live."""

import hmac

from perfplat.errors import NotFound, Unauthorized

from .models import DataSet, DataSetToken, hash_token

MISSING_TOKEN = "Expected header of form: Authorization: Bearer <token>"  # noqa: S105


def find_data_set(data_group: str, data_type: str) -> DataSet:
    # Slugs never hold NUL, and PostgreSQL refuses to even compare with one.
    if "\x00" in data_group + data_type:
        raise NotFound(f"Data set {data_group!r}/{data_type!r} not found")
    data_set = DataSet.objects.filter(data_group=data_group, data_type=data_type).first()
    if data_set is None:
        raise NotFound(f"Data set {data_group}/{data_type} not found")
    return data_set


def bearer_token(request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def matching_token(data_set: DataSet, token: str | None) -> DataSetToken | None:
    """The data set's active token that `token` is, compared in constant time."""
    if not token:
        return None
    digest = hash_token(token)
    found = None
    for row in DataSetToken.objects.filter(data_set=data_set, revoked_at__isnull=True):
        # Compare with every active token so the time taken does not depend on which matched.
        if hmac.compare_digest(row.token_hash, digest):
            found = row
    return found


def authorize_write(request, data_set: DataSet) -> DataSetToken:
    """The token that allows this request to write to the data set, or 401."""
    token = bearer_token(request)
    if token is None:
        raise Unauthorized(MISSING_TOKEN)
    row = matching_token(data_set, token)
    if row is None:
        raise Unauthorized(f"Unauthorized: invalid bearer token for data set {data_set}")
    return row


def user_can_read_unpublished(user, data_set: DataSet) -> bool:
    # Whoever may manage the data set may read it before it is published.
    from perfplat.accounts.permissions import allowed

    if data_set.service_id is None:
        return bool(user and user.is_authenticated and user.is_platform_admin)
    return allowed(user, "data_set.manage", data_set)


def can_read(request, data_set: DataSet) -> bool:
    """Published data sets are public; unpublished ones need the data set's token or a
    signed-in user with access."""
    if data_set.published:
        return True
    if matching_token(data_set, bearer_token(request)) is not None:
        return True
    return user_can_read_unpublished(getattr(request, "user", None), data_set)
