"""The GET forms of the public pages: the services list's filters."""

from django import forms

from perfplat.kpis import maths
from perfplat.kpis.periods import MONTH, QUARTER, ROLLING_YEAR, WEEK
from perfplat.registry.models import Service

from .formatting import KPI_LABELS, TILE_KPIS

PERIOD_CHOICES = [
    (WEEK, "Week (Monday to Sunday)"),
    (MONTH, "Month"),
    (QUARTER, "Quarter"),
    (ROLLING_YEAR, "Rolling year (the last 12 months)"),
]
SORT_CHOICES = [
    (name, name)
    for name in (
        "name",
        "organisation",
        "phase",
        maths.COST_PER_TRANSACTION,
        maths.USER_SATISFACTION,
        maths.SATISFACTION_SCORE,
        maths.COMPLETION_RATE,
        maths.DIGITAL_TAKE_UP,
    )
]


class RangeField(forms.DecimalField):
    """A number typed as people write it: "75", "75%", "£1,250.50"."""

    widget = forms.TextInput

    def to_python(self, value):
        if isinstance(value, str):
            value = value.strip().removeprefix("£").removesuffix("%").replace(",", "").strip()
        return super().to_python(value)

    def widget_attrs(self, widget):
        attrs = super().widget_attrs(widget)
        attrs.update(inputmode="decimal", spellcheck="false", autocomplete="off")
        return attrs


def range_fields(kpi: str) -> tuple[str, str]:
    return f"{kpi}_min", f"{kpi}_max"


class ServiceFilterForm(forms.Form):
    """Filters and sort order of /services (and of its CSV and JSON twins). Every field is
    optional; a field with an error is left out of the filtering."""

    q = forms.CharField(
        label="Service or organisation name",
        required=False,
        max_length=200,
        error_messages={"max_length": "Search for 200 characters or fewer"},
    )
    organisation = forms.ChoiceField(
        label="Organisation",
        required=False,
        error_messages={"invalid_choice": "Choose an organisation from the list"},
    )
    phase = forms.MultipleChoiceField(
        label="Phase",
        required=False,
        choices=Service.PHASES,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": "Choose phases from the list"},
    )
    period = forms.ChoiceField(
        label="Period of the figures",
        required=False,
        choices=PERIOD_CHOICES,
        error_messages={"invalid_choice": "Choose month, quarter or rolling year"},
    )
    sort = forms.ChoiceField(
        required=False,
        choices=SORT_CHOICES,
        widget=forms.HiddenInput,
        error_messages={"invalid_choice": "The list cannot be sorted that way"},
    )
    order = forms.ChoiceField(
        required=False,
        choices=[("asc", "asc"), ("desc", "desc")],
        widget=forms.HiddenInput,
        error_messages={"invalid_choice": "Sort in asc or desc order"},
    )

    def __init__(self, *args, organisations=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].choices = [("", "All organisations"), *organisations]
        for kpi in TILE_KPIS:
            label = KPI_LABELS[kpi]
            pounds = maths.UNITS[kpi] == maths.POUNDS
            unit = "pounds" if pounds else "per cent"
            for name, words in zip(range_fields(kpi), ("at least", "at most"), strict=True):
                number = f"Enter {label.lower()} {words} as a number of {unit}, like " + (
                    "1.50" if pounds else "75"
                )
                limits = "must be 0 or more" if pounds else "must be a percentage from 0 to 100"
                self.fields[name] = RangeField(
                    label=words.capitalize(),
                    required=False,
                    min_value=0,
                    max_value=None if pounds else 100,
                    max_digits=12,
                    error_messages={
                        "invalid": number,
                        "min_value": f"{label} {words} {limits}",
                        "max_value": f"{label} {words} {limits}",
                        "max_digits": number,
                        "max_decimal_places": number,
                        "max_whole_digits": number,
                    },
                )

    def clean(self):
        data = super().clean()
        for kpi in TILE_KPIS:
            low_name, high_name = range_fields(kpi)
            low, high = data.get(low_name), data.get(high_name)
            if low is not None and high is not None and low > high:
                self.add_error(
                    high_name,
                    f"{KPI_LABELS[kpi]} at most must be the same as or more than at least",
                )
        return data

    def range_groups(self):
        """Each KPI's label, unit and its two bound fields, for the page's fieldsets."""
        return [
            {
                "kpi": kpi,
                "label": KPI_LABELS[kpi],
                "unit": "£" if maths.UNITS[kpi] == maths.POUNDS else "%",
                "fields": [self[name] for name in range_fields(kpi)],
            }
            for kpi in TILE_KPIS
        ]
