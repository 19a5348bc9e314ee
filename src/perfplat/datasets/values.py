"""How a value of each declared field type may be written in a spreadsheet cell, a collector's
response or a stored record, and how it is read (the conventions the README lists).

Each `read_*` function takes what a cell holds (text, an int or float, a bool, a date or
datetime from a workbook) and gives the value to store, or a `ValueProblem`: a str whose text
says, for the person who wrote the cell, what is wrong ("'12x' is not a whole number").
`infer_type` picks the declared type a column's values all fit, which is how a free-form data
set's fields are proposed from its first data. Plain functions: nothing here needs the
database.
"""

import re
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from .fields import BOOLEAN, DATE_TIME, NUMBER, TEXT, WHOLE_NUMBER, FieldDeclaration

# Floats hold every whole number below this exactly; a longer whole number is rather an
# identifier (and would not survive a float).
EXACT = 2**53
DATE_HINT = (
    "write dates like 2024-01-31 or 31/01/2024 (with a time if needed, like "
    "2024-01-31T09:30:00Z or 31/01/2024 09:30), or make the cell a date"
)
BOOLEAN_HINT = "write true, false, yes, no, 1 or 0"
TRUE_TEXT = frozenset(("true", "yes", "1"))
FALSE_TEXT = frozenset(("false", "no", "0"))

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_ISO_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}.*")
_UK_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?")
# An optional sign, an optional leading £ (the sign may come before or after it), digits with
# or without thousands separators in groups of three, an optional fraction, an optional %.
_NUMBER = re.compile(r"([-+]?)(£?)([-+]?)(\d{1,3}(?:,\d{3})+|\d*)(\.\d+)?(%?)")
# "007", "-01": written with a leading zero, so a code rather than a number.
_LEADING_ZERO = re.compile(r"[-+]?0\d")


class ValueProblem(str):
    """A reader's result when the value cannot be read as the type: the problem's text."""


def display(value) -> str:
    """A cell's value as text, as people see it in their spreadsheet (for a row error)."""
    if type(value) is float and value.is_integer():
        return str(int(value))
    if isinstance(value, date | datetime):
        return value.isoformat()
    return "" if value is None else str(value)


def _shown(value) -> str:
    return repr(display(value))


# date-time


def _utc_text(moment: datetime) -> str:
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return (
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}T"
        f"{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}Z"
    )


def read_date_time(value):
    """A date or date-time as ISO 8601 text in UTC (`2024-01-31T00:00:00Z`): date cells, ISO
    8601 text and UK day/month/year text. Dates and date-times without an offset are UTC."""
    kind = type(value)
    if kind is datetime:
        return _utc_text(value)
    if kind is date:
        return f"{value.isoformat()}T00:00:00Z"
    if kind is str:
        text = value.strip()
        if _ISO_DATE.fullmatch(text):
            try:
                return f"{date.fromisoformat(text).isoformat()}T00:00:00Z"
            except ValueError:
                return ValueProblem(f"{_shown(value)} is not a real date")
        if _ISO_DATETIME.fullmatch(text):
            try:
                return _utc_text(datetime.fromisoformat(text))
            except ValueError:
                return ValueProblem(f"{_shown(value)} is not a date: {DATE_HINT}")
        match = _UK_DATE.fullmatch(text)
        if match:
            day, month, year, hour, minute, second = match.groups()
            try:
                moment = datetime(
                    int(year),
                    int(month),
                    int(day),
                    int(hour or 0),
                    int(minute or 0),
                    int(second or 0),
                )
            except ValueError:
                return ValueProblem(
                    f"{_shown(value)} is not a real date (dates are day/month/year)"
                )
            return _utc_text(moment)
        return ValueProblem(f"{_shown(value)} is not a date: {DATE_HINT}")
    if kind in (int, float):
        return ValueProblem(
            f"{_shown(value)} is a number, not a date: format the cell as a date, or write the "
            "date like 2024-01-31"
        )
    return ValueProblem(f"{_shown(value)} is not a date: {DATE_HINT}")


# numbers


def whole(value: float):
    """12.0 (how workbooks hold every number) as 12, so that a record's values, and the _id
    made from them, are the same whether they came from a workbook or a CSV file."""
    if value.is_integer() and -EXACT < value < EXACT:
        return int(value)
    return value


def _too_large(value) -> ValueProblem:
    return ValueProblem(
        f"{_shown(value)} is too large: whole numbers must be between -{EXACT - 1:,} and "
        f"{EXACT - 1:,}"
    )


def _not_numeric(value, whole_only: bool) -> ValueProblem:
    return ValueProblem(f"{_shown(value)} is not {'a whole number' if whole_only else 'a number'}")


def _exact_int(number: int, value):
    return number if -EXACT < number < EXACT else _too_large(value)


def _read_numeric(value, whole_only: bool):
    """The number a cell holds or its text writes, or a ValueProblem."""
    kind = type(value)
    if kind is int:
        return _exact_int(value, value)
    if kind is float:
        if value != value or value in (float("inf"), float("-inf")):
            return _not_numeric(value, whole_only)
        result = whole(value)
        if whole_only and type(result) is not int:
            return _too_large(value) if value.is_integer() else _not_numeric(value, whole_only)
        return result
    if kind is not str:
        return _not_numeric(value, whole_only)
    text = value.strip()
    if text.isascii() and text.isdigit():
        # The common case, "1200", without the pattern.
        return _exact_int(int(text), value)
    match = _NUMBER.fullmatch(text)
    if match is None:
        return _not_numeric(value, whole_only)
    sign, pound, late_sign, digits, fraction, percent = match.groups()
    if (sign and late_sign) or not (digits or fraction) or (pound and percent):
        return _not_numeric(value, whole_only)
    if whole_only and (pound or percent):
        return _not_numeric(value, whole_only)
    written = (sign or late_sign) + (digits.replace(",", "") or "0")
    if not (fraction or percent):
        return _exact_int(int(written), value)
    number = Decimal(written + (fraction or ""))
    if percent:
        # 12% is twelve hundredths, as a workbook holds a cell formatted as a percentage.
        number /= 100
    if number == number.to_integral_value():
        return _exact_int(int(number), value)
    if whole_only:
        return _not_numeric(value, whole_only)
    return float(number)


