"""The upload pages' forms: they only parse what people send; the rules live in services.py
and perfplat.ingest.parsing, whose errors are shown beside the field they name."""

from django import forms

from perfplat.datasets.models import Correction

from .models import Upload

# The value of "Do not upload" in a column's select (a field name cannot be "-").
IGNORE_CHOICE = "-"


class UploadForm(forms.Form):
    file = forms.FileField(
        label="Upload a file",
        help_text="A CSV, XLSX, XLS or ODS spreadsheet whose first row names the columns",
        error_messages={
            "required": "Select a spreadsheet to upload",
            "empty": "The file is empty",
        },
    )
    sheet = forms.CharField(
        label="Sheet name",
        required=False,
        max_length=255,
        help_text="For a workbook with more than one sheet. Leave empty to use the first sheet.",
    )
    mode = forms.ChoiceField(
        label="What should the upload do?",
        choices=[
            (Upload.APPEND, "Add its rows to the data set's records"),
            (Upload.REPLACE, "Replace all the data set's records with its rows"),
        ],
        initial=Upload.APPEND,
        widget=forms.RadioSelect,
        help_text=(
            "Rows with the same period and other identifying fields as a stored record "
            "replace it in both cases."
        ),
        error_messages={"required": "Choose whether to add the rows or replace all records"},
    )
    reason = forms.CharField(
        label="Reason for any corrections",
        required=False,
        max_length=Correction.MAX_REASON_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=(
            "If the data set is published and the upload changes or removes records already "
            "published, the public corrections log shows this reason, like: The March figures "
            "counted some paper applications twice."
        ),
        error_messages={
            "max_length": f"The reason must be {Correction.MAX_REASON_LENGTH} characters or fewer"
        },
    )


class MappingForm(forms.Form):
    """A select per column of the file ("column_0", "column_1", ...), and a select of the
    workbook's sheets when it has more than one."""

    def __init__(self, *args, headers, mapping, choices, sheet="", sheet_names=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.headers = list(headers)
        if len(sheet_names) > 1:
            self.fields["sheet"] = forms.ChoiceField(
                label="Sheet",
                choices=[(name, name) for name in sheet_names],
                initial=sheet,
                help_text="Choosing another sheet reads the file again from that sheet.",
            )
        options = [(IGNORE_CHOICE, "Do not upload")] + [(name, name) for name in choices]
        for index, header in enumerate(self.headers):
            self.fields[f"column_{index}"] = forms.ChoiceField(
                label=f"Column “{header}”",
                choices=options,
                initial=mapping.get(header) or IGNORE_CHOICE,
                error_messages={"required": f"Choose the field for column “{header}”"},
            )

    def mapping(self) -> dict[str, str]:
        data = self.cleaned_data
        return {
            header: "" if data[f"column_{i}"] == IGNORE_CHOICE else data[f"column_{i}"]
            for i, header in enumerate(self.headers)
        }

    def chosen_sheet(self):
        return self.cleaned_data.get("sheet")
