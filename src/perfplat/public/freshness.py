"""How fresh a data set's data is, as the public pages show it: the platform's one freshness rule
(datasets.services.freshness, SPEC section 9: stale when the last write is older than the data
set's max_age_expected), in the words the pages use."""

from dataclasses import dataclass
from datetime import datetime

from perfplat.datasets.services import freshness


@dataclass(frozen=True)
class Freshness:
    last_updated: datetime | None  # None: no data has arrived yet
    stale: bool
    max_age_expected: int | None  # seconds; None: the team expects no particular rhythm


def data_freshness(data_set, now: datetime) -> Freshness:
    state = freshness(data_set, now)
    return Freshness(
        last_updated=state.last_write_at, stale=state.stale, max_age_expected=state.max_age
    )
