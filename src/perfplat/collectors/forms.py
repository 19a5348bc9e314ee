"""The collector form of the management pages. It only parses what people typed; the settings
are checked by services.check_settings, whose errors are shown beside their field."""

from django import forms

from .models import Collector

INTERVALS = [
    (60, "Every minute"),
    (300, "Every 5 minutes"),
    (900, "Every 15 minutes"),
    (3600, "Every hour"),
    (6 * 3600, "Every 6 hours"),
    (86400, "Every day"),
    (7 * 86400, "Every week"),
]


def interval_text(seconds: int) -> str:
    for value, text in INTERVALS:
        if value == seconds:
            return text
    return f"Every {seconds} seconds"


def mapping_text(mapping: dict) -> str:
    return "\n".join(f"{header} = {field}" for header, field in mapping.items())


class CollectorForm(forms.Form):
    name = forms.CharField(
        label="Name",
        max_length=100,
        help_text=(
            "So your team can tell collectors apart, like “Weekly export from the case system”"
        ),
    )
    url = forms.CharField(
        label="Web address (URL) of the file",
        max_length=2000,
        help_text="It must start with https:// (or http://) and be reachable from the internet",
    )
    format = forms.ChoiceField(
        label="Format of the file", choices=Collector.FORMATS, widget=forms.RadioSelect
    )
    sheet = forms.CharField(
        label="Sheet",
        max_length=255,
        required=False,
        help_text="XLSX only: the sheet to read. Leave it empty for the first sheet.",
    )
    interval = forms.TypedChoiceField(
        label="How often to collect", choices=INTERVALS, coerce=int, initial=3600
    )
    mapping = forms.CharField(
        label="Columns and fields",
        required=False,
        widget=forms.Textarea(attrs={"rows": 5, "spellcheck": "false"}),
        help_text=(
            "One column per line: its heading (or JSON key), =, then the field it fills, like "
            "“Transactions = count”. Leave the field out (“Notes =”) to skip the column. "
            "Columns not listed fill the field of the same name, and a date column fills "
            "_timestamp."
        ),
    )

    def __init__(self, *args, current_interval: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if current_interval and current_interval not in dict(INTERVALS):
            # An interval set through the API keeps its place in the list.
            self.fields["interval"].choices = sorted(
                [*INTERVALS, (current_interval, interval_text(current_interval))]
            )

    @staticmethod
    def initial_for(collector: Collector) -> dict:
        return {
            "name": collector.name,
            "url": collector.url,
            "format": collector.format,
            "sheet": collector.sheet,
            "interval": collector.interval,
            "mapping": mapping_text(collector.mapping),
        }

    def clean_mapping(self) -> dict:
        mapping = {}
        for number, line in enumerate(self.cleaned_data["mapping"].splitlines(), start=1):
            if not line.strip():
                continue
            header, equals, field = line.rpartition("=")
            if not equals or not header.strip():
                raise forms.ValidationError(
                    f"Line {number}: write the column's heading, =, then the field, like "
                    "“Transactions = count”"
                )
            mapping[header.strip()] = field.strip()
        return mapping

    def settings(self) -> dict:
        """The settings typed, for services.create_collector and update_collector."""
        return {name: self.cleaned_data[name] for name in self.fields}
