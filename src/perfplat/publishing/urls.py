"""The publishing pages under /manage/ (included by perfplat.urls before the management area):
the dashboard editor, the publishing workflow, assessments and readiness."""

from django.urls import path

from .views import assessments, editor, readiness, workflow

app_name = "publishing"

DASHBOARD = "services/<service>/dashboard"

urlpatterns = [
    # the dashboard editor
    path(DASHBOARD, editor.dashboard_editor, name="editor"),
    path(f"{DASHBOARD}/start", editor.start_draft, name="start"),
    path(f"{DASHBOARD}/details", editor.details, name="details"),
    path(f"{DASHBOARD}/modules/new", editor.module_kind, name="module-kind"),
    path(f"{DASHBOARD}/modules/new/<kind>", editor.module_new, name="module-new"),
    path(f"{DASHBOARD}/modules/<int:number>", editor.module_edit, name="module-edit"),
    path(f"{DASHBOARD}/modules/<int:number>/move", editor.module_move, name="module-move"),
    path(f"{DASHBOARD}/modules/<int:number>/remove", editor.module_remove, name="module-remove"),
    path(f"{DASHBOARD}/preview", editor.preview, name="preview"),
    # the publishing workflow
    path(f"{DASHBOARD}/submit", workflow.submit_for_review, name="submit"),
    path(f"{DASHBOARD}/send-back", workflow.send_back, name="send-back"),
    path(f"{DASHBOARD}/publish", workflow.publish, name="publish"),
    path(f"{DASHBOARD}/unpublish", workflow.unpublish, name="unpublish"),
    path(f"{DASHBOARD}/versions", workflow.versions, name="versions"),
    path(f"{DASHBOARD}/compare", workflow.compare, name="compare"),
    # assessment snapshots
    path("services/<service>/assessments", assessments.assessment_list, name="assessments"),
    path("services/<service>/assessments/new", assessments.assessment_new, name="assessment-new"),
    path("assessments/<int:snapshot_id>", assessments.assessment, name="assessment"),
    path("assessments/<int:snapshot_id>/evolution", assessments.evolution, name="evolution"),
    path("services/<service>/evolution", assessments.coming_evolution, name="coming-evolution"),
    # readiness
    path("services/<service>/readiness", readiness.service_readiness, name="readiness"),
    path(
        "services/<service>/readiness/print",
        readiness.service_readiness_print,
        name="readiness-print",
    ),
    path(
        "services/<service>/readiness/check-metrics",
        readiness.check_metrics,
        name="check-metrics",
    ),
    path(
        "organisations/<organisation>/readiness",
        readiness.organisation_readiness,
        name="organisation-readiness",
    ),
]
