"""The forms of the dashboard editor, the publishing workflow and assessments. As in
perfplat.manage.forms, they only parse what people type and say when a field is left empty; the
rules live in dashboards.content (via save_draft) and publishing.assessments, whose errors the
views show beside the field they name."""

from datetime import date

from django import forms

from perfplat.beacon.models import Beacon
from perfplat.dashboards.content import BEACON, COMPLETION_FUNNEL, KPIS, MODULE_KINDS, TEXT
from perfplat.manage.forms import long_text_field, text_field, with_required_message

from .models import AssessmentSnapshot

DATE_HINT = "For example, 2025-03-31"


def _date_text(label, hint=DATE_HINT, message=None):
    return text_field(label, message, hint=hint, width="govuk-input--width-10")


def _parsed_date(form, name: str, label: str) -> date | None:
    value = form.cleaned_data.get(name, "")
    if not value:
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        form.add_error(name, f"{label} must be a real date, such as 2025-03-31")
        return None


class DetailsForm(forms.Form):
    """The dashboard's metadata: audience, how it is used, the baseline period."""

    audience = long_text_field("Who uses the service", hint="Shown on the dashboard")
    usage = long_text_field(
        "How the dashboard is used", hint="Who reads the dashboard, and what they decide with it"
    )
    baseline_start = _date_text(
        "Baseline period: first day",
        hint="The period the team measures change from. For example, 2024-04-01",
    )
    baseline_end = _date_text("Baseline period: last day", hint="For example, 2025-03-31")

    def clean(self):
        given = [bool(self.cleaned_data.get(n)) for n in ("baseline_start", "baseline_end")]
        start = _parsed_date(self, "baseline_start", "The first day")
        end = _parsed_date(self, "baseline_end", "The last day")
        if given == [True, False]:
            self.add_error("baseline_end", "Enter the last day of the baseline period")
        elif given == [False, True]:
            self.add_error("baseline_start", "Enter the first day of the baseline period")
        self.cleaned_data["baseline"] = (
            f"{start.isoformat()}/{end.isoformat()}" if start and end else ""
        )
        return self.cleaned_data

    @staticmethod
    def initial_for(content: dict) -> dict:
        start, _, end = (content.get("baseline") or "").partition("/")
        return {
            "audience": content.get("audience", ""),
            "usage": content.get("usage", ""),
            "baseline_start": start,
            "baseline_end": end,
        }


class KindForm(forms.Form):
    kind = with_required_message(
        forms.ChoiceField(
            label="What kind of module?",
            choices=list(MODULE_KINDS.items()),
            widget=forms.RadioSelect,
        ),
        "Choose the kind of module",
    )


QUERY_HINT = (
    "A read API query, like period=week&collect=count:sum&duration=12 (period, group_by, "
    "filter_by, collect, duration, ...)"
)


class ModuleForm(forms.Form):
    """One module of a kind: the fields that kind has (editor.fields_of_kind)."""

    title = text_field("Title", width="govuk-!-width-two-thirds", max_length=200)
    description = long_text_field("Description", hint="What the module shows, in a sentence or two")
    text = forms.CharField(label="Text", widget=forms.Textarea(attrs={"rows": 8}))
    metric = forms.ChoiceField(
        label="Metric",
        required=False,
        help_text="A metric from the service's catalogue. With no data set chosen, the module "
        "shows the metric's data set and query",
    )
    data_set = forms.ChoiceField(label="Data set", required=False)
    query = text_field("Query", hint=QUERY_HINT, width="govuk-!-width-full")
    value = text_field(
        "Value shown",
        hint="One of the query's collected values, like count:sum. Leave empty for the number "
        "of records",
        width="govuk-input--width-20",
    )
    group = text_field(
        "Group field",
        "Enter the field the query groups by",
        hint="The query's group_by field, like channel: one line per value",
        width="govuk-input--width-20",
    )

    def __init__(self, *args, kind, service, fields, **kwargs):
        super().__init__(*args, **kwargs)
        for name in list(self.fields):
            if name not in fields:
                del self.fields[name]
        if "title" in self.fields and kind != KPIS:
            self.fields["title"].required = True
            with_required_message(self.fields["title"], "Enter a title")
        if "text" in self.fields:
            with_required_message(self.fields["text"], "Enter the text")
        if "metric" in self.fields:
            self.fields["metric"].choices = [("", "No metric")] + [
                (m.slug, m.name) for m in service.metrics.order_by("name")
            ]
            self.fields["metric"].error_messages["invalid_choice"] = "Choose a metric from the list"
        if "data_set" in self.fields:
            choices = [("", "Choose a data set")] + [
                (str(d), str(d)) for d in service.data_sets.order_by("data_group", "data_type")
            ]
            if kind == COMPLETION_FUNNEL and Beacon.objects.filter(service=service).exists():
                # Every step of the journey, counted by the beacon (perfplat.beacon).
                choices.append((BEACON, "The journey beacon: every step"))
            self.fields["data_set"].choices = choices
            self.fields["data_set"].error_messages["invalid_choice"] = (
                "Choose a data set from the list"
            )
        if kind == TEXT:
            self.fields["title"].help_text = "A heading for the text"


class SendBackForm(forms.Form):
    comment = with_required_message(
        forms.CharField(
            label="What needs to change?",
            help_text="The editors see this comment on the dashboard editor",
            widget=forms.Textarea(attrs={"rows": 5}),
        ),
        "Say what needs to change",
    )


class AssessmentForm(forms.Form):
    phase = with_required_message(
        forms.ChoiceField(
            label="Phase assessed", choices=AssessmentSnapshot.PHASES, widget=forms.RadioSelect
        ),
        "Choose the phase assessed",
    )
    assessed_on = _date_text("Date of the assessment", message="Enter the date of the assessment")
    outcome = with_required_message(
        forms.ChoiceField(
            label="Outcome", choices=AssessmentSnapshot.OUTCOMES, widget=forms.RadioSelect
        ),
        "Choose the outcome",
    )
    notes = long_text_field("Notes", hint="The assessors' main points, for the team")


class EvolutionForm(forms.Form):
    evolution = forms.CharField(
        label="How has the service evolved since the previous assessment?",
        help_text="What the team changed and what it learned, with the numbers that show it. "
        "Shown on the public dashboard",
        required=False,
        widget=forms.Textarea(attrs={"rows": 10}),
    )


class CompareForm(forms.Form):
    older = forms.TypedChoiceField(label="Compare version", coerce=int)
    newer = forms.TypedChoiceField(label="with version", coerce=int)

    def __init__(self, *args, numbers, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [(n, f"Version {n}") for n in numbers]
        for name in ("older", "newer"):
            self.fields[name].choices = choices
            self.fields[name].error_messages["invalid_choice"] = "Choose a version from the list"
            with_required_message(self.fields[name], "Choose a version")
