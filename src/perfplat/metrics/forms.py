"""The metric pages' forms. They only parse what people type and choose into the values
metrics.services takes; the rules about those values live there, and a domain error it raises
is shown beside the field it names (manage.forms.add_domain_error)."""

from django import forms

from perfplat.datasets.periods import PERIODS
from perfplat.datasets.types import TYPES
from perfplat.manage.forms import long_text_field, text_field

from .models import Metric

FREE_FORM = "free-form"
TYPE_CHOICES = [(slug, f"{spec.name} ({slug})") for slug, spec in TYPES.items()]
PERIOD_CHOICES = [(period, period.capitalize()) for period in PERIODS]
KPI_CHOICES = [("", "Not one of the four KPIs"), *Metric.KPIS]
FIELDS_HINT = "Field names separated by commas, like channel, count"
FILE_KINDS = "A CSV, XLSX, XLS or ODS spreadsheet"


def _choice(label, choices, hint="", initial="", required_message=None):
    return forms.ChoiceField(
        label=label,
        choices=choices,
        help_text=hint,
        required=required_message is not None,
        initial=initial,
        error_messages={
            "invalid_choice": f"Choose the {label.lower()} from the list",
            "required": required_message or "",
        },
    )


def _field_names(text: str) -> list[str]:
    return [name.strip() for name in text.split(",") if name.strip()]


class MetricForm(forms.Form):
    """A metric of the catalogue: adding one, or changing it."""

    name = text_field(
        "Name", message="Enter the name of the metric", width="govuk-!-width-two-thirds"
    )
    slug = text_field(
        "Short name",
        hint="Lower-case letters, digits and hyphens, like calls-to-the-helpline",
        message="Enter a short name",
        width="govuk-input--width-20",
    )
    description = long_text_field("Description")
    unit = text_field("Unit", hint="For example £, %, transactions", width="govuk-input--width-10")
    rationale = long_text_field(
        "Rationale", "Why the team measures it, and what it decides with it"
    )
    kpi = _choice("KPI", KPI_CHOICES)
    data_set = forms.TypedChoiceField(
        label="Data set",
        help_text="The data set its numbers come from",
        required=False,
        coerce=int,
        empty_value=None,
        error_messages={"invalid_choice": "Choose a data set from the list"},
    )
    query = text_field(
        "Read API query",
        hint="The query that produces it, like period=month&collect=count:sum",
        width="govuk-!-width-two-thirds",
    )
    period = _choice(
        "Period",
        PERIOD_CHOICES,
        "The period of each figure",
        initial="month",
        required_message="Choose the period of each figure",
    )
    planned_type = _choice(
        "Planned type of data",
        [("", "Free-form: no standard type"), *TYPE_CHOICES],
        "For a metric planned before its data set exists",
    )
    planned_fields = text_field(
        "Planned fields", hint=FIELDS_HINT, width="govuk-!-width-two-thirds"
    )
    planned_data_period = _choice(
        "The data will be recorded per", [("", "Not known yet"), *PERIOD_CHOICES]
    )

    def __init__(self, *args, service, metric=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["data_set"].choices = [("", "No data set yet")] + [
            (data_set.pk, str(data_set)) for data_set in service.data_sets.order_by("data_type")
        ]
        current = metric.planned_type if metric is not None else ""
        if current and current not in TYPES:
            # A type saved from a plan that the platform does not know: kept until changed.
            self.fields["planned_type"].choices += [(current, current)]

    def clean_planned_fields(self):
        return _field_names(self.cleaned_data["planned_fields"])

    @classmethod
    def initial_for(cls, metric: Metric) -> dict:
        initial = {name: getattr(metric, name) for name in cls.base_fields if name != "data_set"}
        initial["data_set"] = metric.data_set_id
        initial["planned_fields"] = ", ".join(metric.planned_fields)
        return initial


class PlannedMetricForm(forms.Form):
    """One planned metric for the support check, optionally with a sample of its data."""

    name = text_field(
        "Name", message="Enter the name of the metric", width="govuk-!-width-two-thirds"
    )
    data_set_type = _choice(
        "Type of data",
        [("", "Free-form: no standard type"), *TYPE_CHOICES],
        "The standard types are what the four KPIs are computed from",
    )
    field_names = text_field("Fields it uses", hint=FIELDS_HINT, width="govuk-!-width-two-thirds")
    period = _choice(
        "Period of the figure",
        PERIOD_CHOICES,
        initial="month",
        required_message="Choose the period of the figure",
    )
    data_period = _choice("The data will be recorded per", [("", "Not known yet"), *PERIOD_CHOICES])
    query = text_field(
        "Read API query",
        hint="The query that will produce it, like period=month&collect=count:sum",
        width="govuk-!-width-two-thirds",
    )
    kpi = _choice("KPI", KPI_CHOICES)
    sample = forms.FileField(
        label="Sample data of the metric",
        required=False,
        help_text=f"{FILE_KINDS} of records as you would upload them. Nothing is stored",
        error_messages={"empty": "The sample data file is empty"},
    )

    def clean_field_names(self):
        return tuple(_field_names(self.cleaned_data["field_names"]))

    def planned_values(self) -> dict:
        data = self.cleaned_data
        return {
            "name": data["name"].strip(),
            "data_set_type": data["data_set_type"],
            "fields": data["field_names"],
            "period": data["period"],
            "data_period": data["data_period"],
            "query": data["query"].strip(),
            "kpi": data["kpi"],
        }


class PlanFileForm(forms.Form):
    """A file of planned metrics (spreadsheet or JSON), optionally with a sample data file and
    the type of its data (which tells the plan's metrics it is for)."""

    plan = forms.FileField(
        label="Planned metrics",
        help_text=f"{FILE_KINDS} with the columns name, type, fields, period, data_period, query "
        "and kpi (one planned metric a row), or a JSON file of planned metrics",
        error_messages={
            "required": "Select a spreadsheet or JSON file of planned metrics",
            "empty": "The file of planned metrics is empty",
        },
    )
    sample = forms.FileField(
        label="Sample data of one type",
        required=False,
        help_text=f"{FILE_KINDS} of records as you would upload them. Nothing is stored",
        error_messages={"empty": "The sample data file is empty"},
    )
    sample_type = _choice(
        "Type of the sample data",
        [("", "Choose the type"), *TYPE_CHOICES, (FREE_FORM, "Free-form data")],
        "The sample is checked for the planned metrics of this type",
    )

    def clean(self):
        data = super().clean()
        if data.get("sample") and not data.get("sample_type"):
            self.add_error("sample_type", "Choose the type of the sample data")
        return data


class SaveForm(forms.Form):
    """Which checked metrics to add to the catalogue."""

    metrics = forms.TypedMultipleChoiceField(
        label="Metrics to add to the catalogue",
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        help_text="Each is added with its verdict. Select all that apply",
        error_messages={"required": "Select the metrics to add to the catalogue"},
    )

    def __init__(self, *args, planned, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["metrics"].choices = [(i, metric.name) for i, metric in enumerate(planned)]
        self.fields["metrics"].initial = list(range(len(planned)))