def read_whole_number(value):
    """A whole number: an int, a float with nothing after the point, or text such as "1,200",
    " 12 ", "-3" or "12.0". Not "12.5", "£12" or "12%"."""
    return _read_numeric(value, whole_only=True)


def read_number(value):
    """A number: an int or float, or text such as "1,200.50", "£1,200.50", "-£5", ".5" or
    "12%" (0.12)."""
    return _read_numeric(value, whole_only=False)


# booleans and text


def read_boolean(value):
    """True or false: a boolean cell, 1 or 0, or the text true, false, yes, no, 1 or 0 in any
    case."""
    kind = type(value)
    if kind is bool:
        return value
    if kind in (int, float) and value in (0, 1):
        return value == 1
    if kind is str:
        text = value.strip().casefold()
        if text in TRUE_TEXT:
            return True
        if text in FALSE_TEXT:
            return False
    return ValueProblem(f"{_shown(value)} is not true or false: {BOOLEAN_HINT}")


def read_text(value):
    """Text: trimmed; a number cell as its text ("12", not "12.0"); a boolean as true or
    false; a date cell as its ISO 8601 text."""
    kind = type(value)
    if kind is str:
        return value.strip()
    if kind is bool:
        return "true" if value else "false"
    if kind is float:
        return str(int(value)) if value.is_integer() else repr(value)
    if kind is int:
        return str(value)
    if kind in (date, datetime):
        return value.isoformat()
    if kind in (time, timedelta):
        return str(value)
    # Anything else (a JSON list or object) is left for validation to refuse.
    return value


READERS = {
    TEXT: read_text,
    WHOLE_NUMBER: read_whole_number,
    NUMBER: read_number,
    BOOLEAN: read_boolean,
    DATE_TIME: read_date_time,
}


# proposing a type

# The order in which types are tried: the first that every value fits is proposed.
_PROPOSAL_ORDER = (WHOLE_NUMBER, NUMBER, BOOLEAN, DATE_TIME)
# When no type fits every value, one that fits this share of them is still proposed: the
# others are then mistakes to correct ("12x" among counts), shown as row errors.
MOSTLY = 0.9


def _fits(field_type: str, value) -> bool:
    if field_type in (WHOLE_NUMBER, NUMBER) and type(value) is str:
        if _LEADING_ZERO.match(value.strip()):
            return False
    return type(READERS[field_type](value)) is not ValueProblem


def _is_empty(value) -> bool:
    # isinstance: a collector's JSON table marks missing keys with a str subclass.
    return value is None or (isinstance(value, str) and not value.strip())


def propose(name: str, values) -> FieldDeclaration | None:
    """A proposed (unconfirmed) declaration of a field from its values in its first data
    (one per record or row; None or blank where it has none): the type most of them read as
    (`infer_type`), required when none is missing. None when it had no value at all."""
    values = list(values)
    try:
        # (type, value): True, 1 and 1.0 are told apart. Counted in C: columns are long.
        counts = Counter(zip(map(type, values), values, strict=True))
    except TypeError:
        # A JSON list or object: unhashable, and never a value of any type but text.
        counts = None
    if counts is None:
        field_type, missing = TEXT, sum(1 for value in values if _is_empty(value))
    else:
        missing = 0
        for key in [key for key in counts if _is_empty(key[1])]:
            missing += counts.pop(key)
        field_type = _type_of(counts)
    if field_type is None:
        return None
    return FieldDeclaration(name, field_type, required=not missing, confirmed=False)


def infer_type(values) -> str | None:
    """The declared type to propose for a field holding `values` (the non-empty values of its
    first data): the first of whole number, number, boolean and date-time that every value
    reads as; else the one most values read as, when at least MOSTLY of them do; else text.
    None when there are no values. Text written with a leading zero ("007") is a code, never
    a number."""
    proposal = propose("_", values)
    return None if proposal is None else proposal.type


def _type_of(counts: Counter) -> str | None:
    total = sum(counts.values())
    if not total:
        return None
    fitting = {}
    for field_type in _PROPOSAL_ORDER:
        fitting[field_type] = sum(n for (_, value), n in counts.items() if _fits(field_type, value))
        if fitting[field_type] == total:
            return field_type
    best = max(_PROPOSAL_ORDER, key=lambda field_type: fitting[field_type])
    return best if fitting[best] >= MOSTLY * total else TEXT


def propose_from_records(records, names) -> list[FieldDeclaration]:
    """Proposed declarations of the fields `names` from the data of the records that first
    hold them: each field's type from its values, required when every record has a value."""
    names = set(names)
    # In the order the data first gives them.
    ordered = dict.fromkeys(key for data in records for key in data if key in names)
    proposals = []
    for name in ordered:
        proposal = propose(name, [data.get(name) for data in records])
        if proposal is not None:
            proposals.append(proposal)
    return proposals
