"""The header -> field mapping of an upload: what the person chose for it, else what the data
set's last mapping said (HeaderMapping), else the defaults of ingest.mapping.default_mapping.
"""

from perfplat.datasets.models import DataSet
from perfplat.ingest.mapping import default_mapping, field_plan

from .models import HeaderMapping


def saved_mapping(data_set: DataSet) -> dict:
    row = HeaderMapping.objects.filter(data_set=data_set).first()
    return row.mapping if row else {}


def mapping_for(data_set: DataSet, headers, chosen: dict | None = None) -> dict[str, str]:
    """header -> field: what was chosen for this upload, else the data set's saved mapping,
    else the defaults (see ingest.mapping.default_mapping)."""
    plan = field_plan(data_set)
    mapping = default_mapping(headers, plan.fields, saved_mapping(data_set), plan.free_form)
    for header, field in (chosen or {}).items():
        if header in mapping:
            mapping[header] = field
    return mapping
