"""The dashboard publishing workflow: every allowed and refused transition, by role."""

import pytest

from perfplat.audit.models import AuditEntry
from perfplat.dashboards import services
from perfplat.dashboards.models import DashboardVersion as V
from perfplat.errors import Conflict, Forbidden, InvalidRequest


@pytest.fixture
def draft(world):
    return services.start_draft(world.editor, world.service)


def test_an_editor_starts_a_draft_from_the_default_content(world, draft):
    assert (draft.state, draft.number) == (V.DRAFT, 1)
    assert draft.content["modules"][0]["kind"] == "kpis"
    assert services.start_draft(world.editor, world.service).pk == draft.pk


def test_an_editor_submits_and_an_org_admin_publishes(world, draft):
    services.submit(world.editor, draft)
    version = services.publish(world.org_admin, draft)
    assert version.state == V.PUBLISHED
    assert services.published_version(world.service).pk == draft.pk
    assert world.service.pk in services.public_service_ids()
    assert [e.action for e in AuditEntry.objects.filter(action__startswith="dashboard.")] == [
        "dashboard.publish",
        "dashboard.submit",
        "dashboard.draft",
    ]


def test_an_editor_cannot_publish(world, draft):
    services.submit(world.editor, draft)
    with pytest.raises(Forbidden):
        services.publish(world.editor, draft)
    assert V.objects.get(pk=draft.pk).state == V.IN_REVIEW


def test_another_organisation_cannot_edit(world, draft):
    with pytest.raises(Forbidden):
        services.save_draft(world.other_editor, draft, draft.content)


def test_sending_back_needs_a_comment_and_returns_a_draft(world, draft):
    services.submit(world.editor, draft)
    with pytest.raises(InvalidRequest) as raised:
        services.send_back(world.org_admin, draft, " ")
    assert raised.value.message == "Say what needs to change"
    version = services.send_back(world.org_admin, draft, "Add the cost module")
    assert (version.state, version.review_comment) == (V.DRAFT, "Add the cost module")


@pytest.mark.parametrize(
    ("steps", "action", "message"),
    [
        ([], "publish", "Only a version in review can be published"),
        ([], "send_back", "Only a version in review can be sent back"),
        (["submit"], "submit", "Only a draft can be submitted for review"),
        (["submit"], "save_draft", "Version 1 is in review: only a draft can be edited"),
    ],
)
def test_refused_transitions(world, draft, steps, action, message):
    for step in steps:
        getattr(services, step)(world.org_admin, draft)
    arguments = {
        "publish": (world.org_admin, draft),
        "send_back": (world.org_admin, draft, "why"),
        "submit": (world.org_admin, draft),
        "save_draft": (world.org_admin, draft, draft.content),
    }[action]
    with pytest.raises(Conflict) as raised:
        getattr(services, action)(*arguments)
    assert raised.value.message == message


def test_while_a_new_draft_is_edited_the_public_sees_the_published_version(world, draft):
    services.submit(world.editor, draft)
    services.publish(world.org_admin, draft)
    second = services.start_draft(world.editor, world.service)
    content = {**second.content, "audience": "Drivers"}
    services.save_draft(world.editor, second, content)
    assert services.published_version(world.service).content["audience"] == ""
    assert second.number == 2


def test_publishing_a_new_version_supersedes_the_old_one(world, draft):
    services.publish_directly(world.service)
    second = services.publish_directly(world.service)
    assert V.objects.get(pk=draft.pk).state == V.SUPERSEDED
    assert services.published_version(world.service).pk == second.pk


def test_unpublishing_hides_the_dashboard(world, draft):
    services.publish_directly(world.service)
    services.unpublish(world.org_admin, world.service)
    assert services.published_version(world.service) is None
    assert world.service.pk not in services.public_service_ids()


def test_comparing_versions_lists_what_changed(world, draft):
    first = services.publish_directly(world.service)
    second = services.start_draft(world.editor, world.service)
    modules = [m for m in second.content["modules"] if m["kind"] != "text"]
    modules.append({"kind": "text", "title": "Notes", "text": "New"})
    second = services.save_draft(
        world.editor, second, {**second.content, "audience": "Drivers", "modules": modules}
    )
    changes = services.compare(first, second)
    assert [(c["what"], c["change"]) for c in changes] == [
        ("audience", "changed"),
        ("Text module “Notes”", "added"),
        ("Text module “About this data”", "removed"),
    ]


def test_a_module_naming_an_unknown_data_set_is_refused(world, draft):
    content = {
        "modules": [
            {"kind": "time-series", "title": "X", "data_set": "nope/x", "query": "period=week"}
        ]
    }
    with pytest.raises(InvalidRequest) as raised:
        services.save_draft(world.editor, draft, content)
    assert raised.value.message == (
        "modules[0].data_set: choose one of the service's data sets (road-tax/transactions)"
    )
