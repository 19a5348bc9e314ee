"""GOV.UK Frontend helpers for templates: `{% load govuk %}`.

The component includes in templates/frontend/components/ use these; pages rarely need them:

- `field|govuk_kind`: how `field.html` lays a form field out ("input", "select", "textarea",
  "file", "checkbox", "checkboxes", "radios" or "hidden").
- `{% govuk_widget field hint=... classes=... %}`: the field's input, select or textarea with
  GOV.UK classes, their `--error` modifiers and `aria-describedby` naming its hint and error.
- `{% govuk_describedby field hint %}`: the ids of the field's hint and error message.
- `{% govuk_options field %}`: the options of a checkboxes or radios field, the first with the
  field's own id so that the error summary's `#id_<field>` link lands on it.
- `field|govuk_error_href`: where an error summary item for the field links to.
- `phase|phase_tag_class`: the tag colour class of a service phase.
- `rows|govuk_any:"href"`: whether any row has the attribute or key.
- `{% service_navigation request %}`: the items of the header's service navigation.
"""

from django import forms, template

register = template.Library()

# A distinct GOV.UK tag colour for each service phase (SPEC.md section 2). Beta keeps the default
# blue tag, as in the phase banner.
PHASE_TAG_CLASSES = {
    "discovery": "govuk-tag--purple",
    "alpha": "govuk-tag--pink",
    "beta": "",
    "live": "govuk-tag--green",
    "retired": "govuk-tag--grey",
}

# The header's service navigation: (text, path). Paths, not `{% url %}` names, because most of
# these pages belong to apps that do not exist yet.
SERVICE_NAVIGATION = [
    ("Services", "/services"),
    ("Compare", "/compare"),
    ("Manage", "/manage/"),
]

WIDGET_CLASSES = {
    "input": "govuk-input",
    "select": "govuk-select",
    "textarea": "govuk-textarea",
    "file": "govuk-file-upload",
    "checkbox": "govuk-checkboxes__input",
}
# Widgets whose GOV.UK class has an --error modifier (the file upload's has none).
ERROR_MODIFIED = {"input", "select", "textarea"}


@register.filter
def govuk_kind(field) -> str:
    widget = field.field.widget
    if field.is_hidden:
        return "hidden"
    # CheckboxSelectMultiple is a RadioSelect, so it is tested first.
    if isinstance(widget, forms.CheckboxSelectMultiple):
        return "checkboxes"
    if isinstance(widget, forms.RadioSelect):
        return "radios"
    if isinstance(widget, forms.CheckboxInput):
        return "checkbox"
    if isinstance(widget, forms.Select):
        return "select"
    if isinstance(widget, forms.Textarea):
        return "textarea"
    if isinstance(widget, forms.FileInput):
        return "file"
    return "input"


def hint_text(field, hint=None):
    return field.help_text if hint is None else hint


@register.simple_tag
def govuk_describedby(field, hint=None) -> str:
    ids = []
    if hint_text(field, hint):
        ids.append(f"{field.auto_id}-hint")
    if field.errors:
        ids.append(f"{field.auto_id}-error")
    return " ".join(ids)


@register.simple_tag
def govuk_widget(field, hint=None, classes=""):
    kind = govuk_kind(field)
    if kind not in WIDGET_CLASSES:
        return field.as_widget()
    base = WIDGET_CLASSES[kind]
    css = [base]
    if field.errors and kind in ERROR_MODIFIED:
        css.append(f"{base}--error")
    css.extend(c for c in (field.field.widget.attrs.get("class"), classes) if c)
    attrs = {"class": " ".join(css)}
    described = govuk_describedby(field, hint)
    if described:
        attrs["aria-describedby"] = described
    return field.as_widget(attrs=attrs)


@register.simple_tag
def govuk_options(field) -> list[dict]:
    options = []
    for index, option in enumerate(field.subwidgets):
        data = option.data
        options.append(
            {
                "id": field.auto_id if index == 0 else data["attrs"].get("id", ""),
                "name": data["name"],
                "value": "" if data["value"] is None else str(data["value"]),
                "label": data["label"],
                "checked": data["selected"],
                "disabled": bool(data["attrs"].get("disabled")),
            }
        )
    return options


@register.filter
def govuk_error_href(field) -> str:
    # Checkboxes and radios have no id_for_label (Django leaves their legend's `for` out); their
    # first option carries the field's id instead (see govuk_options). A multi-widget's
    # id_for_label is its first input's id.
    target = field.id_for_label or field.auto_id
    return f"#{target}" if target else ""


@register.filter
def phase_tag_class(phase) -> str:
    return PHASE_TAG_CLASSES.get(str(phase).lower(), "")


@register.filter
def govuk_any(items, name) -> bool:
    for item in items or ():
        value = item.get(name) if isinstance(item, dict) else getattr(item, name, None)
        if value:
            return True
    return False


@register.simple_tag
def service_navigation(request=None) -> list[dict]:
    """The navigation items, each with `current` (this page) or `active` (a page below it)."""
    # Without a request (the 500 page) the template passes "": no item is current.
    path = getattr(request, "path", "")
    items = []
    for text, href in SERVICE_NAVIGATION:
        current = path == href
        below = path.startswith(href.rstrip("/") + "/")
        items.append({"text": text, "href": href, "current": current, "active": below})
    return items
