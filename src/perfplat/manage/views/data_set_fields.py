"""A data set's declared fields: the section of its page that shows them, the page where its
team checks and confirms (or edits) them, and converting stored values to their types."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse

from perfplat.accounts.permissions import requires
from perfplat.datasets import fields as declared
from perfplat.datasets import services as data_sets
from perfplat.datasets import stored_values
from perfplat.datasets.types import TYPES

from ..field_forms import FieldsForm
from .common import _data, _submit, answers
from .data_sets import _data_set_crumbs, _data_set_of


def fields_section(data_set, record_count: int) -> dict:
    """What the data set's page shows of its fields (manage/_data_set_fields.html)."""
    fields = declared.declared_fields(data_set)
    data_set_type = TYPES.get(data_set.standard_type)
    return {
        "standard_type_name": data_set_type.name if data_set_type else "",
        "field_head": ["Field", "Type", "Required", "Allowed values", "Status"],
        "field_rows": [
            [
                declaration.name,
                declaration.type_name.capitalize(),
                "Yes" if declaration.required else "No",
                ", ".join(declaration.allowed_values),
                "Confirmed" if declaration.confirmed else "Proposed",
            ]
            for declaration in fields
        ],
        "proposed_count": sum(1 for declaration in fields if not declaration.confirmed),
        "needs_conversion": declared.needs_conversion(data_set),
        "can_convert": bool(fields) and record_count > 0,
    }


@answers("GET", "POST")
@requires("data_set.manage")
def data_set_fields(request, data_set_id):
    data_set = _data_set_of(data_set_id)
    crumbs = _data_set_crumbs(data_set, here=True)
    back = reverse("manage-data-set", args=[data_set.pk]) + "#fields"
    if data_set.standard_type:
        messages.info(
            request,
            f"The fields of {data_set} are those of its standard type: they cannot be changed",
        )
        return redirect(back)
    declarations = declared.declared_fields(data_set)
    from_records = not declarations and data_set.record_set.exists()
    if from_records:
        # Stored before fields were declared: offer what its records suggest.
        declarations = stored_values.propose_from_stored(data_set)
    form = FieldsForm(_data(request), declarations=declarations)
    done = _submit(
        form,
        lambda data: data_sets.declare_fields(request.user, data_set, form.declared()),
        instance=data_set,
    )
    if done is not None:
        messages.success(request, "Fields confirmed: every write is now checked against them")
        return redirect(back)
    return render(
        request,
        "manage/data_set_fields.html",
        {
            "data_set": data_set,
            "form": form,
            "groups": form.groups(),
            "from_records": from_records,
            "cancel": back,
            "breadcrumbs": crumbs,
        },
    )


@answers("GET", "POST")
@requires("data_set.manage")
def data_set_convert(request, data_set_id):
    """What converting the stored values would change (a dry run), and the button that does
    it."""
    data_set = _data_set_of(data_set_id)
    crumbs = _data_set_crumbs(data_set, here=True)
    if request.method == "POST":
        report = stored_values.convert_stored_values(data_set, request.user)
        if not report.problem_count:
            messages.success(request, report.summary)
            return redirect(reverse("manage-data-set", args=[data_set.pk]) + "#fields")
    else:
        report = stored_values.convert_stored_values(data_set, request.user, dry_run=True)
    return render(
        request,
        "manage/data_set_convert.html",
        {
            "data_set": data_set,
            "report": report,
            "problem_head": ["Record", "Field", "Value", "Problem"],
            "problem_rows": [
                [problem.record_id, problem.field, problem.value, problem.problem]
                for problem in report.problems
            ],
            "cancel": reverse("manage-data-set", args=[data_set.pk]) + "#fields",
            "breadcrumbs": crumbs,
        },
    )
