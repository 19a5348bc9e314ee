"""The form of a data set's fields page: a group of inputs per declared field (its type,
whether every record must have it, its allowed values, or removing it) and one group to add a
field. It only parses what people type; the rules live in datasets.fields.check_declarations,
whose errors are shown above the form."""

from django import forms

from perfplat.datasets.fields import FIELD_TYPES, TYPE_NAMES, FieldDeclaration

TYPE_CHOICES = [(name, TYPE_NAMES[name].capitalize()) for name in FIELD_TYPES]
ALLOWED_HINT = (
    "Only for text fields: the values it may hold, separated by commas, like north, south. "
    "Leave empty to allow any text"
)
ADD = "add"


def _prefix(declaration: FieldDeclaration) -> str:
    return f"field-{declaration.name}"


def _allowed(text: str) -> list[str]:
    return [value.strip() for value in text.split(",") if value.strip()]


class FieldsForm(forms.Form):
    """`field-<name>-type`, `-required`, `-allowed` and `-remove` for each declared field
    (field names are identifiers, so they make safe input names), and `add-name`,
    `add-type`, `add-required`, `add-allowed` to add one."""

    def __init__(self, *args, declarations: list[FieldDeclaration], **kwargs):
        super().__init__(*args, **kwargs)
        self.declarations = list(declarations)
        for declaration in self.declarations:
            self._add_group(_prefix(declaration), declaration)
        self.fields[f"{ADD}-name"] = forms.CharField(
            label="Name",
            required=False,
            max_length=100,
            help_text="Letters, digits and _, starting with a letter, like region",
            widget=forms.TextInput(attrs={"class": "govuk-input--width-20", "spellcheck": "false"}),
        )
        self._add_group(ADD, None)

    def _add_group(self, prefix: str, declaration: FieldDeclaration | None) -> None:
        name = declaration.name if declaration else "the new field"
        self.fields[f"{prefix}-type"] = forms.ChoiceField(
            label="Type",
            choices=TYPE_CHOICES,
            initial=declaration.type if declaration else "text",
            # A new field's type is only needed with its name (text when not chosen).
            required=declaration is not None,
            error_messages={"required": f"Choose the type of {name}"},
        )
        self.fields[f"{prefix}-required"] = forms.BooleanField(
            label="Every record must have it",
            required=False,
            initial=declaration.required if declaration else False,
        )
        self.fields[f"{prefix}-allowed"] = forms.CharField(
            label="Allowed values",
            required=False,
            max_length=20_000,
            help_text=ALLOWED_HINT,
            initial=", ".join(declaration.allowed_values) if declaration else "",
        )
        if declaration:
            self.fields[f"{prefix}-remove"] = forms.BooleanField(
                label=f"Remove {name}: writes are no longer checked against it",
                required=False,
            )

    def groups(self) -> list[dict]:
        """The inputs of each field, for the template: a fieldset per field."""
        groups = [
            {
                "legend": declaration.name,
                "proposed": not declaration.confirmed,
                "fields": [
                    self[f"{_prefix(declaration)}-{part}"]
                    for part in ("type", "required", "allowed", "remove")
                ],
            }
            for declaration in self.declarations
        ]
        groups.append(
            {
                "legend": "Add a field (optional)",
                "proposed": False,
                "fields": [
                    self[f"{ADD}-{part}"] for part in ("name", "type", "required", "allowed")
                ],
            }
        )
        return groups

    def declared(self) -> list[dict]:
        """The fields as declared: what datasets.services.declare_fields takes."""
        data = self.cleaned_data
        items = []
        for declaration in self.declarations:
            prefix = _prefix(declaration)
            if data.get(f"{prefix}-remove"):
                continue
            items.append(
                {
                    "name": declaration.name,
                    "type": data[f"{prefix}-type"],
                    "required": data[f"{prefix}-required"],
                    "allowed_values": _allowed(data[f"{prefix}-allowed"]),
                    "description": declaration.description,
                }
            )
        new_name = data.get(f"{ADD}-name", "").strip()
        if new_name:
            items.append(
                {
                    "name": new_name,
                    "type": data[f"{ADD}-type"] or "text",
                    "required": data[f"{ADD}-required"],
                    "allowed_values": _allowed(data[f"{ADD}-allowed"]),
                }
            )
        return items
