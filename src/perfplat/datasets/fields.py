"""Every data set's declared fields: their names, types, whether they are required, allowed values.

This is the plain-data interface to what a data set's records hold:
`declared_fields(data_set) -> list[FieldDeclaration]`. A data set of a standard type declares
the fields of its type (datasets.types, each FieldSpec mapped onto a FieldDeclaration); a
free-form data set's fields are proposed from its first data (`confirmed` false) and confirmed
or edited by its team, and kept in `DataSet.field_declarations` as a list of plain dicts.

Writes are checked against the confirmed declarations (`field_problem`): strictly, as the
JSON API sends them; spreadsheet and collector values are first read by the declared type
(datasets.values) so that "1,200" arrives as 1200.
"""

from dataclasses import dataclass
from functools import cache

from perfplat.errors import InvalidRequest

from .models import IDENTIFIER
from .periods import parse_datetime

TEXT, WHOLE_NUMBER, NUMBER, BOOLEAN, DATE_TIME = (
    "text",
    "whole-number",
    "number",
    "boolean",
    "date-time",
)
FIELD_TYPES = (TEXT, WHOLE_NUMBER, NUMBER, BOOLEAN, DATE_TIME)
TYPE_NAMES = {
    TEXT: "text",
    WHOLE_NUMBER: "whole number",
    NUMBER: "number",
    BOOLEAN: "true or false",
    DATE_TIME: "date and time",
}
# The JSON type (DataSet.field_types' names) a value of each declared type is stored as.
STORED_AS = {
    TEXT: "string",
    WHOLE_NUMBER: "number",
    NUMBER: "number",
    BOOLEAN: "boolean",
    DATE_TIME: "string",
}
# A standard type's FieldSpec.type -> the declared type.
_SPEC_TYPES = {"string": TEXT, "integer": WHOLE_NUMBER, "number": NUMBER}

MAX_FIELDS = 200
MAX_NAME_LENGTH = 100
MAX_ALLOWED_VALUES = 100
MAX_ALLOWED_VALUE_LENGTH = 200
MAX_DESCRIPTION_LENGTH = 500


@dataclass(frozen=True)
class FieldDeclaration:
    """One declared field of a data set."""

    name: str
    # One of FIELD_TYPES: text, whole-number, number, boolean, date-time.
    type: str
    required: bool = False
    # For text fields: the only values it may hold (none: any).
    allowed_values: tuple[str, ...] = ()
    description: str = ""
    # False while the field is only proposed from the data (the team has not confirmed it):
    # writes are checked against confirmed fields only.
    confirmed: bool = True
    # Standard types only: the smallest value, and the value filled in when none is given.
    minimum: float | None = None
    default: object = None

    @property
    def type_name(self) -> str:
        return TYPE_NAMES[self.type]

    def as_dict(self) -> dict:
        """The declaration as plain JSON (what DataSet.field_declarations keeps)."""
        return {
            "name": self.name,
            "type": self.type,
            "required": self.required,
            "allowed_values": list(self.allowed_values),
            "description": self.description,
            "confirmed": self.confirmed,
        }

    @classmethod
    def from_dict(cls, item: dict) -> "FieldDeclaration":
        return cls(
            name=item["name"],
            type=item["type"],
            required=bool(item.get("required", False)),
            allowed_values=tuple(item.get("allowed_values") or ()),
            description=item.get("description", ""),
            confirmed=bool(item.get("confirmed", True)),
        )


@cache
def from_spec(spec) -> FieldDeclaration:
    """A standard type's FieldSpec as a declaration (cached: the type checks every record
    with it)."""
    return FieldDeclaration(
        name=spec.name,
        type=_SPEC_TYPES[spec.type],
        required=spec.required,
        allowed_values=tuple(spec.choices),
        description=spec.description,
        minimum=spec.minimum,
        default=spec.default,
    )


def declared_fields(data_set) -> list[FieldDeclaration]:
    """The data set's declared fields, in order: its standard type's, or those proposed from
    its data and confirmed or edited by its team."""
    from .types import TYPES

    data_set_type = TYPES.get(data_set.standard_type)
    if data_set_type is not None:
        return [from_spec(spec) for spec in data_set_type.fields]
    return [FieldDeclaration.from_dict(item) for item in data_set.field_declarations or ()]


def confirmed_fields(data_set) -> tuple[FieldDeclaration, ...]:
    """The confirmed declarations a free-form data set's writes are checked against (a
    standard type's records are checked by the type itself, datasets.types.apply_type)."""
    if data_set.standard_type:
        return ()
    return tuple(
        FieldDeclaration.from_dict(item)
        for item in data_set.field_declarations or ()
        if item.get("confirmed", True)
    )


def needs_conversion(data_set) -> list[str]:
    """The declared fields that have held values of another JSON type than their declared
    type's (DataSet.field_types): "1200" as text in a whole-number field, say. Their stored
    values can be converted (datasets.stored_values)."""
    seen = data_set.field_types or {}
    found = []
    for declaration in declared_fields(data_set):
        stored = set(seen.get(declaration.name, ())) - {"null"}
        if stored - {STORED_AS[declaration.type]}:
            found.append(declaration.name)
    return found


# checking a value


