"""The dashboard state machine, exhaustively: every transition from every state, and who may
make each; plus the comparison of versions and the baseline period of the content document.
(tests/unit/test_dashboard_workflow.py has the first examples.)"""

import pytest
from django.contrib.auth.models import AnonymousUser

from perfplat.accounts.permissions import NotSignedIn
from perfplat.audit.models import AuditEntry
from perfplat.dashboards import services
from perfplat.dashboards.content import baseline_period, baseline_text, clean_content
from perfplat.dashboards.models import DashboardVersion as V
from perfplat.errors import Conflict, Forbidden, InvalidRequest

ROLES = ["platform_admin", "org_admin", "editor", "agency_editor", "other_admin", "other_editor"]
# road-tax belongs to transport: its editors and admins edit, its admins publish.
EDITORS = {"platform_admin", "org_admin", "editor"}
PUBLISHERS = {"platform_admin", "org_admin"}


def version_in(world, state: str) -> V:
    """Version 1 of road-tax's dashboard in `state`, made by the platform itself."""
    version = services.start_draft(None, world.service)
    if state == V.DRAFT:
        return version
    services.submit(None, version)
    if state == V.IN_REVIEW:
        return version.__class__.objects.get(pk=version.pk)
    services.publish(None, version)
    if state == V.UNPUBLISHED:
        services.unpublish(None, world.service)
    elif state == V.SUPERSEDED:
        services.publish_directly(world.service)
    version.refresh_from_db()
    assert version.state == state
    return version


def transition(name, actor, version):
    if name == "save_draft":
        return services.save_draft(actor, version, {**version.content, "audience": "Drivers"})
    if name == "submit":
        return services.submit(actor, version)
    if name == "send_back":
        return services.send_back(actor, version, "Add the costs")
    if name == "publish":
        return services.publish(actor, version)
    if name == "unpublish":
        return services.unpublish(actor, version.service)
    raise AssertionError(name)


# (transition, the state it needs, the state it leads to, who may make it)
ALLOWED = [
    ("save_draft", V.DRAFT, V.DRAFT, EDITORS),
    ("submit", V.DRAFT, V.IN_REVIEW, EDITORS),
    ("send_back", V.IN_REVIEW, V.DRAFT, PUBLISHERS),
    ("publish", V.IN_REVIEW, V.PUBLISHED, PUBLISHERS),
    ("unpublish", V.PUBLISHED, V.UNPUBLISHED, PUBLISHERS),
]
AUDITED = {
    "save_draft": "dashboard.edit",
    "submit": "dashboard.submit",
    "send_back": "dashboard.send_back",
    "publish": "dashboard.publish",
    "unpublish": "dashboard.unpublish",
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    ("name", "before", "after", "who"), ALLOWED, ids=[row[0] for row in ALLOWED]
)
def test_who_may_make_each_transition(world, name, before, after, who, role):
    version = version_in(world, before)
    actor = getattr(world, role)
    if role in who:
        transition(name, actor, version)
        version.refresh_from_db()
        assert version.state == after
        entry = AuditEntry.objects.filter(action=AUDITED[name]).latest("pk")
        assert (entry.actor, entry.object_id) == (actor, str(version.pk))
    else:
        with pytest.raises(Forbidden):
            transition(name, actor, version)
        version.refresh_from_db()
        assert version.state == before
        assert not AuditEntry.objects.filter(action=AUDITED[name], actor=actor).exists()


@pytest.mark.parametrize(("name", "before", "after", "who"), ALLOWED, ids=[r[0] for r in ALLOWED])
def test_no_transition_without_signing_in(world, name, before, after, who):
    version = version_in(world, before)
    with pytest.raises(NotSignedIn):
        transition(name, AnonymousUser(), version)


@pytest.mark.parametrize("role", ROLES)
def test_who_may_start_a_draft(world, role):
    actor = getattr(world, role)
    if role in EDITORS:
        assert services.start_draft(actor, world.service).created_by == actor
    else:
        with pytest.raises(Forbidden):
            services.start_draft(actor, world.service)


STATES = [V.DRAFT, V.IN_REVIEW, V.PUBLISHED, V.SUPERSEDED, V.UNPUBLISHED]
REFUSALS = {
    "save_draft": "Version 1 is {state}: only a draft can be edited",
    "submit": "Only a draft can be submitted for review",
    "send_back": "Only a version in review can be sent back",
    "publish": "Only a version in review can be published",
    "unpublish": "The dashboard is not published",
}
STATE_WORDS = {V.IN_REVIEW: "in review"}


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("name", list(REFUSALS))
def test_every_transition_from_every_state(world, name, state):
    """Allowed from the one state it needs (unpublish: while a version is published);
    refused with a 409 and nothing changed from every other."""
    version = version_in(world, state)
    allowed = {row[0]: row[1] for row in ALLOWED}[name] == state or (
        # Unpublishing acts on the service: a superseded version's successor is published.
        name == "unpublish" and state == V.SUPERSEDED
    )
    entries = AuditEntry.objects.count()
    if allowed:
        transition(name, world.org_admin, version)
        assert AuditEntry.objects.count() == entries + 1
        return
    with pytest.raises(Conflict) as raised:
        transition(name, world.org_admin, version)
    assert raised.value.message == REFUSALS[name].format(state=STATE_WORDS.get(state, state))
    version.refresh_from_db()
    assert version.state == state
    assert AuditEntry.objects.count() == entries


