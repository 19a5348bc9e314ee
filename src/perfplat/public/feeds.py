"""Atom feeds (Django's syndication framework): what changed on the public pages.

- /feed.atom and /services/<slug>/feed.atom: dashboard publications and corrections, of every
  public service or of one;
- /corrections.atom and /services/<slug>/corrections.atom: corrections only.

Each entry has a stable id (an absolute URL with a fragment for publications, the correction's
own page for corrections), a title, an updated time and a summary.
"""

from dataclasses import dataclass
from datetime import datetime

from django.contrib.syndication.views import Feed
from django.utils.feedgenerator import Atom1Feed

from perfplat.dashboards.models import DashboardVersion
from perfplat.registry.services import public_services

from .pages.corrections import (
    CorrectionEntry,
    _public_service,
    latest_corrections,
)

# Entries per feed: the newest.
FEED_ENTRIES = 50


@dataclass(frozen=True)
class FeedItem:
    title: str
    link: str  # a path on this site
    guid: str  # a path with a fragment; made absolute by the feed
    updated: datetime
    description: str


def correction_item(entry: CorrectionEntry) -> FeedItem:
    changes = "; ".join(
        f"{change.field}: {change.before_text} to {change.after_text}" for change in entry.changes
    )
    lines = [
        f"{entry.service_name}: {entry.summary}.",
        changes and f"Changed {changes}.",
        f"Made through the {entry.path_text.lower()} by {entry.organisation}.",
        f"Reason: {entry.reason_text}.",
    ]
    return FeedItem(
        title=f"Correction to {entry.service_name}: {entry.summary}",
        link=entry.url,
        guid=entry.url,
        updated=entry.made_at,
        description=" ".join(line for line in lines if line),
    )


def publication_items(service=None, count: int = FEED_ENTRIES) -> list[FeedItem]:
    """Each publication of a public service's dashboard, newest first."""
    versions = DashboardVersion.objects.filter(
        published_at__isnull=False, dashboard__service__in=public_services()
    )
    if service is not None:
        versions = versions.filter(dashboard__service=service)
    items = []
    for version in versions.select_related("dashboard__service").order_by("-published_at")[:count]:
        service_ = version.dashboard.service
        items.append(
            FeedItem(
                title=f"{service_.name}: dashboard version {version.number} published",
                link=f"/services/{service_.slug}",
                guid=f"/services/{service_.slug}#published-version-{version.number}",
                updated=version.published_at,
                description=(
                    f"Version {version.number} of the dashboard of {service_.name} was "
                    "published: its key performance indicators, charts and data."
                ),
            )
        )
    return items


@dataclass(frozen=True)
class FeedSubject:
    service: object  # a public Service, or None for every service
    publications: bool  # with the dashboard publications, or corrections only


class UpdatesFeed(Feed):
    """The feed of one public service, or of all of them."""

    feed_type = Atom1Feed

    def get_object(self, request, service=None, publications=True):
        self.request = request
        found = _public_service(service) if service else None
        return FeedSubject(found, publications)

    def title(self, subject: FeedSubject) -> str:
        what = "Updates" if subject.publications else "Corrections"
        where = subject.service.name if subject.service else "all services"
        return f"{what}: {where} - Performance Platform"

    def link(self, subject: FeedSubject) -> str:
        if subject.service is None:
            return "/corrections" if not subject.publications else "/services"
        base = f"/services/{subject.service.slug}"
        return base if subject.publications else f"{base}/corrections"

    def subtitle(self, subject: FeedSubject) -> str:
        if subject.publications:
            return "Dashboard publications and corrections to published data."
        return "Corrections to published data: what changed, when, by whom and why."

    def feed_url(self, subject: FeedSubject) -> str:
        return self.request.path

    def items(self, subject: FeedSubject) -> list[FeedItem]:
        found = [correction_item(e) for e in latest_corrections(subject.service, FEED_ENTRIES)]
        if subject.publications:
            found += publication_items(subject.service)
        found.sort(key=lambda item: item.updated, reverse=True)
        return found[:FEED_ENTRIES]

    def item_title(self, item: FeedItem) -> str:
        return item.title

    def item_description(self, item: FeedItem) -> str:
        return item.description

    def item_link(self, item: FeedItem) -> str:
        return item.link

    def item_guid(self, item: FeedItem) -> str:
        return self.request.build_absolute_uri(item.guid)

    def item_guid_is_permalink(self, item: FeedItem) -> bool:
        return False

    def item_updateddate(self, item: FeedItem) -> datetime:
        return item.updated

    def item_pubdate(self, item: FeedItem) -> datetime:
        return item.updated

    def item_author_name(self, item: FeedItem) -> str:
        return "Performance Platform"