def field_problem(declaration: FieldDeclaration, value) -> str | None:
    """What is wrong with `value` (as a record holds it: JSON types) for the declared field,
    or None. A missing value is None."""
    name = declaration.name
    if value is None:
        return f"field {name!r} is required" if declaration.required else None
    kind = declaration.type
    if kind == TEXT:
        if type(value) is not str:
            return f"field {name!r} must be text, not {value!r}"
        allowed = declaration.allowed_values
        if allowed and value not in allowed:
            return f"field {name!r} must be one of {', '.join(allowed)}, not {value!r}"
        return None
    if kind == BOOLEAN:
        return (
            None if type(value) is bool else f"field {name!r} must be true or false, not {value!r}"
        )
    if kind == DATE_TIME:
        try:
            parse_datetime(value)
        except ValueError:
            return (
                f"field {name!r} must be a date and time with a UTC offset, such as "
                f"2024-01-31T00:00:00Z, not {value!r}"
            )
        return None
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    if kind == WHOLE_NUMBER and not (is_number and float(value).is_integer()):
        return f"field {name!r} must be a whole number, not {value!r}"
    if kind == NUMBER and not is_number:
        return f"field {name!r} must be a number, not {value!r}"
    if declaration.minimum is not None and value < declaration.minimum:
        return f"field {name!r} must be {declaration.minimum:g} or more, not {value!r}"
    return None


def declaration_problems(declarations, record: dict) -> list[tuple[str, str]]:
    """The (field, message) problems of one record against declarations."""
    problems = []
    for declaration in declarations:
        problem = field_problem(declaration, record.get(declaration.name))
        if problem:
            problems.append((declaration.name, problem))
    return problems


# the team's declarations


def _bad(message: str) -> InvalidRequest:
    return InvalidRequest(message, field="fields")


def check_declarations(items) -> list[FieldDeclaration]:
    """A team's declarations (a list of {name, type, required, allowed_values, description})
    checked and confirmed; InvalidRequest naming the first problem."""
    if not isinstance(items, list):
        raise _bad("fields must be a list of fields, each with a name and a type")
    if len(items) > MAX_FIELDS:
        raise _bad(f"A data set can declare at most {MAX_FIELDS} fields, not {len(items)}")
    declared, names = [], set()
    for position, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            raise _bad(f"Field {position} must be an object with a name and a type")
        unknown = set(item) - {"name", "type", "required", "allowed_values", "description"}
        if unknown:
            raise _bad(f"Field {position} has unknown key(s): {', '.join(sorted(unknown))}")
        name = item.get("name")
        if not isinstance(name, str) or not IDENTIFIER.fullmatch(name) or name.startswith("_"):
            raise _bad(
                f"Field {position}: the name {name!r} must be letters, digits and _, starting "
                "with a letter"
            )
        if len(name) > MAX_NAME_LENGTH:
            raise _bad(f"Field {position}: a name can be at most {MAX_NAME_LENGTH} characters")
        if name in names:
            raise _bad(f"The field {name!r} is declared twice")
        names.add(name)
        kind = item.get("type")
        if kind not in FIELD_TYPES:
            raise _bad(f"The type of field {name!r} must be one of {', '.join(FIELD_TYPES)}")
        required = item.get("required", False)
        if not isinstance(required, bool):
            raise _bad(f"required of field {name!r} must be true or false")
        allowed = _allowed_values(name, kind, item.get("allowed_values") or [])
        description = item.get("description", "")
        if not isinstance(description, str) or len(description) > MAX_DESCRIPTION_LENGTH:
            raise _bad(
                f"The description of field {name!r} must be text of at most "
                f"{MAX_DESCRIPTION_LENGTH} characters"
            )
        declared.append(
            FieldDeclaration(name, kind, required, allowed, description.strip(), confirmed=True)
        )
    return declared


def _allowed_values(name: str, kind: str, values) -> tuple[str, ...]:
    if not values:
        return ()
    if kind != TEXT:
        raise _bad(
            f"Only text fields can have allowed values, and {name!r} is a {TYPE_NAMES[kind]}"
        )
    if not isinstance(values, list) or not all(isinstance(value, str) for value in values):
        raise _bad(f"The allowed values of field {name!r} must be a list of text")
    if len(values) > MAX_ALLOWED_VALUES:
        raise _bad(f"Field {name!r} can have at most {MAX_ALLOWED_VALUES} allowed values")
    cleaned = []
    for value in values:
        value = value.strip()
        if not value or len(value) > MAX_ALLOWED_VALUE_LENGTH or "\x00" in value:
            raise _bad(
                f"Each allowed value of field {name!r} must be 1 to {MAX_ALLOWED_VALUE_LENGTH} "
                "characters"
            )
        if value not in cleaned:
            cleaned.append(value)
    return tuple(cleaned)


def with_proposals(current: list[dict], proposals) -> list[dict] | None:
    """The stored declarations with proposals for fields not declared yet added (up to
    MAX_FIELDS declarations in all), or None when none is new."""
    known = {item["name"] for item in current}
    new = [proposal.as_dict() for proposal in proposals if proposal.name not in known]
    new = new[: max(0, MAX_FIELDS - len(current))]
    if not new:
        return None
    return [*current, *new]