def test_a_draft_after_unpublishing_starts_from_the_unpublished_version(world):
    first = services.start_draft(world.editor, world.service)
    services.save_draft(world.editor, first, {**first.content, "audience": "Drivers"})
    services.publish_directly(world.service)
    services.unpublish(world.org_admin, world.service)
    second = services.start_draft(world.editor, world.service)
    assert (second.number, second.content["audience"]) == (2, "Drivers")


def test_the_public_sees_the_published_version_until_the_next_is_published(world):
    services.publish_directly(world.service)
    draft = services.start_draft(world.editor, world.service)
    services.save_draft(world.editor, draft, {**draft.content, "audience": "Drivers"})
    services.submit(world.editor, draft)
    assert services.published_version(world.service).number == 1
    services.publish(world.org_admin, draft)
    assert services.published_version(world.service).content["audience"] == "Drivers"


# comparing versions


def test_comparison_keeps_two_modules_of_the_same_kind_and_title(world):
    first = services.publish_directly(world.service)
    second = services.start_draft(None, world.service)
    modules = first.content["modules"] + [
        {"kind": "text", "title": "Note", "text": "One"},
        {"kind": "text", "title": "Note", "text": "Two"},
    ]
    second = services.save_draft(None, second, {**first.content, "modules": modules})
    services.publish_directly(world.service)
    third = services.start_draft(None, world.service)
    changed = [dict(m) for m in modules]
    changed[-1]["text"] = "Three"
    third = services.save_draft(None, third, {**first.content, "modules": changed})
    changes = services.compare(second, third)
    assert [(c["what"], c["change"]) for c in changes] == [("Text module “Note”", "changed")]
    assert (changes[0]["before"]["text"], changes[0]["after"]["text"]) == ("Two", "Three")


def test_adding_a_module_first_moves_no_other(world):
    first = services.publish_directly(world.service)
    second = services.start_draft(None, world.service)
    added = {"kind": "text", "title": "Welcome", "text": "Hello"}
    second = services.save_draft(
        None, second, {**first.content, "modules": [added, *first.content["modules"]]}
    )
    changes = services.compare(first, second)
    assert [(c["what"], c["change"]) for c in changes] == [("Text module “Welcome”", "added")]


def test_swapping_two_modules_moves_both(world):
    first = services.publish_directly(world.service)
    second = services.start_draft(None, world.service)
    kpis, text = first.content["modules"]
    second = services.save_draft(None, second, {**first.content, "modules": [text, kpis]})
    changes = services.compare(first, second)
    assert changes == [
        {"what": "Text module “About this data”", "change": "moved", "before": 2, "after": 1},
        {
            "what": "KPI tiles module “Key performance indicators”",
            "change": "moved",
            "before": 1,
            "after": 2,
        },
    ]


def test_comparing_a_version_with_itself_finds_nothing(world):
    first = services.publish_directly(world.service)
    assert services.compare(first, first) == []


# the baseline period


def test_a_baseline_is_two_dates_kept_in_iso_form(world):
    clean = clean_content({"baseline": " 2024-04-01 / 2025-03-31 "}, world.service)
    assert clean["baseline"] == "2024-04-01/2025-03-31"
    assert baseline_text(clean["baseline"]) == "1 April 2024 to 31 March 2025"
    assert baseline_period(clean["baseline"])[1].isoformat() == "2025-03-31"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            "April 2024",
            "baseline: give the period as two dates like 2024-04-01/2025-03-31 (the first and "
            "last day)",
        ),
        (
            "2025-04-01/2024-03-31",
            "baseline: the baseline period must end on or after the day it starts",
        ),
        (
            "2024-02-30/2025-03-31",
            "baseline: give the period as two dates like 2024-04-01/2025-03-31 (the first and "
            "last day)",
        ),
    ],
)
def test_a_baseline_that_is_not_a_period_is_refused(world, value, message):
    with pytest.raises(InvalidRequest) as raised:
        clean_content({"baseline": value}, world.service)
    assert (raised.value.field, raised.value.message) == ("baseline", message)


def test_no_baseline_is_allowed_while_the_team_chooses(world):
    assert clean_content({"baseline": ""}, world.service)["baseline"] == ""
    assert baseline_text("") == ""
